"""A real browser against the production server: every demo role signs in and sees its home,
with no Content-Security-Policy violation or missing asset on the way."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import threading
from collections.abc import Iterator

import pytest

from loanfund.config import upload_dir
from loanfund.domain.access import SYSTEM
from loanfund.models import db
from loanfund.services.demo import load_demo_fund
from loanfund.services.demo_data import DEMO_PASSWORD
from loanfund.services.file_store import FileStore
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

    app = make_app(
        tmp_path_factory.mktemp("e2e"),
        DEFAULT_LOCALE="vi",
        LANGUAGES=["vi", "en"],
        # Every test signs in from 127.0.0.1; the throttle has its own test.
        LOGIN_RATE_LIMIT="1000 per minute",
    )
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
            load_demo_fund(
                db.session,
                hash_password=hash_password,
                today=dt.date(2026, 11, 23),
                store=FileStore(upload_dir(app.config["LOANFUND"])),
            )
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


#: The dossier: one PDF per required document (a secured loan).
DOSSIER = (
    "application_form",
    "registration_charter",
    "meeting_resolution",
    "business_plan",
    "financial_statements",
    "project_papers",
    "collateral_papers",
)
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _signed_in(browser, server_url, email, viewport):
    context = browser.new_context(viewport=viewport, locale="en-US")
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on(
        "response",
        lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    page.goto(server_url + "/account/login")  # in English: the browser asks for it
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("[type=submit][name=submit]")
    page.wait_for_selector("[data-testid=signed-in-as]", state="attached")
    return context, page, problems


@pytest.mark.parametrize(
    ("viewport", "representative"),
    [
        ({"width": 1280, "height": 900}, "quangphu@demo.quyhtx.vn"),
        ({"width": 375, "height": 740}, "azakooh@demo.quyhtx.vn"),
    ],
    ids=["desktop", "phone"],
)
def test_apply_appraise_and_approve_with_three_people(
    server_url, browser, viewport, representative
):
    if representative.startswith("azakooh"):
        # Azakooh is still being verified in the demo; the officer verifies it first.
        context, page, problems = _signed_in(
            browser, server_url, "officer@demo.quyhtx.vn", viewport
        )
        page.goto(server_url + "/cooperatives/?status=pending")
        page.click("text=Azakooh")
        page.click("[data-testid=action-verify]")
        page.wait_for_selector("[data-testid=action-verify]", state="detached")
        context.close()
        assert problems == []

    # 1. The cooperative applies and sends its dossier.
    context, page, problems = _signed_in(browser, server_url, representative, viewport)
    page.goto(server_url + "/applications/new")
    page.select_option("#product_id", label="Vay ưu đãi đầu tư máy móc, thiết bị (TB-2026)")
    page.fill("#amount", "300,000,000")
    page.fill("#term_months", "36")
    page.select_option("#purpose", "equipment")
    page.fill("#purpose_description", "A roasting machine and a packaging line.")
    page.fill("#project_description", "Roasted products for supermarkets.")
    page.fill("#project_cost", "500,000,000")
    page.fill("#own_equity", "200,000,000")
    for year in range(5):
        page.fill(f"[name='cash_flows-{year}-revenue']", "400,000,000")
        page.fill(f"[name='cash_flows-{year}-operating_costs']", "250,000,000")
    page.fill("[name='collateral-0-description']", "Workshop, 250 m²")
    page.fill("[name='collateral-0-owner']", "The cooperative")
    page.fill("[name='collateral-0-estimated_value']", "650,000,000")
    page.click("#submit")
    page.wait_for_selector("[data-testid=status]")
    url = page.url
    for kind in DOSSIER:
        page.select_option("#kind", kind)
        page.set_input_files(
            "#file", files=[{"name": f"{kind}.pdf", "mimeType": "application/pdf", "buffer": PDF}]
        )
        page.click("#upload")
        page.wait_for_selector(f"text={kind}.pdf")
    page.click("[data-testid=submit-application]")
    page.wait_for_selector("[data-testid=status]:has-text('submitted')")
    context.close()
    assert problems == []

    # 2. The officer appraises it.
    context, page, problems = _signed_in(browser, server_url, "officer@demo.quyhtx.vn", viewport)
    page.goto(url)
    page.click("[data-testid=start-appraisal]")
    page.wait_for_selector("[data-testid=appraisal-form]")
    for row in range(6):
        page.select_option(f"[name='findings-{row}-result']", "pass")
    page.fill("#credit_check_on", "2026-01-05")
    page.fill("#credit_check_reference", "CIC-E2E")
    page.select_option("#credit_check_result", "clean")
    page.select_option("#recommendation", "approve")
    page.click("#save")
    page.wait_for_selector("[data-testid=complete-appraisal]")
    assert "NPV" in page.content() or "Net present value" in page.content()
    page.click("[data-testid=complete-appraisal]")
    page.wait_for_selector("[data-testid=status]:has-text('appraised')")
    context.close()
    assert problems == []

    # 3. Someone else approves it; the cooperative gets its decision letter.
    context, page, problems = _signed_in(browser, server_url, "approver@demo.quyhtx.vn", viewport)
    page.goto(url + "/decide")
    page.check("input[name=verdict][value=approve]")
    page.click("#decide")
    page.wait_for_selector("[data-testid=status]:has-text('approved')")
    context.close()
    assert problems == []
    context, page, problems = _signed_in(browser, server_url, representative, viewport)
    page.goto(url + "/letter")
    assert "Three hundred million" in page.content()
    context.close()
    assert problems == []


def test_an_inspector_records_a_visit_on_a_phone(server_url, browser):
    import io

    from PIL import Image

    photo = io.BytesIO()
    Image.new("RGB", (320, 240), (30, 140, 60)).save(photo, format="JPEG")
    context, page, problems = _signed_in(
        browser, server_url, "inspector@demo.quyhtx.vn", {"width": 390, "height": 844}
    )
    page.goto(server_url + "/inspections/?tab=planned")
    page.click("[data-testid=open-visit] >> nth=0")
    page.wait_for_selector("[data-testid=visit-form]")
    page.fill("#people_met", "Chủ nhiệm HTX và kế toán")
    page.check("#use-fully")
    page.fill("#amount_verified", "100,000,000")
    page.fill("#progress_pct", "80")
    page.fill("#business_status", "Kho lạnh đã chạy, bưởi bảo quản tốt.")
    page.check("#verdict-compliant")
    page.set_input_files(
        "#photos",
        files=[{"name": "kho-lanh.jpg", "mimeType": "image/jpeg", "buffer": photo.getvalue()}],
    )
    page.click("[data-testid=save-draft]")
    page.wait_for_selector("[data-testid=visit-photos] img")
    page.reload()  # the draft is on the server: nothing typed is lost
    assert page.input_value("#people_met") == "Chủ nhiệm HTX và kế toán"
    assert page.is_checked("#verdict-compliant")
    assert page.locator("[data-testid=visit-photos] img").count() == 1
    page.fill("#signatory", "Nguyễn Văn Đoan")
    page.click("[data-testid=submit-visit]")
    page.wait_for_selector("[data-testid=minutes]")
    assert page.inner_text("[data-testid=verdict]") == "compliant"
    assert "Nguyễn Văn Đoan" in page.content()
    assert problems == []
    context.close()
