"""The five list pages (cooperatives, the application queue, loans, receipts, inspections):
sorting both ways, filters kept in the URL and by the pager, a search that ignores Vietnamese
diacritics (đ/Đ too) and case, garbage in the URL that gives a page, and an export, asked for
with a small POST form and written in the background (inline under TESTING), that holds every
row the filter shows, downloaded from its job and read back with openpyxl."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import openpyxl
import pytest
from markupsafe import escape
from sqlalchemy import func, select

from loanfund.domain.applications import ApplicationStatus
from loanfund.domain.calendar import add_working_days
from loanfund.domain.roles import Role
from loanfund.models import Cooperative, ExportJob, Loan, LoanApplication, db
from loanfund.queries.lists import last_late_completion
from loanfund.services import applications as application_service
from loanfund.services import repayments
from loanfund.services.accounts import actor_for
from loanfund.web.applications import staff_routes
from loanfund.web.cooperatives import routes as cooperative_routes
from loanfund.web.inspections import routes as inspection_routes
from loanfund.web.loans import routes as loan_routes
from tests.application_data import draft_application, fund_with_product, store_at
from tests.conftest import TODAY, csrf_token, sign_in
from tests.integration.conftest import disbursed_loan

D = Decimal
HOSTILE = '=HYPERLINK("http://x","y")'
#: The fund's clock in these tests: the business day TODAY, mid-morning in Vietnam.
NOW = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=7)))

#: Three cooperatives with a loan, a receipt, a planned first visit and an open application
#: each; a fourth one (D) is unverified and has nothing. Folded names, the order of a name
#: sort: C "=hyperlink(…)" < B "htx che suoi reo" < A "htx dan dien" < D "htx may tre phu vang"
#: ("=" comes before every letter).
COOPERATIVES = {
    "A": {"name": "HTX Đan Điền", "district": "Phong Điền", "members_count": 40},
    "B": {"name": "HTX Chè Suối Rèo", "district": "Phong Điền", "members_count": 25},
    "C": {"name": HOSTILE, "district": "Hương Trà", "members_count": 60},
}
#: Per cooperative: the tranche paid, the receipt (the same day, so all of it prepays
#: principal), its channel, and the open application's amount.
MONEY = {
    "A": (D(300_000_000), D(5_000_000), "bank", D(150_000_000)),
    "B": (D(100_000_000), D(12_000_000), "cash", D(250_000_000)),
    "C": (D(200_000_000), D(8_000_000), "bank", D(120_000_000)),
}


@dataclass
class Fund:
    cooperatives: dict[str, Cooperative]
    loans: dict[str, Loan]
    reps: dict[str, Any]
    officer: Any


@pytest.fixture
def fund(session, factory, tmp_path, monkeypatch) -> Fund:
    for module in (loan_routes, staff_routes, inspection_routes, cooperative_routes):
        monkeypatch.setattr(module, "fund_today", lambda: TODAY)
    monkeypatch.setattr("loanfund.web.exports.routes.fund_now", lambda: NOW)
    product = fund_with_product(session)
    officer, approver = factory.user(Role.OFFICER), factory.user(Role.APPROVER)
    store = store_at(tmp_path)
    cooperatives, loans, reps = {}, {}, {}
    for key, profile in COOPERATIVES.items():
        cooperative = factory.cooperative(**profile)
        rep = factory.user(Role.APPLICANT, cooperative=cooperative)
        world = {
            "product": product,
            "cooperative": cooperative,
            "store": store,
            "rep": actor_for(rep),
            "officer": actor_for(officer),
            "approver": actor_for(approver),
        }
        tranche, receipt, channel, asked = MONEY[key]
        loan = disbursed_loan(session, world, amount=tranche, key=f"tranche-{key}")
        repayments.record_repayment(
            session,
            actor=actor_for(officer),
            loan_id=loan.id,
            received_on=TODAY,
            amount=receipt,
            channel=channel,
            reference=f"GBC {key}",
            idempotency_key=f"receipt-{key}",
            today=TODAY,
        )
        application = draft_application(session, actor_for(rep), product, store, amount=asked)
        application_service.submit_application(
            session, actor=actor_for(rep), application_id=application.id, today=TODAY
        )
        cooperatives[key], loans[key], reps[key] = cooperative, loan, rep
    cooperatives["D"] = factory.cooperative(
        verified=False, name="HTX Mây tre Phú Vang", district="Phong Điền"
    )
    return Fund(cooperatives, loans, reps, officer)


#: Each list: its URL (with the tab that holds the fund's rows), the test id of its rows,
#: the URL its export form posts to, and the heading of the borrower's column.
LISTS = {
    "cooperatives": ("/cooperatives/?", "cooperatives", "/cooperatives/export?", "Name"),
    "applications": (
        "/applications/queue?tab=all&",
        "queue",
        "/applications/queue/export?tab=all&",
        "Cooperative",
    ),
    "loans": ("/loans/?", "loans", "/loans/export?", "Borrower"),
    "receipts": ("/loans/repayments/?", "receipts", "/loans/repayments/export?", "Borrower"),
    "inspections": (
        "/inspections/?tab=planned&",
        "visits",
        "/inspections/export?tab=planned&",
        "Borrower",
    ),
}
#: Each list's workbook: its title (the sheet's, with the tab) and the name it downloads as.
WORKBOOKS = {
    "cooperatives": ("Cooperatives", "cooperatives-2026-11-23.xlsx"),
    "applications": ("Loan applications: All open", "applications-all-2026-11-23.xlsx"),
    "loans": ("Loans", "loans-2026-11-23.xlsx"),
    "receipts": ("Receipts", "receipts-2026-11-23.xlsx"),
    "inspections": ("Inspections: All planned", "inspections-planned-2026-11-23.xlsx"),
}


def _browser(client, user) -> Any:
    browser = client.application.test_client()
    sign_in(browser, user.email)
    return browser


def _rows_section(page: str, testid: str) -> str:
    """The part of the page with the rows: from the list to the count under it."""
    return page[page.index(f'data-testid="{testid}"') : page.index('data-testid="list-count"')]


def _order(page: str, testid: str, fund: Fund) -> list[str]:
    """The keys (A, B, C, D) of the cooperatives whose rows the page shows, in its order."""
    section = _rows_section(page, testid)
    found = {
        key: section.find(str(escape(cooperative.name)))
        for key, cooperative in fund.cooperatives.items()
    }
    return sorted((key for key, at in found.items() if at >= 0), key=found.__getitem__)


def _get(browser, url: str) -> str:
    response = browser.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def _next_link(page: str) -> str:
    match = re.search(r'<a class="page-link" href="([^"]+)" rel="next">', page)
    assert match, "no link to the next page"
    return html.unescape(match.group(1))


def _ask(browser, url: str) -> Any:
    """Post the export form as the list's button does (with the session's CSRF token)."""
    return browser.post(url, data={"csrf_token": csrf_token(browser, "/exports/")})


@dataclass
class Export:
    job_id: int
    state: dict[str, Any]
    file_name: str
    sheet: Any


def _export(browser, url: str) -> Export:
    """Ask for a list's export; the job is written at once (TESTING) and its workbook is
    downloaded from the job's page and read back."""
    response = _ask(browser, url)
    assert response.status_code == 302, (url, response.status_code)
    job_id = int(response.location.rstrip("/").rsplit("/", 1)[1])
    assert response.location.endswith(f"/exports/{job_id}")
    state = browser.get(f"/exports/{job_id}/status.json").get_json()
    assert state["status"] == "done", (url, state)
    download = browser.get(state["download_url"])
    assert download.status_code == 200, (url, download.status_code)
    assert download.mimetype.endswith("spreadsheetml.sheet")
    name = download.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(download.get_data())).active
    download.close()
    return Export(job_id, state, name, sheet)


