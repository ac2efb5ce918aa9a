"""The books pages: who sees them, recording capital, and what a bad entry gets."""

import re
from decimal import Decimal

from sqlalchemy import select

from loanfund.domain.ledger import Account
from loanfund.domain.roles import Role
from loanfund.models import JournalEntry, db
from loanfund.queries.ledger import account_balances
from tests.conftest import TODAY, post_form, sign_in


def _capital_form(**changes):
    values = {
        "amount": "25,000,000,000",
        "kind": "contribution",
        "value_date": "2026-11-20",
        "source": "Provincial budget, initial charter capital",
        "reference": "QĐ 112/QĐ-UBND",
    }
    return {**values, **changes}


def _approve_pending(client, factory):
    """A second person (an approver) approves every pending capital movement."""
    approver = client.application.test_client()
    sign_in(approver, factory.user(Role.APPROVER).email)
    page = approver.get("/books/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    for movement_id in re.findall(r"/books/capital/(\d+)/approve", page):
        approver.post(f"/books/capital/{movement_id}/approve", data={"csrf_token": token})


def test_an_administrator_records_capital_and_everyone_on_staff_sees_it(client, factory):
    admin = factory.user(Role.ADMIN)
    sign_in(client, admin.email)
    response = post_form(client, "/books/capital/new", _capital_form())
    assert response.status_code == 302 and response.location.endswith("/books/")
    assert account_balances(db.session)[Account.CASH] == 0  # recorded, awaiting approval
    page = client.get("/books/").get_data(as_text=True)
    assert 'data-testid="pending-capital"' in page
    assert 'data-testid="approve-capital"' not in page  # not for the one who recorded it
    _approve_pending(client, factory)
    assert account_balances(db.session)[Account.CASH] == Decimal(25_000_000_000)
    books = client.get("/books/").get_data(as_text=True)
    assert "QĐ 112/QĐ-UBND" in books and "25,000,000,000" in books
    # Accounts carry the fund's own numbers (settings; Circular 133 by default).
    assert "1121 · Fund cash" in books and "4111 · Fund capital" in books
    officer = factory.user(Role.OFFICER)
    other = client.application.test_client()
    sign_in(other, officer.email)
    home = other.get("/home").get_data(as_text=True)
    assert 'data-testid="fund-capital">₫25,000,000,000' in home
    assert 'data-testid="available-to-lend">₫25,000,000,000' in home


def test_vietnamese_amounts_are_read_the_vietnamese_way(client, factory):
    admin = factory.user(Role.ADMIN)
    sign_in(client, admin.email)
    post_form(client, "/language", {"locale": "vi", "next": "/home"}, page="/home")
    post_form(client, "/books/capital/new", _capital_form(amount="5.000.000.000"))
    _approve_pending(client, factory)
    # "5.000.000.000" in Vietnamese is five billion, not five.
    assert account_balances(db.session)[Account.FUND_CAPITAL] == Decimal(5_000_000_000)


def test_bad_input_is_explained_and_what_was_typed_is_kept(client, factory):
    sign_in(client, factory.user(Role.ADMIN).email)
    response = post_form(
        client,
        "/books/capital/new",
        _capital_form(amount="12.5", value_date="2026-12-01", reference="GBC 77"),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Amounts in VND have no decimals; 12.5 was entered." in page
    assert 'value="GBC 77"' in page and 'value="12.5"' in page
    response = post_form(client, "/books/capital/new", _capital_form(value_date="2026-12-01"))
    page = response.get_data(as_text=True)
    assert "is in the future" in page and str(TODAY.year) in page
    assert db.session.scalar(select(JournalEntry.id)) is None


def test_only_administrators_record_capital_and_admins_controllers_and_approvers_see_the_books(
    client, factory
):
    expectations = {
        Role.OFFICER: (403, 403),
        Role.APPROVER: (200, 403),
        Role.INSPECTOR: (403, 403),
        Role.AUDITOR: (200, 403),
        Role.ADMIN: (200, 200),
    }
    for role, (books, capital) in expectations.items():
        user = factory.user(role)
        browser = client.application.test_client()
        sign_in(browser, user.email)
        assert browser.get("/books/").status_code == books, role
        assert browser.get("/books/capital/new").status_code == capital, role
    representative = factory.user(Role.APPLICANT, cooperative=factory.cooperative())
    browser = client.application.test_client()
    sign_in(browser, representative.email)
    assert browser.get("/books/").status_code == 403


def test_the_portfolio_ledger_downloads_for_the_books_and_not_for_officers(
    client, factory, monkeypatch
):
    import io

    import openpyxl

    monkeypatch.setattr("loanfund.web.exports.routes.fund_today", lambda: TODAY)
    admin = factory.user(Role.ADMIN)
    sign_in(client, admin.email)
    # Asked for on the books page, written in the background, downloaded from its job.
    response = post_form(client, "/exports/", {"kind": "portfolio", "as_of": "2026-11-23"})
    assert response.status_code == 302
    state = client.get(f"{response.location}/status.json").get_json()
    response = client.get(state["download_url"])
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith("portfolio-2026-11-23.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    response.close()
    assert sheet["A4"].value == "Loan no." and sheet["A5"].value == "Total"
    officer = client.application.test_client()
    sign_in(officer, factory.user(Role.OFFICER).email)
    assert post_form(officer, "/exports/", {"kind": "portfolio"}, page="/home").status_code == 403
    # The old direct download is gone: nothing writes a workbook inside a request.
    assert client.get("/books/portfolio.xlsx?as_of=2026-11-23").status_code == 404
