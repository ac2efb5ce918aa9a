"""The authorization matrix: every route × every role (and anonymous) × own / other cooperative.

What each role may do on each route is declared in :data:`MATRIX`, one line per endpoint. The
URL map is the list of routes: a route missing from the table (or a table line whose route is
gone) fails :func:`test_every_route_is_declared_in_the_matrix`, so whoever adds a route decides
who may use it.

Outcomes, for each (route, role):

- a role the table allows gets a page, a redirect or a form's own refusal (200, 302, 400, 409,
  422 — anything but a refusal of access), for its own cooperative's object;
- a representative reaching another cooperative's object gets 404, exactly what an id that
  does not exist gets (the existence of other cooperatives' records is never revealed);
- a role the table does not allow gets 403 (or, for a representative and another
  cooperative's object, the same answer a missing id gets);
- anonymous visitors are sent to sign in.

Every case runs on one demo fund loaded once for the module. Each request runs with the
session's ``commit`` turned into ``flush`` and is rolled back afterwards, so a case that is
allowed to change something changes nothing the next case sees; a refused case must not even
have flushed an audit row or a journal entry. Every page rendered is also checked for the
security headers and for a CSRF token in each of its POST forms.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from loanfund.domain.access import SYSTEM
from loanfund.domain.documents import required_kinds
from loanfund.domain.roles import Role
from loanfund.models import (
    ApplicationDocument,
    AuditEvent,
    Cooperative,
    ExportJob,
    FollowUp,
    Inspection,
    InspectionPhoto,
    JournalEntry,
    LoanApplication,
    LoanProduct,
    OutboxMessage,
    Recall,
    RelatedBorrowers,
    Repayment,
    Restructuring,
    Tranche,
    User,
    db,
)
from loanfund.models import Loan as LoanModel
from loanfund.services.applications import link_related_borrowers
from loanfund.services.demo import demo_pdf, load_demo_fund
from loanfund.services.file_store import FileStore
from loanfund.services.ledger import request_capital_movement
from loanfund.services.outbox import queue_email
from loanfund.services.settings import initialize_fund
from tests.conftest import PG_URL, TODAY, RequestClient, _prepare_postgres, csrf_token, make_app
from tests.conftest import sign_in as _sign_in

A, OF, AP, IN, AD, AU = (
    Role.APPLICANT,
    Role.OFFICER,
    Role.APPROVER,
    Role.INSPECTOR,
    Role.ADMIN,
    Role.AUDITOR,
)

#: Anyone, signed in or not.
PUBLIC = "public"
#: Flask-Security's own account pages: the library decides; any answer but a server error.
LIBRARY = "library"
STAFF = frozenset({OF, AP, IN, AD, AU})
EVERYONE = STAFF | {A}
#: Who reads applications (the inspector visits loans, not dossiers).
READERS = frozenset({A, OF, AP, AD, AU})
QUEUE = frozenset({OF, AP, AD, AU})
BOOKS = frozenset({AP, AD, AU})
AUDIT = frozenset({AD, AU})

#: endpoint → {method: who may use it}. One line per endpoint: a changed route is a one-line edit.
MATRIX: dict[str, dict[str, Any]] = {
    "main.index": {"GET": PUBLIC},
    "main.healthz": {"GET": PUBLIC},
    "main.set_language": {"POST": PUBLIC},
    "main.home": {"GET": EVERYONE},
    "main.dashboard": {"GET": STAFF},
    "main.notifications": {"GET": EVERYONE},
    "main.email_preferences": {"POST": EVERYONE},
    "auth.sign_up": {"GET": PUBLIC, "POST": PUBLIC},
    "calculator.calculator": {"GET": PUBLIC},
    "calculator.download": {"GET": PUBLIC},
    "security.login": {"GET": LIBRARY, "POST": LIBRARY},
    "security.logout": {"POST": LIBRARY},
    "security.change_password": {"GET": EVERYONE, "POST": EVERYONE},
    "security.forgot_password": {"GET": LIBRARY, "POST": LIBRARY},
    "security.reset_password": {"GET": LIBRARY, "POST": LIBRARY},
    "security.two_factor_rescue": {"GET": LIBRARY, "POST": LIBRARY},
    "security.tf_select": {"GET": LIBRARY, "POST": LIBRARY},
    "security.two_factor_setup": {"GET": LIBRARY, "POST": LIBRARY},
    "security.two_factor_setup_validate": {"POST": LIBRARY},
    "security.two_factor_token_validation": {"GET": LIBRARY, "POST": LIBRARY},
    "security.verify": {"GET": LIBRARY, "POST": LIBRARY},
    "admin.audit": {"GET": AUDIT},
    "admin.jobs": {"GET": AUDIT},
    "admin.outbox": {"GET": {AD}},
    "admin.outbox_message": {"GET": {AD}},
    "admin.settings": {"GET": AUDIT, "POST": {AD}},
    "admin.users": {"GET": {AD}},
    "admin.edit_user": {"GET": {AD}, "POST": {AD}},
    "admin.new_user": {"GET": {AD}, "POST": {AD}},
    "applications.index": {"GET": READERS},
    "applications.new": {"GET": {A}, "POST": {A}},
    "applications.detail": {"GET": READERS},
    "applications.edit": {"GET": {A}, "POST": {A}},
    "applications.submit": {"POST": {A}},
    "applications.withdraw": {"POST": {A}},
    "applications.answer": {"POST": {A}},
    "applications.upload": {"POST": {A, OF}},
    "applications.download": {"GET": READERS},
    "applications.delete_document": {"POST": {A}},
    "applications.letter": {"GET": READERS},
    "applications.queue": {"GET": QUEUE},
    "applications.export_queue": {"POST": QUEUE},
    "applications.start_appraisal": {"POST": {OF}},
    "applications.assign_officer": {"POST": {OF}},
    "applications.request_information": {"POST": {OF}},
    "applications.add_note": {"POST": QUEUE},
    "applications.appraise": {"GET": QUEUE, "POST": {OF}},
    "applications.complete_appraisal": {"POST": {OF}},
    "applications.decide": {"GET": {AP}, "POST": {AP}},
    "books.index": {"GET": BOOKS},
    "books.new_capital": {"GET": {AD}, "POST": {AD}},
    "books.approve_capital": {"POST": {AP, AD}},
    "books.cancel_capital": {"POST": {AP, AD}},
    "cooperatives.list_cooperatives": {"GET": STAFF},
    "cooperatives.export_cooperatives": {"POST": STAFF},
    "cooperatives.create": {"GET": {OF, AD}, "POST": {OF, AD}},
    "cooperatives.detail": {"GET": EVERYONE},
    "cooperatives.edit": {"GET": {A, OF, AD}, "POST": {A, OF, AD}},
    "cooperatives.link_related": {"POST": {OF}},
    "cooperatives.unlink_related": {"POST": {OF}},
    "cooperatives.change_status": {"POST": {OF, AD}},
    "cooperatives.invite": {"GET": {OF, AD}, "POST": {OF, AD}},
    "exports.index": {"GET": EVERYONE},
    "exports.request_export": {"POST": BOOKS},
    "exports.status": {"GET": EVERYONE},
    "exports.status_json": {"GET": EVERYONE},
    "exports.download": {"GET": EVERYONE},
    "inspections.index": {"GET": STAFF},
    "inspections.export_visits": {"POST": STAFF},
    "inspections.minutes": {"GET": EVERYONE},
    "inspections.assign": {"POST": {OF, AD}},
    "inspections.visit": {"GET": {IN}, "POST": {IN}},
    "inspections.follow_up_done": {"POST": {OF, IN}},
    "inspections.photo": {"GET": EVERYONE},
    "inspections.remove_photo": {"POST": {IN}},
    "loans.index": {"GET": EVERYONE},
    "loans.export_loans": {"POST": EVERYONE},
    "loans.repayments_list": {"GET": EVERYONE},
    "loans.export_repayments": {"POST": EVERYONE},
    "loans.detail": {"GET": EVERYONE},
    "loans.contract": {"GET": EVERYONE},
    "loans.ledger": {"GET": EVERYONE},
    "loans.recall_notice": {"GET": EVERYONE},
    "loans.receipt": {"GET": EVERYONE},
    "loans.make": {"POST": {OF}},
    "loans.sign": {"POST": {OF}},
    "loans.request_tranche": {"POST": {OF}},
    "loans.tranche_action": {"POST": {AP}},
    "loans.record_repayment": {"POST": {OF}},
    "loans.reverse_repayment": {"POST": {AP}},
    "loans.restructure": {"GET": {OF}, "POST": {OF}},
    "loans.decide_restructuring": {"POST": {AP}},
    "loans.withdraw_restructuring": {"POST": {OF}},
    "loans.plan_inspection": {"POST": {OF, AD}},
    "loans.decide_recall": {"POST": {AP}},
    "products.list_products": {"GET": EVERYONE},
    "products.detail": {"GET": EVERYONE},
    "products.new": {"GET": {AD}, "POST": {AD}},
    "products.edit": {"GET": {AD}, "POST": {AD}},
    "products.change_status": {"POST": {AD}},
}

#: What a POST sends besides its CSRF token: what decides who may do it (an action, a step),
#: or a valid form where the view checks the form before the service checks the role.
FORM_DATA: dict[str, Callable[[], dict[str, Any]]] = {
    "cooperatives.change_status": lambda: {"action": "verify", "expected_status": "verified"},
    "loans.reverse_repayment": lambda: {"step": "approve"},
    "exports.request_export": lambda: {"kind": "portfolio", "as_of": TODAY.isoformat()},
    "books.cancel_capital": lambda: {"reason": "Matrix test"},
    "applications.upload": lambda: {
        "kind": sorted(required_kinds(None, secured=True))[0],
        "file": (io.BytesIO(demo_pdf("Matrix test")), "matrix.pdf"),
    },
}

#: Values of URL arguments that are not object ids.
FIXED_ARGUMENTS = {"action": "approve", "token": "not-a-real-token"}

ROLES: tuple[Role | None, ...] = (None, A, OF, AP, IN, AD, AU)
MISSING_ID = 987_654


# --- the world ----------------------------------------------------------------------------------


@dataclass
class World:
    app: Flask
    #: role → the session cookie of that role's signed-in user (None: anonymous), and its token.
    cookies: dict[Role | None, tuple[str, str]]
    #: URL argument → (own cooperative's object, other cooperative's object), or one id for
    #: fund-level objects.
    ids: dict[str, tuple[int, int] | int]
    #: role → (own export job, another user's export job).
    jobs: dict[Role, tuple[int, int]]


def _first(statement: Any) -> int:
    found = db.session.scalars(statement.limit(1)).first()
    assert found is not None, str(statement)
    return found


def _loan_with(model: Any, cooperative_id: int) -> Any:
    return (
        select(model.id)
        .join(LoanModel, LoanModel.id == model.loan_id)
        .where(LoanModel.cooperative_id == cooperative_id)
        .order_by(model.id)
    )


def _objects_of(cooperative_id: int) -> dict[str, int]:
    """One object of each kind belonging to the cooperative (made where the demo has none)."""
    # A loan paid out (it has inspections), and its first inspection.
    inspection_id = _first(_loan_with(Inspection, cooperative_id))
    loan_id = db.session.get(Inspection, inspection_id).loan_id
    if db.session.scalar(_loan_with(Recall, cooperative_id)) is None:
        db.session.add(Recall(loan_id=loan_id, reason="Matrix test", status="proposed"))
    if db.session.scalar(_loan_with(FollowUp, cooperative_id)) is None:
        db.session.add(
            FollowUp(
                inspection_id=inspection_id,
                loan_id=loan_id,
                action="Matrix test",
                owner="HTX",
                due_on=TODAY,
            )
        )
    if db.session.scalar(_loan_with(Restructuring, cooperative_id)) is None:
        db.session.add(
            Restructuring(
                loan_id=loan_id,
                kind="reschedule",
                request_on=TODAY,
                request_reference="CV 1",
                reason="Matrix test",
                installments=6,
                first_due_on=TODAY,
                proposed_by_id=_first(select(User.id).where(User.email.like("officer@%"))),
            )
        )
    db.session.commit()
    application_id = _first(
        select(LoanApplication.id)
        .where(LoanApplication.cooperative_id == cooperative_id)
        .order_by(LoanApplication.id)
    )
    return {
        "cooperative_id": cooperative_id,
        "application_id": application_id,
        "document_id": _first(
            select(ApplicationDocument.id)
            .join(LoanApplication, LoanApplication.id == ApplicationDocument.application_id)
            .where(LoanApplication.cooperative_id == cooperative_id)
        ),
        "loan_id": loan_id,
        "inspection_id": inspection_id,
        "photo_id": _first(
            select(InspectionPhoto.id)
            .join(Inspection, Inspection.id == InspectionPhoto.inspection_id)
            .join(LoanModel, LoanModel.id == Inspection.loan_id)
            .where(LoanModel.cooperative_id == cooperative_id)
        ),
        "follow_up_id": _first(_loan_with(FollowUp, cooperative_id)),
        "recall_id": _first(_loan_with(Recall, cooperative_id)),
        "restructuring_id": _first(_loan_with(Restructuring, cooperative_id)),
        "repayment_id": _first(_loan_with(Repayment, cooperative_id)),
        "tranche_id": _first(_loan_with(Tranche, cooperative_id)),
        "link_id": _first(
            select(RelatedBorrowers.id).where(RelatedBorrowers.cooperative_id == cooperative_id)
        ),
    }


class _IdleRunner:
    """An export runner that keeps what it is given queued (no thread, no commit)."""

    def submit(self, job_id: int) -> None:
        return None


def _client(app: Flask, cookie: str | None = None) -> FlaskClient:
    client = app.test_client()
    if cookie:
        client.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
    return client


def _session_cookie(app: Flask, client: FlaskClient) -> str:
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    return cookie.value


@pytest.fixture(scope="module")
def world(tmp_path_factory: Any, password_hash: str) -> Iterator[World]:
    tmp_path = tmp_path_factory.mktemp("matrix")
    if PG_URL:
        _prepare_postgres()
    app = make_app(tmp_path)
    app.test_client_class = RequestClient
    with app.app_context():
        if not PG_URL:
            db.create_all()
        session = db.session
        initialize_fund(
            session,
            actor=SYSTEM,
            fund_name="Test Fund",
            currency="VND",
            timezone="Asia/Ho_Chi_Minh",
        )
        load_demo_fund(
            session,
            hash_password=lambda password: password_hash,
            today=TODAY,
            store=FileStore(tmp_path / "uploads"),
        )
        # Own: the cooperative with a recalled loan and decided applications; other: another
        # one with loans. Both verified.
        own, other = (
            _first(select(Cooperative.id).where(Cooperative.name.like(f"%{name}%")))
            for name in ("Diệu Khánh", "Vân Du")
        )
        pending = session.scalars(
            select(Cooperative.id).where(Cooperative.status == "pending").order_by(Cooperative.id)
        ).all()
        for cooperative_id, related_id in zip((own, other), pending, strict=False):
            link_related_borrowers(
                session,
                actor=SYSTEM,
                cooperative_id=cooperative_id,
                related_id=related_id,
                reason="Matrix test",
            )
        mine, theirs = _objects_of(own), _objects_of(other)
        admin = session.scalar(select(User).where(User.email.like("admin@%")))
        queue_email(
            session, kind="test", recipient="x@example.vn", subject="Matrix", body_text="Matrix"
        )
        movement = request_capital_movement(
            session,
            actor=_actor(admin),
            kind="contribution",
            amount=Decimal(1_000_000),
            value_date=TODAY,
            source="Matrix test",
            reference="MT-1",
            today=TODAY,
        )
        ids: dict[str, tuple[int, int] | int] = {name: (mine[name], theirs[name]) for name in mine}
        ids["user_id"] = _first(select(User.id).where(User.email.like("officer@%")))
        ids["message_id"] = _first(select(OutboxMessage.id))
        ids["movement_id"] = movement.id
        ids["product_id"] = _first(select(LoanProduct.id))

        users = {
            A: session.scalar(select(User).where(User.cooperative_id == own).order_by(User.id)),
            **{
                role: session.scalar(select(User).where(User.email.like(f"{role.value}@%")))
                for role in (OF, AP, IN, AD, AU)
            },
        }
        cookies: dict[Role | None, tuple[str, str]] = {}
        anonymous = app.test_client()
        token = csrf_token(anonymous)
        cookies[None] = (_session_cookie(app, anonymous), token)
        own_jobs: dict[Role, int] = {}
        for role, user in users.items():
            client = app.test_client()
            _sign_in(client, user.email)
            token = csrf_token(client, "/exports/")
            # Each user's own finished export (written inline under TESTING).
            asked = client.post("/loans/export", data={"csrf_token": token})
            assert asked.status_code == 302, asked.status_code
            own_jobs[role] = int(asked.location.rstrip("/").rsplit("/", 1)[1])
            assert session.get(ExportJob, own_jobs[role]).store_key
            cookies[role] = (_session_cookie(app, client), token)
        jobs = {role: (own_jobs[role], own_jobs[OF if role is not OF else AP]) for role in own_jobs}
        app.extensions["loanfund_export_runner"] = _IdleRunner()
        session.commit()
        yield World(app=app, cookies=cookies, ids=ids, jobs=jobs)
        db.session.remove()
        db.engine.dispose()
    if PG_URL:
        _prepare_postgres()


def _actor(user: User) -> Any:
    from loanfund.services.accounts import actor_for

    return actor_for(user)


# --- the cases ----------------------------------------------------------------------------------

_ARGUMENT = re.compile(r"<(?:[a-z]+:)?(\w+)>")


def _routes(app: Flask) -> dict[tuple[str, str], str]:
    """(endpoint, method) → URL rule, for every route but static files."""
    routes = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes[(rule.endpoint, method)] = rule.rule
    return routes


def _url(rule: str, world: World, role: Role | None, *, whose: str) -> str:
    """The rule with its arguments filled: ``own``, ``other`` or ``missing`` objects."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in FIXED_ARGUMENTS:
            return FIXED_ARGUMENTS[name]
        if whose == "missing":
            return str(MISSING_ID)
        if name == "job_id":
            own_job, other_job = world.jobs.get(role, world.jobs[AD])  # type: ignore[arg-type]
            return str(own_job if whose == "own" else other_job)
        value = world.ids[name]
        if isinstance(value, tuple):
            return str(value[0] if whose == "own" else value[1])
        return str(value)

    return _ARGUMENT.sub(fill, rule)


