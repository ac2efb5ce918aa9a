"""Exports asked for on the books page are written in the background: a job, its progress (the
lending report's step by step), the download for its owner only, clear refusals, failures
that leave no file, dead jobs shown as failed, the weekly clean-up, and a runner that really
works off the request's thread."""

import datetime as dt
import io
import os
import threading

import openpyxl
import pytest
from sqlalchemy import func, select

from loanfund.domain.exports import LENDING_REPORT_STEPS, ExportKind, ExportStatus
from loanfund.domain.ledger import Account
from loanfund.domain.loans import TrancheStatus
from loanfund.domain.reporting import ReportPeriod
from loanfund.domain.roles import Role
from loanfund.exports.lending_report import write_lending_report
from loanfund.exports.portfolio import write_portfolio_ledger
from loanfund.models import ExportJob, Inspection, JournalLine, Repayment, Tranche, db
from loanfund.queries.ledger import account_balances
from loanfund.queries.settings import fund_settings
from loanfund.services import exports as service
from loanfund.services.accounts import actor_for
from loanfund.services.demo import load_demo_fund
from loanfund.services.file_store import FileStore
from loanfund.services.lending_report import lending_report
from loanfund.services.portfolio import portfolio_rows
from loanfund.web.exports import runner as runner_module
from tests.conftest import TODAY, csrf_token, sign_in

UTC = dt.UTC


@pytest.fixture
def folder(app, tmp_path, monkeypatch):
    """Exports go to the test's own folder; the fund's business date is TODAY."""
    path = tmp_path / "exports"
    monkeypatch.setitem(app.config["LOANFUND"], "EXPORT_DIR", str(path))
    monkeypatch.setattr("loanfund.web.exports.routes.fund_today", lambda: TODAY)
    return path


@pytest.fixture
def demo(session, tmp_path):
    load_demo_fund(
        session, hash_password=lambda password: "x", today=TODAY, store=FileStore(tmp_path)
    )


def _ask(client, **fields):
    """Post the export form as the books page does; returns the response (not followed)."""
    token = csrf_token(client, "/exports/")
    return client.post("/exports/", data={"csrf_token": token, **fields})