def _workbook(browser, url: str) -> Any:
    return _export(browser, url).sheet


def _jobs() -> int:
    return db.session.scalar(select(func.count(ExportJob.id)))


def _table(sheet) -> tuple[list[str], list[tuple[Any, ...]], tuple[Any, ...]]:
    """The header (row 4), the rows and the totals row under them."""
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    return list(rows[0]), rows[1:-1], rows[-1]


def _keys(fund: Fund, names: list[Any]) -> list[str]:
    by_name = {cooperative.name: key for key, cooperative in fund.cooperatives.items()}
    return [by_name[name] for name in names]


# --- sorting ----------------------------------------------------------------------------------

#: A column of each list and the order of the fund's rows by it, ascending (from the figures
#: above): names C, B, A (+ D, the unverified one, on the cooperatives list); applications by
#: amount 120 m (C) < 150 m (A) < 250 m (B); loans by amount disbursed 100 m (B) < 200 m (C) <
#: 300 m (A); receipts by amount 5 m (A) < 8 m (C) < 12 m (B); visits by borrower C, B, A.
SORTS = {
    "cooperatives": ("name", ["C", "B", "A", "D"]),
    "applications": ("amount", ["C", "A", "B"]),
    "loans": ("disbursed", ["B", "C", "A"]),
    "receipts": ("amount", ["A", "C", "B"]),
    "inspections": ("borrower", ["C", "B", "A"]),
}


