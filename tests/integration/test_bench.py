"""The portfolio-ledger benchmark at a tiny size: it runs end to end, and its xlsxwriter-alone
baseline writes the very cells the ledger writes (or its ratio would compare unlike work)."""

import datetime as dt
import json

import openpyxl

from loanfund.bench import portfolio_ledger
from loanfund.bench.book import copy_loans
from loanfund.exports.portfolio import columns, write_portfolio_ledger
from loanfund.services.demo import load_demo_fund
from loanfund.services.file_store import FileStore
from loanfund.services.portfolio import portfolio_rows
from tests.conftest import TODAY


def test_the_ledger_benchmark_runs_end_to_end_and_reports_every_figure(capsys):
    assert portfolio_ledger.main(["--loans", "30", "--json", "--repeat", "2"]) == 0
    figures = json.loads(capsys.readouterr().out)
    # The demo has 7 loans, one of them a contract not yet paid out (no schedule, no row);
    # 23 copies of its 6 paid-out loans make 30 loans and 29 rows, a cell for each column.
    assert figures["loans"] == 30
    assert figures["rows"] == 29
    assert figures["cells"] == 29 * len(columns())
    assert figures["as_of"] == "2026-11-23"  # the demo's last closed day
    assert set(figures["seconds"]) == {
        "export",
        "rows_only",
        "export_writing",
        "xlsxwriter_alone",
        "export_under_tracemalloc",
    }
    measured = {key: figures["seconds"][key] for key in ("export", "rows_only", "xlsxwriter_alone")}
    assert all(seconds > 0 for seconds in measured.values()), measured
    # Each timed part ran twice; the faster run is the one reported.
    for key, seconds in measured.items():
        assert len(figures["runs"][key]) == 2 and seconds == min(figures["runs"][key])
    # The writing share is a difference of two runs in separate processes: at 30 loans it is
    # noise and may come out below zero (it did on PostgreSQL), so only its definition is held.
    assert figures["seconds"]["export_writing"] == (
        figures["seconds"]["export"] - figures["seconds"]["rows_only"]
    )
    memory = figures["memory_mb"]
    assert memory["peak_rss"] >= memory["rss_before_export"] > 0
    assert memory["tracemalloc_peak"] > 0
    assert set(figures["targets"]) == {"ratio", "peak_mb"}
    assert figures["targets"]["ratio"]["target"] == 1.5
    assert figures["targets"]["peak_mb"]["target"] == 300
    assert figures["machine"]["database"] == "sqlite"
    assert figures["folder"] is None  # removed


def test_xlsxwriter_alone_writes_the_cells_the_ledger_writes(session, tmp_path):
    load_demo_fund(
        session, hash_password=lambda password: "x", today=TODAY, store=FileStore(tmp_path)
    )
    assert copy_loans(session, 12, details=True) == 12
    rows = list(portfolio_rows(session, as_of=TODAY))
    ledger, raw = tmp_path / "ledger.xlsx", tmp_path / "raw.xlsx"
    write_portfolio_ledger(str(ledger), rows, fund_name="Quỹ", as_of=TODAY, digits=0)
    portfolio_ledger.write_raw(raw, portfolio_ledger.cells_of(rows), digits=0)

    def body(path):
        """Data rows (row 5 on): each cell's value, type and number format."""
        sheet = openpyxl.load_workbook(path).active
        return [
            [(cell.value, cell.data_type, cell.number_format) for cell in row]
            for row in sheet.iter_rows(min_row=5, max_row=4 + len(rows))
        ]

    written = body(ledger)
    assert len(written) == 11  # 12 loans, less the contract not yet paid out
    assert body(raw) == written
    kinds = {type(value) for row in written for value, _type, _format in row}
    assert {str, int, dt.datetime, type(None)} <= kinds  # text, numbers, dates and blanks