def _job_id(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return int(response.location.rstrip("/").rsplit("/", 1)[1])


def _download(client, url):
    """The response to a download, with its body read and its file closed."""
    response = client.get(url)
    response.get_data()
    response.close()
    return response


def _written(app, write) -> io.BytesIO:
    """A workbook written here, in a request of the test's language, as a page would have."""
    out = io.BytesIO()
    with app.test_request_context():
        write(out, fund_settings(db.session, currency_digits=0).name)
    out.seek(0)
    return out


def _jobs() -> int:
    return db.session.scalar(select(func.count(ExportJob.id)))


def _totals_row(sheet):
    """The totals row of a ledger sheet: the first cell says "Total"."""
    rows = [row for row in sheet.iter_rows(min_row=5, values_only=True) if row[0] is not None]
    assert rows[-1][0] == "Total"
    return rows[:-1], rows[-1]


def test_a_portfolio_ledger_asked_for_is_written_and_agrees_with_the_direct_export(
    app, client, factory, folder, demo
):
    admin = factory.user(Role.ADMIN)
    sign_in(client, admin.email)
    response = _ask(client, kind="portfolio", as_of="2026-11-23")
    job_id = _job_id(response)
    assert response.location.endswith(f"/exports/{job_id}")

    state = client.get(f"/exports/{job_id}/status.json").get_json()
    assert state["status"] == "done" and state["finished"] is True and state["percent"] == 100
    assert state["rows_done"] == state["rows_total"] > 0
    assert state["download_url"] == f"/exports/{job_id}/download"

    download = _download(client, state["download_url"])
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].endswith("portfolio-2026-11-23.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(download.get_data())).active
    header = next(sheet.iter_rows(min_row=4, max_row=4, values_only=True))
    loans, totals = _totals_row(sheet)
    # One row per loan, each counted: the job's row count is the ledger's.
    assert len(loans) == state["rows_total"]
    # The ledger written directly from the same rows has the same totals.
    as_of = dt.date(2026, 11, 23)
    direct = _written(
        app,
        lambda out, fund_name: write_portfolio_ledger(
            out, portfolio_rows(db.session, as_of=as_of), fund_name=fund_name, as_of=as_of, digits=0
        ),
    )
    _direct_loans, direct_totals = _totals_row(openpyxl.load_workbook(direct).active)
    assert totals == direct_totals
    # And the outstanding principal is the books' loans receivable, to the đồng.
    outstanding = totals[header.index("Principal outstanding")]
    assert outstanding == account_balances(db.session)[Account.LOANS_RECEIVABLE]

    page = client.get(f"/exports/{job_id}").get_data(as_text=True)
    assert "Ready" in page and 'data-testid="export-download"' in page
    assert "Your recent exports" in page and "pct-100" in page
    assert " style=" not in page and "<script>" not in page
    assert "js/export_progress.js" in page


def test_the_lending_report_asked_for_is_written_in_the_background_as_of_its_period_end(
    app, client, factory, folder, demo, monkeypatch
):
    heard: list[int] = []
    real_write = service._write

    def listened(*args, progress, **kwargs):
        def progress_heard(done: int) -> None:
            heard.append(done)
            progress(done)

        return real_write(*args, progress=progress_heard, **kwargs)

    monkeypatch.setattr(service, "_write", listened)
    sign_in(client, factory.user(Role.ADMIN).email)
    job_id = _job_id(_ask(client, kind="lending_report", period="2026-H1"))
    state = client.get(f"/exports/{job_id}/status.json").get_json()
    assert state["status"] == "done" and state["percent"] == 100
    # Its progress is reported as it goes, a step at a time (its figures, then each sheet),
    # not once at the end; the last step is the count the bar was sized by.
    assert len(heard) > 1 and heard == sorted(set(heard))
    assert heard == list(range(1, LENDING_REPORT_STEPS + 1))
    assert state["rows_done"] == state["rows_total"] == LENDING_REPORT_STEPS
    download = _download(client, state["download_url"])
    assert download.headers["Content-Disposition"].endswith("lending-report-2026-H1.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(download.get_data()))
    assert book.sheetnames[0] == "Summary"
    # Drawn up as of the half-year's last day, 30 June 2026, not the business date.
    assert book["Summary"]["A2"].value.endswith("As of 30 Jun 2026.")
    # The same report written directly holds the same summary, cell for cell.
    report = lending_report(db.session, period=ReportPeriod.parse("2026-H1"), today=TODAY)
    direct = _written(
        app,
        lambda out, fund_name: write_lending_report(out, report, fund_name=fund_name, digits=0),
    )
    summary = openpyxl.load_workbook(direct)["Summary"]
    assert list(summary.values) == list(book["Summary"].values)
    assert "First half of 2026" in client.get(f"/exports/{job_id}").get_data(as_text=True)


def test_the_registers_asked_for_hold_every_row_of_the_period(client, factory, folder, demo):
    admin = factory.user(Role.ADMIN)
    sign_in(client, admin.email)
    start, end = dt.date(2026, 1, 1), dt.date(2026, 11, 23)
    period = {"date_from": start.isoformat(), "date_to": end.isoformat()}
    # Rows each register must hold, counted here straight from the tables.
    paid = db.session.scalars(
        select(Tranche).where(
            Tranche.status == TrancheStatus.PAID,
            Tranche.value_date >= start,
            Tranche.value_date <= end,
        )
    ).all()
    receipts = db.session.scalars(
        select(Repayment).where(
            Repayment.status == "posted",
            Repayment.received_on >= start,
            Repayment.received_on <= end,
        )
    ).all()
    visits = db.session.scalar(
        select(func.count(Inspection.id)).where(
            Inspection.status == "done",
            Inspection.visited_on >= start,
            Inspection.visited_on <= end,
        )
    )
    lines = db.session.scalars(select(JournalLine)).all()
    lines_in_period = [line for line in lines if start <= line.entry.value_date <= end]
    assert paid and receipts and lines_in_period  # the demo has money moving in the period

    expected_rows = {
        "disbursements": len(paid),
        "repayments": len(receipts),
        "inspections": visits,
        # Journal lines, then one trial balance row per account.
        "journal": len(lines_in_period) + len(Account),
    }
    for kind, rows in expected_rows.items():
        job_id = _job_id(_ask(client, kind=kind, **period))
        state = client.get(f"/exports/{job_id}/status.json").get_json()
        assert state["status"] == "done", kind
        assert state["rows_done"] == state["rows_total"] == rows, kind
        book = openpyxl.load_workbook(
            io.BytesIO(_download(client, state["download_url"]).get_data())
        )
        body, totals = _totals_row(book.worksheets[0])
        if kind == "disbursements":
            assert totals[-1] == sum(t.amount for t in paid)
        elif kind == "repayments":
            header = next(book.active.iter_rows(min_row=4, max_row=4, values_only=True))
            assert totals[header.index("Amount received")] == sum(r.amount for r in receipts)
        elif kind == "journal":
            assert book.sheetnames == ["Journal", "Trial balance"]
            debit, credit = totals[7], totals[8]
            assert debit == credit == sum(line.debit for line in lines_in_period)
        assert len(body) == (rows - len(Account) if kind == "journal" else rows)


def test_only_the_person_who_asked_or_an_administrator_sees_an_export(client, factory, folder):
    approver = factory.user(Role.APPROVER)  # approvers read the books
    sign_in(client, approver.email)
    job_id = _job_id(_ask(client, kind="journal", date_from="2026-11-01", date_to="2026-11-23"))
    assert _download(client, f"/exports/{job_id}/download").status_code == 200

    other = client.application.test_client()
    sign_in(other, factory.user(Role.APPROVER).email)
    for url in (f"/exports/{job_id}", f"/exports/{job_id}/status.json"):
        assert other.get(url).status_code == 404, url
    assert other.get(f"/exports/{job_id}/download").status_code == 404
    assert f"/exports/{job_id}" not in other.get("/exports/").get_data(as_text=True)

    admin = client.application.test_client()
    sign_in(admin, factory.user(Role.ADMIN).email)
    assert _download(admin, f"/exports/{job_id}/download").status_code == 200

    officer = client.application.test_client()  # officers do not read the books
    sign_in(officer, factory.user(Role.OFFICER).email)
    before = _jobs()
    assert _ask(officer, kind="portfolio").status_code == 403
    assert _jobs() == before


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"kind": "journal", "date_from": "2026-11-30", "date_to": "2026-11-01"},
            "The period starts on 30 Nov 2026, after it ends on 1 Nov 2026.",
        ),
        (
            {"kind": "repayments", "date_from": "first of May", "date_to": "2026-11-01"},
            "The first day of the period must be a date like 2026-11-01, not “first of May”.",
        ),
        (
            {"kind": "disbursements", "date_from": "2026-11-01", "date_to": ""},
            "Give the last day of the period.",
        ),
        (
            {"kind": "portfolio", "as_of": "2026-11-24"},
            "The ledger can be made as of today (23 Nov 2026) at the latest, not as of "
            "24 Nov 2026.",
        ),
        ({"kind": "payroll", "as_of": ""}, "There is no export called “payroll”."),
        (
            {"kind": "lending_report", "period": "2026-H3"},
            "“2026-H3” is not a reporting period.",
        ),
        (
            {"kind": "lending_report", "period": "2027"},
            "Year 2027 has not started yet: it begins on 1 Jan 2027 and today is 23 Nov 2026.",
        ),
    ],
)
def test_bad_dates_are_explained_and_queue_nothing(client, factory, folder, fields, message):
    sign_in(client, factory.user(Role.ADMIN).email)
    response = _ask(client, **fields)
    assert response.status_code == 302 and "/books/" in response.location
    page = client.get(response.location).get_data(as_text=True)
    assert message in page
    # What was typed is kept in the form.
    for value in (fields.get("date_from"), fields.get("date_to"), fields.get("as_of")):
        if value:
            assert f'value="{value}"' in page
    assert _jobs() == 0
    assert not folder.exists() or list(folder.iterdir()) == []