#: URL arguments naming an object that belongs to a cooperative.
COOPERATIVE_OBJECTS = frozenset(
    {
        "cooperative_id",
        "application_id",
        "document_id",
        "loan_id",
        "inspection_id",
        "photo_id",
        "follow_up_id",
        "recall_id",
        "restructuring_id",
        "repayment_id",
        "tranche_id",
        "link_id",
    }
)


def _arguments(rule: str) -> set[str]:
    return set(_ARGUMENT.findall(rule))


def _variants(rule: str, role: Role | None) -> tuple[str, ...]:
    """Whose objects ``role`` is tried on: its own, and another's where that differs (a
    representative: another cooperative's; anyone: another user's export)."""
    if role is None:
        return ("own",)
    if "job_id" in _arguments(rule) or (role is A and _arguments(rule) & COOPERATIVE_OBJECTS):
        return ("own", "other")
    return ("own",)


def _outcome(response: Any) -> str:
    status = response.status_code
    location = response.headers.get("Location", "")
    if status in (301, 302, 303, 307, 308) and "/account/login" in location:
        return "login"
    if status == 401:
        return "login"
    if status == 403:
        return "denied"
    if status == 404:
        return "hidden"
    if status >= 500:
        return "error"
    if status == 400 and "security token" in response.get_data(as_text=True):
        return "csrf"
    return "ok"


