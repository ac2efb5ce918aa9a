"""A real browser against the production server: every demo role signs in and sees its home,
with no Content-Security-Policy violation or missing asset on the way."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import threading
from collections.abc import Iterator

import pytest

from loanfund.domain.access import SYSTEM
from loanfund.models import db
from loanfund.services.demo import load_demo_fund
from loanfund.services.demo_data import DEMO_PASSWORD
from loanfund.services.settings import initialize_fund
from tests.conftest import PG_URL, make_app

CHROMIUM = (
    os.environ.get("LOANFUND_CHROMIUM")
    or shutil.which("chromium")
    or shutil.which("chromium-browser")
)
REQUIRED = os.environ.get("LOANFUND_REQUIRE_E2E") == "1"

if not CHROMIUM and REQUIRED:
    raise RuntimeError("LOANFUND_REQUIRE_E2E=1 but no Chromium was found")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM,
        reason="Chromium not installed (Debian: apt-get install chromium; .ci/run does)",
    ),
    pytest.mark.skipif(bool(PG_URL), reason="browser tests run once, on the SQLite pass"),
]


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import waitress

    app = make_app(tmp_path_factory.mktemp("e2e"), DEFAULT_LOCALE="vi", LANGUAGES=["vi", "en"])
    with app.app_context():
        db.create_all()
        initialize_fund(
            db.session,
            actor=SYSTEM,
            fund_name="Quỹ demo",
            currency="VND",
            timezone="Asia/Ho_Chi_Minh",
        )
        from flask_security import hash_password

        with app.test_request_context():
            load_demo_fund(db.session, hash_password=hash_password, today=dt.date(2026, 11, 23))
        db.session.remove()
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield instance
        instance.close()


ROLES = [
    ("admin@demo.quyhtx.vn", "staff-home", "Nguyễn Thị Lan"),
    ("officer@demo.quyhtx.vn", "staff-home", "Trần Văn Minh"),
    ("approver@demo.quyhtx.vn", "staff-home", "Lê Quang Huy"),
    ("inspector@demo.quyhtx.vn", "staff-home", "Phạm Thị Hoa"),
    ("auditor@demo.quyhtx.vn", "staff-home", "Hoàng Đức Anh"),
    ("quangphu@demo.quyhtx.vn", "applicant-home", "Võ Văn Phú"),
]


@pytest.mark.parametrize(("email", "home", "name"), ROLES)
def test_each_demo_role_signs_in_and_sees_its_home(server_url, browser, email, home, name):
    context = browser.new_context(locale="vi-VN")
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    page.on(
        "response",
        lambda response: (
            problems.append(f"{response.status} {response.url}") if response.status >= 400 else None
        ),
    )
    page.goto(server_url + "/account/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("[type=submit][name=submit]")
    page.wait_for_selector(f"[data-testid={home}]")
    assert page.inner_text("[data-testid=signed-in-as]") == name
    assert "Đăng xuất" in page.content()  # the Vietnamese interface
    page.click("button:has-text('English')")
    page.wait_for_selector("button:has-text('Sign out')")
    page.click("button:has-text('Sign out')")
    page.wait_for_selector("a:has-text('Sign in')")
    assert problems == []
    context.close()


def test_the_menu_collapses_and_opens_on_a_phone(server_url, browser):
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="vi-VN")
    page = context.new_page()
    page.goto(server_url + "/account/login")
    page.fill("input[name=email]", "officer@demo.quyhtx.vn")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("[type=submit][name=submit]")
    page.wait_for_selector("[data-testid=staff-home]")
    assert not page.is_visible("#nav a[href='/cooperatives/']")
    page.click(".navbar-toggler")
    page.wait_for_selector("#nav a[href='/cooperatives/']", state="visible")
    context.close()