def test_a_writer_that_fails_leaves_a_failed_job_with_its_error_and_nothing_to_download(
    client, factory, folder, monkeypatch
):
    def half_written(target, rows, **options):
        with open(target, "wb") as handle:
            handle.write(b"PK\x03\x04 half a workbook")
        raise OSError("No space left on device")

    monkeypatch.setattr("loanfund.exports.portfolio.write_portfolio_ledger", half_written)
    sign_in(client, factory.user(Role.ADMIN).email)
    job_id = _job_id(_ask(client, kind="portfolio", as_of="2026-11-23"))

    state = client.get(f"/exports/{job_id}/status.json").get_json()
    assert state["status"] == "failed" and state["finished"] is True
    assert state["download_url"] is None
    job = db.session.get(ExportJob, job_id)
    db.session.refresh(job)
    assert "No space left on device" in job.error and job.store_key is None
    assert job.finished_at is not None
    assert client.get(f"/exports/{job_id}/download").status_code == 404
    assert list(folder.iterdir()) == []  # the half-written file is gone
    page = client.get(f"/exports/{job_id}").get_data(as_text=True)
    assert "could not be made" in page and "No space left on device" in page  # admin sees why


def test_a_job_silent_for_half_an_hour_is_shown_failed_and_can_be_asked_for_again(
    client, factory, folder, monkeypatch
):
    admin = factory.user(Role.ADMIN)
    sign_in(client, admin.email)
    last_report = dt.datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    job = ExportJob(
        kind=ExportKind.PORTFOLIO,
        params={"as_of": "2026-11-23", "locale": "en"},
        requested_by_id=admin.id,
        status=ExportStatus.RUNNING,
        rows_done=150,
        rows_total=600,
        created_at=last_report,
        started_at=last_report,
        progress_at=last_report,
    )
    db.session.add(job)
    db.session.commit()

    # 29 minutes after its last report it is still being written: 150 of 600 rows is 25 %.
    monkeypatch.setattr(
        "loanfund.web.exports.routes.fund_now", lambda: last_report + dt.timedelta(minutes=29)
    )
    state = client.get(f"/exports/{job.id}/status.json").get_json()
    assert (state["status"], state["percent"], state["finished"]) == ("running", 25, False)
    assert state["rows_text"] == "150 of 600 rows"
    page = client.get(f"/exports/{job.id}").get_data(as_text=True)
    assert "pct-25" in page and "<noscript>" in page and 'data-testid="export-refresh"' in page
    # Asking again for the same ledger meanwhile gives back the same job (a double click).
    assert _job_id(_ask(client, kind="portfolio", as_of="2026-11-23")) == job.id
    assert _jobs() == 1

    # 31 minutes: the process that wrote it is taken to have died.
    monkeypatch.setattr(
        "loanfund.web.exports.routes.fund_now", lambda: last_report + dt.timedelta(minutes=31)
    )
    state = client.get(f"/exports/{job.id}/status.json").get_json()
    assert (state["status"], state["finished"], state["download_url"]) == ("failed", True, None)
    again = _job_id(_ask(client, kind="portfolio", as_of="2026-11-23"))
    assert again != job.id and _jobs() == 2
    assert client.get(f"/exports/{again}/status.json").get_json()["status"] == "done"


