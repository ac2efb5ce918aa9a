"""A real browser on an export's page: the script moves the progress bar as the rows are
written and reloads the page once the export has finished, and a list page's "Export to Excel"
posts its own form and opens the export, with no Content-Security-Policy violation on the
way."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import update

from loanfund.domain.access import SYSTEM
from loanfund.domain.exports import ExportKind, ExportStatus
from loanfund.domain.roles import Role
from loanfund.models import ExportJob, db
from loanfund.models.types import utcnow
from loanfund.services.settings import initialize_fund
from tests.conftest import PASSWORD, PG_URL, make_app, make_user
from tests.e2e.test_browser import CHROMIUM

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM,
        reason="Chromium not installed (Debian: apt-get install chromium; .ci/run does)",
    ),
    pytest.mark.skipif(bool(PG_URL), reason="browser tests run once, on the SQLite pass"),
]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, password_hash: str) -> Iterator[Any]:
    import waitress

    folder = tmp_path_factory.mktemp("e2e-exports")
    app = make_app(
        folder,
        EXPORT_DIR=str(folder / "exports"),
        LOGIN_RATE_LIMIT="1000 per minute",
    )
    with app.app_context():
        db.create_all()
        initialize_fund(
            db.session, actor=SYSTEM, fund_name="Quỹ", currency="VND", timezone="Asia/Ho_Chi_Minh"
        )
        admin = make_user(db.session, password_hash, Role.ADMIN)
        email, admin_id = admin.email, admin.id
        db.session.remove()
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.effective_port}", email, admin_id
    server.close()


def _set(app: Any, job_id: int, **values: Any) -> None:
    """Change the job as its background writer would."""
    with app.app_context():
        db.session.execute(update(ExportJob).where(ExportJob.id == job_id).values(**values))
        db.session.commit()
        db.session.remove()


def test_the_bar_follows_the_rows_written_and_the_page_shows_the_end(served):
    from playwright.sync_api import sync_playwright

    app, url, email, admin_id = served
    with app.app_context():
        now = utcnow()
        job = ExportJob(
            kind=ExportKind.JOURNAL,
            params={"from": "2026-11-01", "to": "2026-11-23", "locale": "en"},
            requested_by_id=admin_id,
            status=ExportStatus.RUNNING,
            rows_done=150,
            rows_total=600,
            started_at=now,
            progress_at=now,
        )
        db.session.add(job)
        db.session.commit()
        job_id = job.id
        db.session.remove()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(locale="en-US")
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.goto(url + "/account/login")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", PASSWORD)
        page.click("[type=submit][name=submit]")
        page.wait_for_load_state()
        page.goto(url + f"/exports/{job_id}")
        # 150 of 600 rows is 25 %: the bar is a quarter wide.
        assert "pct-25" in page.get_attribute("[data-export-bar]", "class")
        _set(app, job_id, rows_done=450, progress_at=utcnow())
        # 450 of 600 is 75 %: the script moves the bar without reloading the page.
        page.wait_for_selector("[data-export-rows]:has-text('450 of 600 rows')")
        assert "pct-75" in page.get_attribute("[data-export-bar]", "class")
        assert page.get_attribute("[data-export-progress]", "aria-valuenow") == "75"
        _set(app, job_id, status=ExportStatus.FAILED, error="disk full", finished_at=utcnow())
        # Finished: the page reloads and says so.
        page.wait_for_selector("text=The export could not be made.")
        browser.close()
    assert problems == []


def test_export_to_excel_on_a_list_page_posts_its_form_and_opens_the_finished_export(served):
    from playwright.sync_api import sync_playwright

    _app, url, email, _admin_id = served
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(locale="en-US")
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.goto(url + "/account/login")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", PASSWORD)
        page.click("[type=submit][name=submit]")
        page.wait_for_load_state()
        page.goto(url + "/cooperatives/?sort=members&dir=desc")
        # The button sits in the filter bar but submits the export's own POST form.
        page.click("[data-testid=export]")
        page.wait_for_selector("[data-testid=export-download]")
        assert "/exports/" in page.url
        assert page.text_content("h1").startswith("Cooperatives")
        assert "Sorted by: Members, descending" in page.text_content("h1")
        browser.close()
    assert problems == []
