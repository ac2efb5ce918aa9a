"""The lending report on the Books page: who may download it, the periods offered, and what
a period the fund does not know gets."""

import io

import openpyxl

from loanfund.domain.roles import Role
from tests.conftest import TODAY, sign_in


def _today(monkeypatch):
    monkeypatch.setattr("loanfund.web.books.routes.fund_today", lambda: TODAY)


def test_the_books_page_offers_the_recent_periods_with_the_last_ended_half_chosen(
    client, factory, monkeypatch
):
    _today(monkeypatch)
    sign_in(client, factory.user(Role.AUDITOR).email)
    page = client.get("/books/").get_data(as_text=True)
    assert 'data-testid="lending-report-export"' in page
    # On 23 Nov 2026 the second half of 2026 runs; the first half is the last one ended.
    assert '<option value="2026-H2">Second half of 2026</option>' in page
    assert '<option value="2026-H1" selected>First half of 2026</option>' in page
    assert '<option value="2025">Year 2025</option>' in page


def test_administrators_controllers_and_approvers_download_it_and_no_one_else(
    client, factory, monkeypatch
):
    _today(monkeypatch)
    expectations = {
        Role.ADMIN: 200,
        Role.AUDITOR: 200,
        Role.APPROVER: 200,
        Role.OFFICER: 403,
        Role.INSPECTOR: 403,
    }
    for role, status in expectations.items():
        browser = client.application.test_client()
        sign_in(browser, factory.user(role).email)
        response = browser.get("/books/lending-report.xlsx?period=2026-H1")
        assert response.status_code == status, role
        if status == 200:
            assert response.headers["Content-Disposition"].endswith("lending-report-2026-H1.xlsx")
            book = openpyxl.load_workbook(io.BytesIO(response.get_data()))
            assert book.sheetnames[0] == "Summary"
            assert book["Summary"]["A2"].value.endswith("As of 30 Jun 2026.")
    representative = factory.user(Role.APPLICANT, cooperative=factory.cooperative())
    browser = client.application.test_client()
    sign_in(browser, representative.email)
    assert browser.get("/books/lending-report.xlsx?period=2026-H1").status_code == 403


def test_a_period_it_does_not_know_or_that_has_not_started_is_explained_on_the_books_page(
    client, factory, monkeypatch
):
    _today(monkeypatch)
    sign_in(client, factory.user(Role.ADMIN).email)
    response = client.get("/books/lending-report.xlsx?period=2026-H3")
    assert response.status_code == 302 and response.location.endswith("/books/")
    page = client.get("/books/").get_data(as_text=True)
    assert "“2026-H3” is not a reporting period" in page
    response = client.get("/books/lending-report.xlsx?period=2027", follow_redirects=True)
    assert "Year 2027 has not started yet" in response.get_data(as_text=True)
    response = client.get("/books/lending-report.xlsx", follow_redirects=True)
    assert "is not a reporting period" in response.get_data(as_text=True)
