"""The dashboard: its figures equal the exports' and `loanfund report position --json`'s."""

import io
import json
import re
from decimal import Decimal

import openpyxl
from flask_migrate import stamp
from sqlalchemy import select

from loanfund.exports.portfolio import write_portfolio_ledger
from loanfund.exports.registers import write_disbursement_register, write_repayment_register
from loanfund.models import User
from loanfund.queries.registers import disbursement_rows, repayment_rows
from loanfund.services.demo import load_demo_fund
from loanfund.services.file_store import FileStore
from loanfund.services.portfolio import portfolio_rows
from tests.conftest import TODAY, sign_in


def _figures(page: str) -> dict[str, Decimal]:
    """The page's figures by name, as numbers (``₫1,234`` → 1234, ``32.36 %`` → 32.36)."""
    found = re.findall(r'data-figure="([a-z0-9-]+)">([^<]*)<', page)
    return {name: Decimal(re.sub(r"[^\d.\-]", "", text) or "0") for name, text in found}


def _totals(write, rows, **kwargs):
    out = io.BytesIO()
    totals = write(out, rows, fund_name="F", digits=0, **kwargs)
    out.seek(0)
    return openpyxl.load_workbook(out), totals


def test_the_dashboard_equals_the_ledgers_and_the_position_report_on_the_demo(
    app, client, session, demo_admin
):
    response = client.get("/dashboard")
    assert response.status_code == 200
    shown = _figures(response.get_data(as_text=True))

    stamp()  # the schema was made from the models: mark it as the latest migration's
    result = app.test_cli_runner().invoke(
        args=["report", "position", "--json", "--as-of", TODAY.isoformat()]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    board = report["dashboard"]

    # The page and the report: the same figures.
    assert shown["cash"] == Decimal(board["position"]["cash"])
    assert shown["outstanding"] == Decimal(board["position"]["outstanding"])
    assert shown["committed"] == Decimal(board["position"]["committed"])
    assert shown["available"] == Decimal(board["position"]["available_to_lend"])
    assert shown["inflows"] == Decimal(board["position"]["expected_inflows_12_months"])
    assert shown["par30"] == Decimal(board["quality"]["par30_pct"])
    assert shown["bad-debt"] == Decimal(board["quality"]["bad_debt_pct"])
    assert shown["jobs"] == board["impact"]["jobs_created"]
    for group in "12345":
        assert shown[f"group-{group}"] == Decimal(board["quality"]["outstanding_by_group"][group])

    # The portfolio ledger of the same day: its total and its rows by debt group.
    _book, totals = _totals(
        write_portfolio_ledger, portfolio_rows(session, as_of=TODAY), as_of=TODAY
    )
    assert totals["outstanding"] == shown["outstanding"]
    by_group = dict.fromkeys("12345", Decimal(0))
    financed = set()
    for row in portfolio_rows(session, as_of=TODAY):
        by_group[str(row["debt_group"])] += row["outstanding"]
        if row["outstanding"] > 0:
            financed.add(row["tax_code"])
    assert by_group == {g: shown[f"group-{g}"] for g in "12345"}
    # Bad debt = groups 3–5 over the whole book, as the ledger's rows give it.
    bad = by_group["3"] + by_group["4"] + by_group["5"]
    assert abs(bad * 100 / totals["outstanding"] - shown["bad-debt"]) < Decimal("0.01")
    assert shown["cooperatives"] == len(financed)

    # Disbursed and collected in the current month: the registers of the same days.
    first = TODAY.replace(day=1)
    month = board["activity"]["by_month"][-1]
    assert month["month"] == TODAY.strftime("%Y-%m")
    _book, paid = _totals(
        write_disbursement_register,
        disbursement_rows(session, date_from=first, date_to=TODAY),
        date_from=first,
        date_to=TODAY,
    )
    _book, received = _totals(
        write_repayment_register,
        repayment_rows(session, date_from=first, date_to=TODAY),
        date_from=first,
        date_to=TODAY,
    )
    assert Decimal(month["disbursed"]) == paid["amount"]
    assert Decimal(month["collected"]) == received["amount"]
    assert sum(Decimal(m["disbursed"]) for m in board["activity"]["by_month"]) > 0


def test_the_charts_carry_their_numbers_in_a_table_and_load_no_inline_script(
    app, client, session, demo_admin
):
    page = client.get("/dashboard").get_data(as_text=True)
    for name in ("inflows", "groups", "par", "flows"):
        assert f'data-testid="chart-{name}"' in page
        assert f'data-testid="table-{name}"' in page
    assert "/static/vendor/chartjs/chart.umd.min.js" in page
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)  # every script is a file
    # Every figure's link opens the list behind it.
    main = page[page.index("<main") :]
    links = set(re.findall(r'href="(/[^"#]*)"', main)) - {"/dashboard"}
    assert any("debt_group=3" in link for link in links) and len(links) >= 6
    for link in links:
        assert client.get(link.replace("&amp;", "&")).status_code == 200, link


def test_a_representative_sees_the_own_cooperatives_figures_and_not_the_funds(
    client, session, tmp_path, password_hash
):
    load_demo_fund(
        session,
        hash_password=lambda password: password_hash,
        today=TODAY,
        store=FileStore(tmp_path),
    )
    rows = [row for row in portfolio_rows(session, as_of=TODAY) if row["outstanding"] > 0]
    # A borrower with one loan out: its home shows that loan's principal.
    by_tax_code: dict[str, list] = {}
    for row in rows:
        by_tax_code.setdefault(row["tax_code"], []).append(row)
    tax_code, (row,) = next((k, v) for k, v in by_tax_code.items() if len(v) == 1)
    from loanfund.models import Cooperative

    cooperative = session.scalar(select(Cooperative).where(Cooperative.tax_code == tax_code))
    rep = session.scalar(select(User).where(User.cooperative_id == cooperative.id))
    sign_in(client, rep.email)
    shown = _figures(client.get("/home").get_data(as_text=True))
    assert shown["loans"] == 1 and shown["outstanding"] == row["outstanding"]
    assert client.get("/dashboard").status_code == 403