@pytest.mark.parametrize("name", LISTS)
def test_sorting_by_a_column_both_ways_reverses_the_rows(client, fund, name):
    url, testid, _export, _column = LISTS[name]
    key, ascending = SORTS[name]
    browser = _browser(client, fund.officer)

    up = _get(browser, f"{url}sort={key}&dir=asc")
    down = _get(browser, f"{url}sort={key}&dir=desc")

    assert _order(up, testid, fund) == ascending
    assert _order(down, testid, fund) == ascending[::-1]
    # The header of the sorted column says so (the inspections list has no table headers).
    assert 'aria-sort="ascending"' in up or name == "inspections"


def test_a_loan_list_sorted_by_outstanding_principal_follows_the_books(client, fund):
    # Outstanding = disbursed − the same-day receipt (all prepaid principal):
    # A 300 m − 5 m = 295 m, B 100 m − 12 m = 88 m, C 200 m − 8 m = 192 m.
    browser = _browser(client, fund.officer)
    page = _get(browser, "/loans/?sort=outstanding&dir=desc")
    assert _order(page, "loans", fund) == ["A", "C", "B"]
    section = _rows_section(page, "loans")
    assert section.index("₫295,000,000") < section.index("₫192,000,000")
    assert section.index("₫192,000,000") < section.index("₫88,000,000")


# --- filters and the pager --------------------------------------------------------------------

#: ``district=Phong Điền`` keeps A and B (and D, on the cooperatives list), never C; one row
#: a page, in the default order of each list: names (B, A, D) for cooperatives; applications
#: by submission, all the same day, so by id (A, B); loans by contract number, latest first
#: (B, A); receipts by date, latest first, all the same day, so by id latest first (B, A);
#: planned visits by due date, all 30 days after the same disbursement day, so by id (A, B).
FILTERED = {
    "cooperatives": ["B", "A", "D"],
    "applications": ["A", "B"],
    "loans": ["B", "A"],
    "receipts": ["B", "A"],
    "inspections": ["A", "B"],
}


@pytest.mark.parametrize("name", LISTS)
def test_a_filter_in_the_url_narrows_the_rows_and_the_pager_keeps_it(client, fund, name):
    url, testid, _export, _column = LISTS[name]
    browser = _browser(client, fund.officer)
    seen, link = [], f"{url}district=Phong+%C4%90i%E1%BB%81n&per_page=1"
    for _page in FILTERED[name]:
        page = _get(browser, link)
        seen += _order(page, testid, fund)
        assert f"of {len(FILTERED[name])}" in page  # "Rows 1–1 of 2"
        if len(seen) < len(FILTERED[name]):
            link = _next_link(page)
            query = parse_qs(urlsplit(link).query)
            assert query["district"] == ["Phong Điền"] and query["per_page"] == ["1"]
    assert seen == FILTERED[name]