def test_the_clean_up_removes_workbooks_older_than_a_week_and_fails_dead_jobs(
    session, factory, tmp_path
):
    folder = tmp_path / "old-exports"
    folder.mkdir()
    owner = factory.user(Role.ADMIN)
    now = dt.datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a week before: 16 Nov, 12:00

    def finished(key: str, on: dt.datetime) -> ExportJob:
        (folder / f"{key}.xlsx").write_bytes(b"workbook")
        job = ExportJob(
            kind=ExportKind.JOURNAL,
            params={"from": "2026-11-01", "to": "2026-11-05", "locale": "en"},
            requested_by_id=owner.id,
            status=ExportStatus.DONE,
            store_key=key,
            file_name="journal.xlsx",
            created_at=on,
            started_at=on,
            finished_at=on,
        )
        session.add(job)
        return job

    old = finished("o" * 32, dt.datetime(2026, 11, 16, 11, 0, tzinfo=UTC))  # 7 days 1 hour
    recent = finished("r" * 32, dt.datetime(2026, 11, 16, 13, 0, tzinfo=UTC))  # 6 days 23 h
    dead = ExportJob(
        kind=ExportKind.PORTFOLIO,
        params={"as_of": "2026-11-23", "locale": "en"},
        requested_by_id=owner.id,
        status=ExportStatus.RUNNING,
        created_at=dt.datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
        started_at=dt.datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
        progress_at=dt.datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
    )
    session.add(dead)
    session.commit()
    # What a crash left: an old partial file and a fresh one (another export being written).
    leftover, writing = folder / ("x" * 32 + ".xlsx.part"), folder / ("y" * 32 + ".xlsx.part")
    for path, day in ((leftover, 1), (writing, 23)):
        path.write_bytes(b"PK")
        stamp = dt.datetime(2026, 11, day, 11, 0, tzinfo=UTC).timestamp()
        os.utime(path, (stamp, stamp))

    counts = service.remove_old_exports(session, folder=folder, now=now, keep_days=7)

    assert counts == {"stale_failed": 1, "files_removed": 1, "leftovers_removed": 1}
    assert sorted(path.name for path in folder.iterdir()) == sorted(
        ["r" * 32 + ".xlsx", "y" * 32 + ".xlsx.part"]
    )
    for job in (old, recent, dead):
        session.refresh(job)
    assert old.store_key is None and old.status is ExportStatus.DONE  # still listed
    assert recent.store_key == "r" * 32
    assert dead.status is ExportStatus.FAILED and "Ask for it again" in dead.error
    # A second run finds nothing more to do.
    assert service.remove_old_exports(session, folder=folder, now=now, keep_days=7) == {
        "stale_failed": 0,
        "files_removed": 0,
        "leftovers_removed": 0,
    }


