"""The lending report on the Books page: who may ask for it (it is written in the background
and downloaded from its job), the periods offered, and what a period the fund does not know
gets."""

import io

import openpyxl

from loanfund.domain.roles import Role
from tests.conftest import TODAY, csrf_token, sign_in


def _today(monkeypatch):
    monkeypatch.setattr("loanfund.web.books.routes.fund_today", lambda: TODAY)
    monkeypatch.setattr("loanfund.web.exports.routes.fund_today", lambda: TODAY)


def _ask(browser, period=None):
    """Post the Books page's lending report form (no period: the field left out)."""
    fields = (
        {"kind": "lending_report"}
        if period is None
        else {"kind": "lending_report", "period": period}
    )
    return browser.post(
        "/exports/", data={"csrf_token": csrf_token(browser, "/exports/"), **fields}
    )


def _download(browser, response):
    """The workbook of the job a request was redirected to."""
    assert response.status_code == 302 and "/exports/" in response.location
    state = browser.get(f"{response.location}/status.json").get_json()
    assert state["status"] == "done"
    download = browser.get(state["download_url"])
    download.get_data()
    download.close()
    return download


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
        response = _ask(browser, "2026-H1")
        assert response.status_code == (302 if status == 200 else status), role
        if status == 200:
            response = _download(browser, response)
            assert response.status_code == status, role
            assert response.headers["Content-Disposition"].endswith("lending-report-2026-H1.xlsx")
            book = openpyxl.load_workbook(io.BytesIO(response.get_data()))
            assert book.sheetnames[0] == "Summary"
            assert book["Summary"]["A2"].value.endswith("As of 30 Jun 2026.")
    representative = factory.user(Role.APPLICANT, cooperative=factory.cooperative())
    browser = client.application.test_client()
    sign_in(browser, representative.email)
    assert _ask(browser, "2026-H1").status_code == 403


def test_a_period_it_does_not_know_or_that_has_not_started_is_explained_on_the_books_page(
    client, factory, monkeypatch
):
    _today(monkeypatch)
    sign_in(client, factory.user(Role.ADMIN).email)
    response = _ask(client, "2026-H3")
    assert response.status_code == 302 and response.location.endswith("/books/#exports")
    page = client.get("/books/").get_data(as_text=True)
    assert "“2026-H3” is not a reporting period" in page
    response = client.get(_ask(client, "2027").location)
    assert "Year 2027 has not started yet" in response.get_data(as_text=True)
    response = client.get(_ask(client).location)
    assert "is not a reporting period" in response.get_data(as_text=True)
