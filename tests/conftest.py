"""Fixtures shared by every test: the app on a fresh database, clients, factories.

The suite runs on SQLite by default (a new file per test). With LOANFUND_TEST_DATABASE_URL
pointing to a PostgreSQL database, it runs there instead: tables are created once and
emptied before each test.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from loanfund import create_app
from loanfund.domain.access import SYSTEM
from loanfund.domain.cooperatives import CooperativeProfile, CooperativeStatus, LegalType
from loanfund.domain.roles import Role
from loanfund.models import Base, Cooperative, User, db
from loanfund.services.accounts import NewUser, create_user
from loanfund.services.cooperatives import change_cooperative_status, create_cooperative
from loanfund.services.settings import initialize_fund

PG_URL = os.environ.get("LOANFUND_TEST_DATABASE_URL", "")
if os.environ.get("LOANFUND_REQUIRE_POSTGRES") == "1" and not PG_URL.startswith("postgresql"):
    raise RuntimeError(
        "LOANFUND_REQUIRE_POSTGRES=1 but LOANFUND_TEST_DATABASE_URL is not PostgreSQL"
    )
PASSWORD = "correct-horse-battery"
TODAY = dt.date(2026, 11, 23)

_pg_schema_ready = False


@pytest.fixture(scope="session")
def password_hash(tmp_path_factory: Any) -> str:
    """One password hash, made by Flask-Security, for every test user (hashing is slow)."""
    from flask_security import hash_password

    application = make_app(tmp_path_factory.mktemp("hash"))
    with application.test_request_context():
        return hash_password(PASSWORD)


def _prepare_postgres() -> None:
    global _pg_schema_ready
    engine = create_engine(PG_URL)
    with engine.begin() as connection:
        if not _pg_schema_ready:
            Base.metadata.drop_all(connection)
            connection.execute(text("DROP FUNCTION IF EXISTS audit_event_append_only() CASCADE"))
            Base.metadata.create_all(connection)
            _pg_schema_ready = True
        else:
            tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


def make_app(tmp_path: Any, **overrides: Any) -> Flask:
    url = PG_URL or f"sqlite:///{tmp_path / 'test.sqlite3'}"
    settings = {
        "DATABASE_URL": url,
        "TESTING": True,
        "DEFAULT_LOCALE": "en",
        "LANGUAGES": ["en", "vi"],
        "PUBLIC_BASE_URL": "https://fund.example.vn",
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "EXPORT_DIR": str(tmp_path / "exports"),
        **overrides,
    }
    return create_app(settings)


@pytest.fixture
def app(tmp_path: Any) -> Iterator[Flask]:
    if PG_URL:
        _prepare_postgres()
    application = make_app(tmp_path)
    with application.app_context():
        if not PG_URL:
            db.create_all()
        initialize_fund(
            db.session,
            actor=SYSTEM,
            fund_name="Test Fund",
            currency="VND",
            timezone="Asia/Ho_Chi_Minh",
        )
        yield application
        db.session.remove()
        db.engine.dispose()


class RequestClient(FlaskClient):
    """A test client for an app whose context the test holds open (for its factories).

    Flask reuses that app context, and so ``g``, for every request; Flask-Login and
    Flask-Babel cache the user and the locale in ``g``. Each request starts with an empty
    ``g``, as in a real server.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        for name in list(g):
            g.pop(name)
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    app.test_client_class = RequestClient
    return app.test_client()


@pytest.fixture
def session(app: Flask) -> Any:
    return db.session


# --- factories -------------------------------------------------------------------------------

_counter = {"n": 0}


def _next() -> int:
    _counter["n"] += 1
    return _counter["n"]


def profile(**changes: Any) -> CooperativeProfile:
    """A valid cooperative profile; each call has its own registration number and tax code."""
    n = _next()
    values: dict[str, Any] = {
        "name": f"HTX Nông nghiệp Thử nghiệm {n}",
        "legal_type": LegalType.COOPERATIVE,
        "registration_no": f"TEST-{n:05d}",
        "tax_code": f"{3300000000 + n:010d}",
        "province": "Thừa Thiên Huế",
        "district": "Quảng Điền",
        "address": "Xã Đan Điền",
        "sector": "Chế biến nông sản",
        "founded_on": dt.date(2015, 3, 12),
        "members_count": 30,
        "women_members": 12,
        "ethnic_minority_members": 2,
        "charter_capital": Decimal("1500000000"),
        "contact_name": "Võ Văn Phú",
        "contact_phone": "0905 123 456",
        "contact_email": f"contact{n}@example.vn",
    }
    values.update(changes)
    return CooperativeProfile(**values)


def make_cooperative(session: Any, *, verified: bool = True, **changes: Any) -> Cooperative:
    cooperative = create_cooperative(session, actor=SYSTEM, profile=profile(**changes), today=TODAY)
    if verified:
        change_cooperative_status(
            session, actor=SYSTEM, cooperative_id=cooperative.id, action="verify"
        )
    return cooperative


def make_user(
    session: Any, password_hash: str, *roles: Role, cooperative: Cooperative | None = None
) -> User:
    n = _next()
    return create_user(
        session,
        actor=SYSTEM,
        new_user=NewUser(
            email=f"user{n}@example.vn", full_name=f"User {n}", password_hash=password_hash
        ),
        roles=set(roles),
        cooperative_id=cooperative.id if cooperative else None,
    )


@pytest.fixture
def factory(session: Any, password_hash: str) -> Any:
    class Factory:
        @staticmethod
        def cooperative(**changes: Any) -> Cooperative:
            return make_cooperative(session, **changes)

        @staticmethod
        def user(*roles: Role, cooperative: Cooperative | None = None) -> User:
            return make_user(session, password_hash, *roles, cooperative=cooperative)

    return Factory()


# --- web helpers -----------------------------------------------------------------------------

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token(client: FlaskClient, url: str = "/account/login") -> str:
    page = client.get(url).get_data(as_text=True)
    match = _CSRF.search(page)
    assert match, f"no CSRF token on {url}"
    return match.group(1) or match.group(2)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> None:
    token = csrf_token(client)
    response = client.post(
        "/account/login", data={"email": email, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


def post_form(
    client: FlaskClient, url: str, data: dict[str, Any], *, page: str | None = None
) -> Any:
    """POST like a browser: take the CSRF token from the page the form is on."""
    token = csrf_token(client, page or url)
    return client.post(url, data={**data, "csrf_token": token})


__all__ = [
    "PASSWORD",
    "TODAY",
    "CooperativeStatus",
    "csrf_token",
    "post_form",
    "profile",
    "sign_in",
]