def test_the_status_filter_of_the_cooperatives_finds_the_unverified_one(client, fund):
    browser = _browser(client, fund.officer)
    page = _get(browser, "/cooperatives/?status=pending")
    assert _order(page, "cooperatives", fund) == ["D"]


def test_a_page_past_the_end_shows_the_last_page(client, fund):
    browser = _browser(client, fund.officer)
    page = _get(browser, "/loans/?per_page=2&page=99")
    # Three loans by contract number, latest first (C, B, A): page 2 of 2 holds A alone.
    assert _order(page, "loans", fund) == ["A"]
    assert "Page 2 of 2" in page


# --- search -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", LISTS)
def test_the_search_ignores_diacritics_and_case(client, fund, name):
    url, testid, _export, _column = LISTS[name]
    browser = _browser(client, fund.officer)
    for typed in ("dan dien", "Đan Điền", "ĐAN ĐIỀN", "htx  DAN", "đan"):
        page = _get(browser, f"{url}q={typed}")
        assert _order(page, testid, fund) == ["A"], typed


def test_the_search_finds_contract_numbers_and_tax_codes_and_takes_wildcards_literally(
    client, fund
):
    browser = _browser(client, fund.officer)
    number = fund.loans["B"].contract_no  # HĐ-2026-000n, typed without the diacritic
    assert _order(
        _get(browser, f"/loans/?q={number.replace('Đ', 'D').lower()}"), "loans", fund
    ) == ["B"]
    tax_code = fund.cooperatives["C"].tax_code
    assert _order(_get(browser, f"/cooperatives/?q={tax_code}"), "cooperatives", fund) == ["C"]
    for wildcard in ("%25", "_", "%5C"):  # %, _ and \ match themselves, and no name has them
        assert _order(_get(browser, f"/loans/?q={wildcard}"), "loans", fund) == []


# --- garbage in the URL -----------------------------------------------------------------------


@pytest.mark.parametrize("name", LISTS)
def test_garbage_parameters_give_the_default_page(client, fund, name):
    url, _testid, export, _column = LISTS[name]
    browser = _browser(client, fund.officer)
    garbage = (
        "page=abc&sort=;drop&dir=x&status=nonsense&per_page=-3&from=2026-13-45&to=x"
        "&product=1e9&district=" + "x" * 300 + "&debt_group=9&q=" + "đ" * 500
    )
    assert _get(browser, f"{url}page=abc&sort=;drop&dir=x&status=nonsense")
    page = _get(browser, url + garbage)
    assert 'data-testid="filter-bar"' in page
    assert _export(browser, export + garbage).state["status"] == "done"