def _expected(allowed: Any, role: Role | None, *, whose: str, rule: str) -> set[str]:
    """The outcomes the table allows for ``role`` on this route."""
    if allowed == LIBRARY:
        return {"ok", "login", "hidden"} if role is None else {"ok", "login", "hidden", "denied"}
    if allowed == PUBLIC:
        return {"ok"}
    if role is None:
        return {"login"}
    mine = role in allowed
    if whose == "other" and "job_id" in _arguments(rule):
        # Another user's export: not found, except for an administrator.
        return ({"ok"} if role is AD else {"hidden"}) if mine else {"denied"}
    if whose == "other":
        # Another cooperative's object: not found; a role that may not use the route at all
        # may be refused before the object is looked at (the same answer for any id).
        return {"hidden"} if mine else {"hidden", "denied"}
    return {"ok"} if mine else {"denied"}


class _Forms(HTMLParser):
    """The POST forms of a page and whether each carries a CSRF token."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._open: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            self._open = {
                "action": values.get("action") or "",
                "post": (values.get("method") or "get").lower() == "post",
                "token": False,
            }
            self.forms.append(self._open)
        elif tag == "input" and self._open is not None and values.get("name") == "csrf_token":
            self._open["token"] = bool(values.get("value"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None


def _page_problems(response: Any) -> list[str]:
    """Missing security headers, and POST forms without a CSRF token."""
    problems = []
    csp = response.headers.get("Content-Security-Policy", "")
    if "default-src 'self'" not in csp or "frame-ancestors 'none'" not in csp:
        problems.append(f"CSP {csp!r}")
    if response.headers.get("X-Content-Type-Options") != "nosniff":
        problems.append("no nosniff")
    if response.status_code == 200 and response.mimetype == "text/html":
        parser = _Forms()
        parser.feed(response.get_data(as_text=True))
        problems += [
            f"form to {form['action']!r} without a CSRF token"
            for form in parser.forms
            if form["post"] and not form["token"]
        ]
    return problems


def _counts() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count(AuditEvent.id))),
        db.session.scalar(select(func.count(JournalEntry.id))),
    )


def _request(world: World, role: Role | None, method: str, url: str, endpoint: str) -> Any:
    """One request as ``role``, with the session's commits held back and rolled back after.

    Returns the response and whether audit rows or journal entries were written."""
    cookie, token = world.cookies[role]
    client = _client(world.app, cookie)
    real = db.session()
    before = _counts()
    real.commit = real.flush  # type: ignore[method-assign]
    try:
        if method == "GET":
            response = client.get(url)
        else:
            data = {"csrf_token": token, **FORM_DATA.get(endpoint, dict)()}
            response = client.post(url, data=data)
        response.get_data()
        response.close()
        wrote = _counts() != before
    finally:
        del real.commit
        real.rollback()
    return response, wrote


CASES = sorted((endpoint, method) for endpoint, methods in MATRIX.items() for method in methods)


def test_every_route_is_declared_in_the_matrix(world):
    routes = set(_routes(world.app))
    declared = set(CASES)
    assert not routes - declared, f"routes missing from MATRIX: {sorted(routes - declared)}"
    assert not declared - routes, f"MATRIX lines for routes that are gone: {declared - routes}"


@pytest.mark.parametrize(("endpoint", "method"), CASES, ids=[f"{m} {e}" for e, m in CASES])
def test_each_role_gets_what_the_matrix_declares(world, endpoint, method):
    rules = _routes(world.app)
    if (endpoint, method) not in rules:
        pytest.fail(f"{method} {endpoint} is declared in MATRIX but the app has no such route")
    rule = rules[(endpoint, method)]
    allowed = MATRIX[endpoint][method]
    wrong: list[str] = []
    for role in ROLES:
        for whose in _variants(rule, role):
            url = _url(rule, world, role, whose=whose)
            response, wrote = _request(world, role, method, url, endpoint)
            got = _outcome(response)
            label = f"{role.value if role else 'anonymous'} {whose} {method} {url}"
            if got not in _expected(allowed, role, whose=whose, rule=rule):
                wrong.append(f"{label}: got {got} ({response.status_code})")
            if got in ("login", "denied", "hidden") and allowed not in (PUBLIC, LIBRARY) and wrote:
                wrong.append(f"{label}: refused, but wrote an audit row or a journal entry")
            wrong += [f"{label}: {problem}" for problem in _page_problems(response)]
            if whose == "other" and got != "ok":
                missing, _wrote = _request(
                    world, role, method, _url(rule, world, role, whose="missing"), endpoint
                )
                if missing.status_code != response.status_code:
                    wrong.append(
                        f"{label}: another cooperative's object gives {response.status_code}, "
                        f"a missing one {missing.status_code} (its existence shows)"
                    )
    assert not wrong, "\n".join(wrong)


def test_the_matrix_covers_every_role_on_every_route(world):
    """The count for the closing note: routes × roles (and own / other where it applies)."""
    rules = _routes(world.app)
    cases = sum(len(_variants(rules[key], role)) for key in CASES if key in rules for role in ROLES)
    assert len(rules) >= 100 and cases >= len(rules) * len(ROLES)
