"""How long the daily close takes as the book grows.

Run ``python -m loanfund.bench.daily_close --loans 2000 [--database URL]``. It loads the demo
fund (into a temporary SQLite file unless ``--database`` names an empty database), copies its
disbursed loans — each with its application, schedule versions and receipts — until the book
holds ``--loans`` loans, then times the close of the next business date (every loan aged,
grouped and provided for, the books adjusted, the snapshot written) and prints loans per
second and the projection to 100,000 loans (the issue's target: 60 s).

The copies are written with bulk inserts of the demo's own rows, so their money is real:
each copy replays exactly like its original.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

TARGET_SECONDS_AT_100K = 60


def _copy_loans(session: Any, target: int) -> int:
    from loanfund.models import Loan, LoanApplication, Repayment, ScheduleVersion

    templates = list(session.scalars(select(Loan).where(Loan.schedules.any()).order_by(Loan.id)))
    count = session.scalar(select(func.count(Loan.id))) or 0
    n = 0
    application_columns = [c.key for c in LoanApplication.__table__.columns if c.key != "id"]
    loan_columns = [c.key for c in Loan.__table__.columns if c.key != "id"]
    while count < target:
        for template in templates:
            if count >= target:
                break
            n += 1
            application = template.application
            values = {key: getattr(application, key) for key in application_columns}
            values["number"] = f"BX-{n:07d}"
            application_id = session.execute(
                insert(LoanApplication).values(values).returning(LoanApplication.id)
            ).scalar_one()
            values = {key: getattr(template, key) for key in loan_columns}
            values.update(application_id=application_id, contract_no=f"BX-{n:07d}")
            loan_id = session.execute(insert(Loan).values(values).returning(Loan.id)).scalar_one()
            for version in template.schedules:
                row = {
                    c.key: getattr(version, c.key)
                    for c in ScheduleVersion.__table__.columns
                    if c.key != "id"
                }
                row["loan_id"] = loan_id
                session.execute(insert(ScheduleVersion).values(row))
            receipts = session.scalars(
                select(Repayment).where(Repayment.loan_id == template.id)
            ).all()
            for receipt in receipts:
                row = {
                    c.key: getattr(receipt, c.key)
                    for c in Repayment.__table__.columns
                    if c.key != "id"
                }
                row.update(
                    loan_id=loan_id,
                    idempotency_key=f"bx-{n}-{receipt.sequence}",
                    journal_entry_id=None,
                )
                session.execute(insert(Repayment).values(row))
            count += 1
        session.commit()
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=2_000)
    parser.add_argument("--database", default="")
    args = parser.parse_args(argv)

    from flask_security import hash_password

    from loanfund.app import create_app
    from loanfund.domain.access import SYSTEM
    from loanfund.models import db
    from loanfund.services.daily_close import close_day, last_closed
    from loanfund.services.demo import load_demo_fund
    from loanfund.services.file_store import FileStore
    from loanfund.services.settings import initialize_fund

    folder = Path(tempfile.mkdtemp(prefix="loanfund-bench-"))
    url = args.database or f"sqlite:///{folder / 'bench.sqlite3'}"
    app = create_app({"DATABASE_URL": url, "UPLOAD_DIR": str(folder / "uploads")})
    today = dt.date(2026, 11, 23)
    with app.app_context(), app.test_request_context():
        db.create_all()
        initialize_fund(
            db.session, actor=SYSTEM, fund_name="Bench", currency="VND", timezone="Asia/Ho_Chi_Minh"
        )
        load_demo_fund(
            db.session, hash_password=hash_password, today=today, store=FileStore(folder)
        )
        started = time.perf_counter()
        loans = _copy_loans(db.session, args.loans)
        copied = time.perf_counter() - started
        day = (last_closed(db.session) or today) + dt.timedelta(days=1)
        started = time.perf_counter()
        counts = close_day(db.session, day=day)
        seconds = time.perf_counter() - started
    per_second = counts["loans_aged"] / seconds if seconds else 0.0
    projected = 100_000 / per_second if per_second else float("inf")
    print(f"database        {url.split(':', 1)[0]}")
    machine = platform.processor() or platform.machine()
    print(f"machine         {machine}, Python {sys.version.split()[0]}")
    print(f"loans in book   {loans:,} (copied in {copied:.1f} s)")
    print(f"close of        {day.isoformat()}: {counts}")
    print(f"close took      {seconds:.2f} s  ({per_second:,.0f} loans/s)")
    verdict = "met" if projected <= TARGET_SECONDS_AT_100K else "missed"
    target = TARGET_SECONDS_AT_100K
    print(f"at 100,000      about {projected:,.0f} s (target {target} s: {verdict})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