# --- the export -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", LISTS)
def test_the_export_holds_every_row_the_filter_shows_on_all_pages(client, fund, name):
    url, _testid, _export_url, column = LISTS[name]
    browser = _browser(client, fund.officer)
    page = _get(browser, f"{url}district=Phong+%C4%90i%E1%BB%81n&per_page=1")
    # "Export to Excel" submits a POST form of its own, with a CSRF token, to the page's query.
    form = re.search(
        r'<form id="[^"]+" method="post" action="([^"]+)" data-testid="export-form">'
        r'<input type="hidden" name="csrf_token" value="[^"]+"></form>',
        page,
    )
    assert form and 'form="filter-bar-export" data-testid="export"' in page
    link = html.unescape(form.group(1))
    query = parse_qs(urlsplit(link).query)
    assert query["district"] == ["Phong Điền"] and "page" not in query and "per_page" not in query

    export = _export(browser, link)

    sheet = export.sheet
    header, rows, totals = _table(sheet)
    assert _keys(fund, [row[header.index(column)] for row in rows]) == FILTERED[name]
    assert "District: Phong Điền" in sheet["A2"].value
    assert sheet.freeze_panes == "A5" and totals[0] == "Total"
    # On top: the list's title, then the day and the filter in words, as the page put them.
    title, file_name = WORKBOOKS[name]
    assert sheet["A1"].value.startswith(f"{title} — ")
    assert sheet["A2"].value.startswith("23 Nov 2026 · ") and "Sorted by: " in sheet["A2"].value
    assert export.file_name.endswith(file_name)
    # The progress bar counted the same rows as were written.
    assert export.state["rows_done"] == export.state["rows_total"] == len(FILTERED[name])
    job_page = _get(browser, f"/exports/{export.job_id}")
    assert title in job_page and "District: Phong Điền" in job_page


def test_the_receipts_export_has_numbers_dates_and_the_split_in_the_pages_order(client, fund):
    browser = _browser(client, fund.officer)
    sheet = _workbook(browser, "/loans/repayments/export?sort=amount&dir=desc")
    header, rows, totals = _table(sheet)
    column = {title: index for index, title in enumerate(header)}
    amounts = [row[column["Amount received"]] for row in rows]
    # By amount, largest first: B 12 m, C 8 m, A 5 m; paid the day the loans were paid out,
    # nothing had accrued, so each receipt is all principal.
    assert amounts == [12_000_000, 8_000_000, 5_000_000]
    assert all(isinstance(amount, int) for amount in amounts)
    assert [row[column["Principal"]] for row in rows] == amounts
    assert [row[column["Interest"]] for row in rows] == [0, 0, 0]
    assert all(row[column["Value date"]] == dt.datetime(2026, 11, 23) for row in rows)
    assert [row[column["Received by"]] for row in rows] == [
        "cash",
        "bank transfer",
        "bank transfer",
    ]
    assert totals[column["Amount received"]] == 25_000_000  # 12 m + 8 m + 5 m


def test_the_loans_export_gives_the_outstanding_principal_and_the_contract_date(client, fund):
    browser = _browser(client, fund.officer)
    sheet = _workbook(browser, "/loans/export?sort=cooperative&dir=asc")
    header, rows, totals = _table(sheet)
    column = {title: index for index, title in enumerate(header)}
    assert _keys(fund, [row[column["Borrower"]] for row in rows]) == ["C", "B", "A"]
    # Disbursed less the same-day receipt: C 192 m, B 88 m, A 295 m; 575 m in all.
    assert [row[column["Principal outstanding"]] for row in rows] == [
        192_000_000,
        88_000_000,
        295_000_000,
    ]
    assert totals[column["Principal outstanding"]] == 575_000_000
    assert isinstance(rows[0][column["Contract date"]], dt.datetime)


@pytest.mark.parametrize("name", LISTS)
def test_a_formula_looking_name_stays_a_string_cell_in_every_export(client, fund, name):
    _url, _testid, export, column = LISTS[name]
    browser = _browser(client, fund.officer)
    sheet = _workbook(browser, export + "q=hyperlink")
    header, rows, _totals = _table(sheet)
    assert len(rows) == 1
    cell = sheet.cell(row=5, column=header.index(column) + 1)
    assert cell.data_type == "s" and cell.value == HOSTILE


# --- who sees what ----------------------------------------------------------------------------


