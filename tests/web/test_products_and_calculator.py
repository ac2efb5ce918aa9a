"""Loan product pages and the loan calculator, as their users meet them."""

import io
import re
from dataclasses import replace
from decimal import Decimal

import openpyxl

from loanfund.domain.access import SYSTEM
from loanfund.domain.roles import Role
from loanfund.models import LoanProduct, db
from loanfund.services.products import create_product
from tests.conftest import post_form, sign_in
from tests.unit.test_products import EQUIPMENT

PRODUCT_FORM = {
    "code": "nx-2026",
    "name": "Workshop loan",
    "description": "Workshops and warehouses.",
    "purposes": ["workshop"],
    "min_amount": "200,000,000",
    "max_amount": "2,000,000,000",
    "min_term_months": "24",
    "max_term_months": "84",
    "default_term_months": "60",
    "annual_rate_pct": "5.4",
    "overdue_rate_pct_of_rate": "150",
    "method": "annuity",
    "frequency": "month",
    "every": "1",
    "interest_basis": "daily",
    "days_in_year": "365",
    "principal_grace": "6",
    "interest_deferred": "0",
    "interest_free": "0",
    "principal_every": "1",
    "rounding": "half_up",
    "installment_multiple": "1,000",
    "installment_rounding": "nearest",
}