def test_the_threaded_runner_writes_the_workbook_off_the_requests_thread(
    app, session, factory, folder, monkeypatch
):
    admin = factory.user(Role.ADMIN)
    job = service.request_export(
        session,
        actor=actor_for(admin),
        kind="disbursements",
        params={"from": "2026-11-01", "to": "2026-11-23"},
        locale="en",
        today=TODAY,
    )
    threads: list[threading.Thread] = []
    real_run = runner_module.run_export

    def watched(*args, **kwargs):
        threads.append(threading.current_thread())
        return real_run(*args, **kwargs)

    monkeypatch.setattr(runner_module, "run_export", watched)
    runner = runner_module.ExportRunner(app, threads=1, inline=False)
    try:
        status = runner.submit(job.id).result(timeout=120)
    finally:
        runner.shutdown()

    assert status is ExportStatus.DONE
    assert len(threads) == 1 and threads[0] is not threading.current_thread()
    assert threads[0].name.startswith("loanfund-export")
    session.refresh(job)
    assert job.status is ExportStatus.DONE and job.store_key is not None
    assert (folder / f"{job.store_key}.xlsx").is_file()


def test_under_testing_the_apps_runner_runs_inline(app):
    runner = runner_module.export_runner(app)
    assert runner.inline is True and runner_module.export_runner(app) is runner