def test_an_applicant_sees_and_exports_only_its_own_loans_and_receipts(client, fund):
    browser = _browser(client, fund.reps["A"])
    assert _order(_get(browser, "/loans/"), "loans", fund) == ["A"]
    assert _order(_get(browser, "/loans/repayments/"), "receipts", fund) == ["A"]
    for export in ("/loans/export", "/loans/repayments/export"):
        header, rows, _totals = _table(_workbook(browser, export + "?q=htx"))
        assert [row[header.index("Borrower")] for row in rows] == [fund.cooperatives["A"].name]
    # The staff lists and their exports stay closed to it, and no export is queued.
    before = _jobs()
    for url in ("/cooperatives/", "/applications/queue", "/inspections/"):
        assert browser.get(url).status_code == 403, url
    for url in ("/cooperatives/export", "/applications/queue/export", "/inspections/export"):
        assert _ask(browser, url).status_code == 403, url
    assert _jobs() == before


def test_an_applicants_export_holds_only_its_own_loans_whatever_the_request_says(client, fund):
    mine, theirs = fund.cooperatives["A"], fund.cooperatives["B"]
    browser = _browser(client, fund.reps["A"])
    for url in (
        f"/loans/export?cooperative_id={theirs.id}",
        f"/loans/repayments/export?cooperative_id={theirs.id}&sort=borrower",
    ):
        token = csrf_token(browser, "/exports/")
        response = browser.post(url, data={"csrf_token": token, "cooperative_id": theirs.id})
        job = db.session.get(ExportJob, int(response.location.rsplit("/", 1)[1]))
        # The scope is the representative's own cooperative, taken from who asked.
        assert job.params["cooperative_id"] == str(mine.id), url
        header, rows, _totals = _table(_workbook(browser, url))
        assert [row[header.index("Borrower")] for row in rows] == [mine.name], url


def test_the_assigned_to_me_queue_exports_only_the_readers_applications(client, factory, fund):
    other = factory.user(Role.OFFICER)
    applications = {
        key: db.session.scalar(
            select(LoanApplication.id).where(
                LoanApplication.cooperative_id == cooperative.id,
                LoanApplication.status == ApplicationStatus.SUBMITTED,
            )
        )
        for key, cooperative in fund.cooperatives.items()
        if key != "D"
    }
    for key, officer in (("A", fund.officer), ("B", other), ("C", fund.officer)):
        application_service.assign_officer(
            db.session,
            actor=actor_for(fund.officer),
            application_id=applications[key],
            officer_id=officer.id,
        )
    for user, expected in ((fund.officer, ["A", "C"]), (other, ["B"])):
        browser = _browser(client, user)
        assert _order(_get(browser, "/applications/queue?tab=mine"), "queue", fund) == expected
        export = _export(browser, "/applications/queue/export?tab=mine")
        header, rows, _totals = _table(export.sheet)
        assert _keys(fund, [row[header.index("Cooperative")] for row in rows]) == expected
        assert export.sheet["A1"].value.startswith("Loan applications: Assigned to me — ")
        assert export.file_name.endswith("applications-mine-2026-11-23.xlsx")
        assert export.state["rows_total"] == len(expected)


#: Who may open each list page, and so export it: representatives see their loans and
#: receipts; inspectors, auditors and approvers every list but the application queues for
#: inspectors; officers and administrators all.
PAGE_ACCESS = {
    Role.APPLICANT: {"loans", "receipts"},
    Role.INSPECTOR: {"cooperatives", "loans", "receipts", "inspections"},
    Role.APPROVER: set(LISTS),
    Role.AUDITOR: set(LISTS),
    Role.OFFICER: set(LISTS),
    Role.ADMIN: set(LISTS),
}


@pytest.mark.parametrize("role", list(PAGE_ACCESS))
def test_each_role_exports_exactly_the_lists_its_pages_show(client, factory, fund, role):
    user = fund.reps["A"] if role is Role.APPLICANT else factory.user(role)
    browser = _browser(client, user)
    for name, (url, _testid, export, _column) in LISTS.items():
        allowed = name in PAGE_ACCESS[role]
        assert browser.get(url).status_code == (200 if allowed else 403), (role, name)
        before = _jobs()
        response = _ask(browser, export)
        assert response.status_code == (302 if allowed else 403), (role, name)
        assert _jobs() == before + (1 if allowed else 0), (role, name)
    if role is Role.INSPECTOR:
        # An inspector who does not plan visits exports theirs and the unassigned ones.
        job = db.session.scalars(select(ExportJob).order_by(ExportJob.id.desc())).first()
        assert job.params["list"] == "inspections" and job.params["inspector_id"] == str(user.id)