def _cells(page: str) -> list[list[str]]:
    """The schedule table's body rows as text cells."""
    body = re.search(r'data-testid="schedule">.*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    rows = re.findall(r"<tr.*?>(.*?)</tr>", body, re.S)
    return [
        [re.sub(r"<.*?>", "", cell).strip() for cell in re.findall(r"<td.*?>(.*?)</td>", row, re.S)]
        for row in rows
    ]


def test_an_administrator_defines_a_product_and_a_representative_sees_it(client, factory):
    sign_in(client, factory.user(Role.ADMIN).email)
    response = post_form(client, "/products/new", PRODUCT_FORM)
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    product = db.session.query(LoanProduct).one()
    assert product.code == "NX-2026" and product.schedule_options["installment_multiple"] == "1000"
    assert product.min_amount == Decimal(200_000_000)
    representative = factory.user(Role.APPLICANT, cooperative=factory.cooperative())
    browser = client.application.test_client()
    sign_in(browser, representative.email)
    page = browser.get(f"/products/{product.id}").get_data(as_text=True)
    assert "Workshop loan" in page and "Equal installments (annuity)" in page
    assert browser.get("/products/new").status_code == 403


def test_a_bad_product_keeps_what_was_typed_and_lists_every_problem(client, factory):
    sign_in(client, factory.user(Role.ADMIN).email)
    bad = {**PRODUCT_FORM, "min_amount": "3,000,000,000", "principal_every": "3"}
    page = post_form(client, "/products/new", bad).get_data(as_text=True)
    assert "is more than the maximum" in page
    assert 'value="3,000,000,000"' in page and 'value="Workshop loan"' in page
    assert db.session.query(LoanProduct).count() == 0


def test_a_retired_product_disappears_for_representatives(client, factory):
    product = create_product(db.session, actor=SYSTEM, terms=EQUIPMENT)
    sign_in(client, factory.user(Role.ADMIN).email)
    post_form(
        client,
        f"/products/{product.id}/status",
        {"status": "retired"},
        page=f"/products/{product.id}",
    )
    representative = factory.user(Role.APPLICANT, cooperative=factory.cooperative())
    browser = client.application.test_client()
    sign_in(browser, representative.email)
    assert "TB-2026" not in browser.get("/products/").get_data(as_text=True)
    assert browser.get(f"/products/{product.id}").status_code == 404


def test_anyone_can_compute_a_schedule_and_the_residue_goes_to_the_last_installment(client):
    # 1,000,000 VND at 0 % in 3 monthly installments: 1,000,000 ÷ 3 = 333,333.33 → 333,333
    # twice, and the last one takes the rest: 1,000,000 − 666,666 = 333,334.
    page = client.get(
        "/calculator/",
        query_string={
            "principal": "1,000,000",
            "annual_rate_pct": "0",
            "installments": "3",
            "disbursed_on": "2026-01-15",
            "method": "equal_principal",
            "frequency": "month",
            "every": "1",
            "interest_basis": "daily",
            "days_in_year": "365",
            "principal_grace": "0",
            "interest_deferred": "0",
            "interest_free": "0",
            "principal_every": "1",
            "rounding": "half_up",
            "installment_rounding": "nearest",
        },
    ).get_data(as_text=True)
    assert "<title>Loan calculator · Loan fund</title>" in page
    rows = _cells(page)
    assert [row[1] for row in rows] == ["15 Feb 2026", "15 Mar 2026", "15 Apr 2026"]
    assert [row[3] for row in rows] == ["₫333,333", "₫333,333", "₫333,334"]
    assert [row[6] for row in rows] == ["₫666,667", "₫333,334", "₫0"]


def _query(**changes):
    values = {
        "principal": "12,000,000",
        "annual_rate_pct": "12",
        "installments": "12",
        "disbursed_on": "2026-01-31",
        "method": "equal_principal",
        "frequency": "month",
        "every": "1",
        "interest_basis": "periodic",
        "days_in_year": "365",
        "principal_grace": "0",
        "interest_deferred": "0",
        "interest_free": "0",
        "principal_every": "1",
        "rounding": "half_up",
        "installment_rounding": "nearest",
    }
    return {**values, **changes}


def test_periodic_interest_and_the_explanation_of_one_installment(client):
    # 12,000,000 at 12 % a year, monthly, periodic basis: 1 % a month. Installment 2 owes
    # interest on 12,000,000 − 1,000,000 = 11,000,000 × 1 % = 110,000 and 1,000,000 principal.
    page = client.get("/calculator/", query_string=_query(explain="2")).get_data(as_text=True)
    rows = _cells(page)
    assert rows[0][4] == "₫120,000" and rows[1][4] == "₫110,000" and rows[1][5] == "₫1,110,000"
    assert rows[1][1] == "31 Mar 2026"  # 31 Jan + 2 months, kept on the month's last day
    explanation = re.search(r'data-testid="explanation">(.*?)</div>\s*</div>', page, re.S).group(1)
    assert "11,000,000" in explanation and "110,000" in explanation


def test_terms_the_engine_refuses_are_explained_and_the_form_kept(client):
    page = client.get("/calculator/", query_string=_query(principal_grace="12")).get_data(
        as_text=True
    )
    problems = re.search(r'data-testid="problems">(.*?)</div>', page, re.S).group(1)
    assert "grace" in problems and "12" in problems
    assert 'value="12,000,000"' in page
    assert 'data-testid="schedule"' not in page


def test_a_product_prefills_its_terms_and_warns_outside_its_limits(client):
    product = create_product(db.session, actor=SYSTEM, terms=EQUIPMENT)
    page = client.get(f"/calculator/?product={product.id}").get_data(as_text=True)
    # Its usual loan: the smallest amount, 5.4 %, 36 monthly installments, principal quarterly.
    assert 'value="100,000,000"' in page and 'value="5.4"' in page and 'value="36"' in page
    rows = _cells(page)
    assert len(rows) == 36 and rows[0][3] == "₫0" and rows[2][3] != "₫0"
    too_much = _query(
        product=str(product.id),
        terms_of=str(product.id),  # the form already holds this product's terms
        principal="1,500,000,000",
        annual_rate_pct="5.4",
    )
    page = client.get("/calculator/", query_string=too_much).get_data(as_text=True)
    warnings = re.search(r'data-testid="warnings">(.*?)</div>', page, re.S).group(1)
    assert "1,500,000,000" in warnings and 'data-testid="schedule"' in page


def test_the_schedule_downloads_as_a_workbook_with_numbers_and_dates(client):
    response = client.get("/calculator/schedule.xlsx", query_string=_query())
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    header = [cell.value for cell in sheet[1]][:7]
    assert header[:4] == ["No.", "Due date", "Days", "Principal"]
    second = [cell.value for cell in sheet[3]][:7]
    assert second[0] == 2 and second[1].date().isoformat() == "2026-03-31"
    assert second[3:6] == [1_000_000, 110_000, 1_110_000]


def test_a_download_with_bad_terms_goes_back_to_the_form(client):
    response = client.get("/calculator/schedule.xlsx", query_string=_query(installments="0"))
    assert response.status_code == 302 and "/calculator/" in response.location


def test_the_first_visit_starts_from_a_product_and_choosing_another_refills_the_form(client):
    first = create_product(db.session, actor=SYSTEM, terms=EQUIPMENT)
    short = replace(
        EQUIPMENT,
        code="VLD-2026",
        name="Working capital",
        min_amount=Decimal(50_000_000),
        min_term_months=6,
        default_term_months=12,
        max_term_months=12,
        annual_rate_pct=Decimal("4.8"),
        schedule_options={},
    )
    second = create_product(db.session, actor=SYSTEM, terms=short)
    page = client.get("/calculator/").get_data(as_text=True)
    first_id = first.id if first.name < second.name else second.id
    assert f'name="terms_of" type="hidden" value="{first_id}"' in page
    assert 'data-testid="schedule"' in page
    # The form holds the equipment loan's terms; the reader picks the working-capital product.
    sent = _query(product=str(second.id), terms_of=str(first.id), principal="700,000,000")
    page = client.get("/calculator/", query_string=sent).get_data(as_text=True)
    assert 'value="50,000,000"' in page and 'value="4.8"' in page
    assert len(_cells(page)) == 12
