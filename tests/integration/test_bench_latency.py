"""The latency part of ``loanfund bench run`` on the demo fund: the production server, in
production mode (its session cookie is Secure), on 127.0.0.1; locust users sign in through the
form and request every page; what does not answer 200 is counted as an error."""

import importlib.util

import pytest

from loanfund.bench import latency
from loanfund.bench.run import PAGES
from loanfund.domain.access import SYSTEM
from loanfund.models import db
from loanfund.services.demo import load_demo_fund
from loanfund.services.demo_data import DEMO_PASSWORD
from loanfund.services.file_store import FileStore
from loanfund.services.settings import initialize_fund
from tests.conftest import PG_URL, TODAY, _prepare_postgres, make_app

needs_locust = pytest.mark.skipif(
    importlib.util.find_spec("locust") is None,
    reason="locust is not installed (pip install -e '.[dev]'): the latency bench runs it",
)
#: Production refuses the development secrets; these are long enough and only for this test.
PRODUCTION = {
    "ENV": "production",
    "SECRET_KEY": "bench-latency-test-secret-key-0123456789",
    "SECURITY_PASSWORD_SALT": "bench-latency-test-password-salt-0123456789",
    "TOTP_SECRET": "bench-latency-test-totp-secret-0123456789",
}
#: A path the app does not have: each request to it must come back as an error.
MISSING = {"missing page": "/no-such-page"}


@pytest.fixture(scope="module")
def fund(tmp_path_factory):
    """The demo fund, its passwords hashed with the production salt the server will use; the
    server's settings and the ids of its loans."""
    folder = tmp_path_factory.mktemp("latency")
    if PG_URL:
        _prepare_postgres()
    application = make_app(folder, **PRODUCTION)
    with application.app_context(), application.test_request_context():
        from flask_security import hash_password

        if not PG_URL:
            db.create_all()
        initialize_fund(
            db.session,
            actor=SYSTEM,
            fund_name="Test Fund",
            currency="VND",
            timezone="Asia/Ho_Chi_Minh",
        )
        load_demo_fund(
            db.session,
            hash_password=hash_password,
            today=TODAY,
            store=FileStore(folder / "uploads"),
        )
        url = db.engine.url.render_as_string(hide_password=False)
        db.session.remove()
    loan_ids = latency.spread_loan_ids(application)
    with application.app_context():
        db.engine.dispose()
    settings = {
        "DATABASE_URL": url,
        "UPLOAD_DIR": str(folder / "uploads"),
        "EXPORT_DIR": str(folder / "exports"),
        **PRODUCTION,
    }
    return settings, loan_ids


def _measure(fund, *, password, users, seconds):
    settings, loan_ids = fund
    return latency.measure_latency(
        settings,
        email="admin@demo.quyhtx.vn",
        password=password,
        loan_ids=loan_ids,
        pages={**PAGES, **MISSING},
        users=users,
        seconds=seconds,
        think_seconds=0.05,
        threads=4,
    )


@needs_locust
def test_every_page_answers_every_user_and_a_missing_page_counts_as_errors(fund):
    figures = _measure(fund, password=DEMO_PASSWORD, users=(2,), seconds=3)
    assert figures["env"] == "production"
    assert figures["server"].startswith("waitress")
    (phase,) = figures["phases"]
    assert phase["users"] == 2 and phase["signed_in"] == 2 and phase["sign_in_errors"] == []
    assert phase["seconds"] >= 3
    assert set(phase["pages"]) == set(PAGES) | set(MISSING)
    for name in PAGES:
        page = phase["pages"][name]
        assert page["requests"] > 0, name
        assert page["errors"] == 0 and page["statuses"] == {"200": page["requests"]}, (name, page)
        assert page["failures"] == [], name
        assert 0 < page["p50_ms"] <= page["p95_ms"] <= page["p99_ms"], (name, page)
    # Each user goes through the pages in turn, so it asked for the missing one too: a 404,
    # and every such request is an error, the only errors of the phase.
    missing = phase["pages"]["missing page"]
    assert missing["requests"] > 0 and missing["statuses"] == {"404": missing["requests"]}
    assert missing["errors"] == missing["requests"] == phase["errors"]
    assert phase["requests"] == sum(page["requests"] for page in phase["pages"].values())
    lines = list(latency.table(figures))
    assert any(line.split()[1:2] == ["dashboard"] for line in lines), lines


def test_percentiles_are_values_measured_by_nearest_rank():
    # Nearest rank (the smallest value with at least p % at or below it), worked by hand:
    # of 1..100, the 50th, 95th and 99th values; of 1..10, ranks ceil(5) = 5, ceil(9.5) = 10.
    hundred = [float(n) for n in range(100, 0, -1)]  # unsorted on purpose
    assert [latency.percentile(hundred, p) for p in (50, 95, 99)] == [50, 95, 99]
    ten = [float(n) for n in range(1, 11)]
    assert [latency.percentile(ten, p) for p in (50, 95, 99)] == [5, 10, 10]
    assert latency.percentile([7.0], 99) == 7.0
    with pytest.raises(ValueError):
        latency.percentile([], 50)