def test_another_users_list_export_is_not_found(client, factory, fund):
    owner = _browser(client, fund.reps["A"])
    job_id = _export(owner, "/loans/export").job_id
    urls = (f"/exports/{job_id}", f"/exports/{job_id}/status.json", f"/exports/{job_id}/download")
    for user in (fund.reps["B"], fund.officer, factory.user(Role.AUDITOR)):
        browser = _browser(client, user)
        for url in urls:
            assert browser.get(url).status_code == 404, (user.email, url)
    admin = _browser(client, factory.user(Role.ADMIN))
    download = admin.get(f"/exports/{job_id}/download")
    download.close()
    assert download.status_code == 200


def test_a_removed_list_export_sends_the_reader_back_to_its_list_with_its_filter(client, fund):
    browser = _browser(client, fund.officer)
    export = _export(browser, "/inspections/export?tab=planned&district=Phong+%C4%90i%E1%BB%81n")
    job = db.session.get(ExportJob, export.job_id)
    job.store_key = None  # what the weekly clean-up does
    db.session.commit()
    page = _get(browser, f"/exports/{export.job_id}")
    assert "Ask for it again on its list." in page and "books page" not in page
    link = html.unescape(re.search(r'href="([^"]+)" data-testid="export-again"', page).group(1))
    assert urlsplit(link).path == "/inspections/"
    assert parse_qs(urlsplit(link).query) == {
        "tab": ["planned"],
        "district": ["Phong Điền"],
        "sort": ["due"],
        "dir": ["asc"],
    }
    assert _order(_get(browser, link), "visits", fund) == FILTERED["inspections"]


class _IdleRunner:
    """A runner whose threads are all busy: what it is given stays queued."""

    def submit(self, job_id: int) -> None:
        return None


def test_asking_again_while_the_export_waits_gives_the_same_job(client, fund, monkeypatch):
    monkeypatch.setattr("loanfund.web.exports.routes.export_runner", lambda app: _IdleRunner())
    browser = _browser(client, fund.officer)
    first = _ask(browser, "/loans/export?sort=cooperative&dir=asc")
    job = db.session.get(ExportJob, int(first.location.rsplit("/", 1)[1]))
    # A minute later (a double click, or the same button again), the job still waits.
    a_minute_later = job.created_at + dt.timedelta(minutes=1)
    monkeypatch.setattr("loanfund.web.exports.routes.fund_now", lambda: a_minute_later)
    again = _ask(browser, "/loans/export?sort=cooperative&dir=asc")
    assert again.location == first.location and _jobs() == 1
    # Another filter is another workbook.
    other = _ask(browser, "/loans/export?sort=cooperative&dir=desc")
    assert other.location != first.location and _jobs() == 2


# --- the overdue queue in SQL -----------------------------------------------------------------


def test_the_last_late_completion_is_the_sunday_before_the_ten_working_days():
    # Today Monday 23 Nov 2026, 10 working days to decide: a dossier complete on Sunday
    # 8 Nov is due Friday 20 Nov (late today); one complete on Monday 9 Nov is due today.
    assert last_late_completion(TODAY, 10) == dt.date(2026, 11, 8)
    assert last_late_completion(TODAY, 0) == dt.date(2026, 11, 22)


def test_the_last_late_completion_agrees_with_the_due_date_rule():
    for days in (1, 5, 10, 15):
        cutoff = last_late_completion(TODAY, days)
        for offset in range(1, 40):
            complete_on = TODAY - dt.timedelta(days=offset)
            late = add_working_days(complete_on, days) < TODAY
            assert late == (complete_on <= cutoff), (days, complete_on)
