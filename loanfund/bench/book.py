"""A large loan book for the benchmarks, grown from the demo fund.

:func:`bench_app` makes the application on a temporary SQLite file (or on an empty database
named by a URL); :func:`load_demo` loads the demo fund into it; :func:`copy_loans` copies the
demo's disbursed loans — each with its application, schedule versions and receipts, and on
request its tranches and collateral — until the book holds the number of loans asked for.

The copies are the demo's own rows written again with bulk (executemany) inserts, so their
money is real: each copy replays exactly like its original. Copy ``n`` is numbered
``BX-nnnnnnn`` (application and contract) and its receipts keep their sequence numbers.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from loanfund.models import (
    Collateral,
    Loan,
    LoanApplication,
    Repayment,
    ScheduleVersion,
    Tranche,
)

#: Copies written per transaction.
BATCH = 1_000


def bench_app(database: str = "") -> tuple[Any, str, Path]:
    """The application on ``database`` (default: a new SQLite file in a temporary folder);
    returns it, its database URL and the folder (uploads go there)."""
    from loanfund.app import create_app

    folder = Path(tempfile.mkdtemp(prefix="loanfund-bench-"))
    url = database or f"sqlite:///{folder / 'bench.sqlite3'}"
    app = create_app({"DATABASE_URL": url, "UPLOAD_DIR": str(folder / "uploads")})
    return app, url, folder


def load_demo(session: Any, *, today: dt.date, folder: Path) -> None:
    """Create the tables and load the demo fund (its loans run up to ``today``)."""
    from flask_security import hash_password

    from loanfund.domain.access import SYSTEM
    from loanfund.models import db
    from loanfund.services.demo import load_demo_fund
    from loanfund.services.file_store import FileStore
    from loanfund.services.settings import initialize_fund

    db.create_all()
    initialize_fund(
        session, actor=SYSTEM, fund_name="Bench", currency="VND", timezone="Asia/Ho_Chi_Minh"
    )
    load_demo_fund(session, hash_password=hash_password, today=today, store=FileStore(folder))


def _columns(model: Any) -> list[str]:
    return [column.key for column in model.__table__.columns if column.key != "id"]


def _values(row: Any, keys: list[str]) -> dict[str, Any]:
    return {key: getattr(row, key) for key in keys}


@dataclass(frozen=True)
class _Template:
    """A demo loan's rows, read once, without their ids and links."""

    application: dict[str, Any]
    loan: dict[str, Any]
    schedules: list[dict[str, Any]]
    receipts: list[dict[str, Any]]
    tranches: list[dict[str, Any]]
    collateral: list[dict[str, Any]]


def _templates(session: Any, *, details: bool) -> list[_Template]:
    loans = session.scalars(select(Loan).where(Loan.schedules.any()).order_by(Loan.id))
    templates = []
    for loan in loans:
        receipts = session.scalars(select(Repayment).where(Repayment.loan_id == loan.id))
        templates.append(
            _Template(
                application=_values(loan.application, _columns(LoanApplication)),
                loan=_values(loan, _columns(Loan)),
                schedules=[_values(v, _columns(ScheduleVersion)) for v in loan.schedules],
                receipts=[_values(r, _columns(Repayment)) for r in receipts],
                tranches=[_values(t, _columns(Tranche)) for t in loan.tranches] if details else [],
                collateral=(
                    [_values(c, _columns(Collateral)) for c in loan.application.collateral]
                    if details
                    else []
                ),
            )
        )
    return templates


def _insert_batch(session: Any, batch: list[tuple[int, _Template]]) -> None:
    def ids(model: Any, rows: list[dict[str, Any]]) -> list[int]:
        statement = insert(model).returning(model.id, sort_by_parameter_order=True)
        return list(session.scalars(statement, rows))

    application_ids = ids(
        LoanApplication,
        [{**template.application, "number": f"BX-{n:07d}"} for n, template in batch],
    )
    loan_ids = ids(
        Loan,
        [
            {**template.loan, "application_id": application_id, "contract_no": f"BX-{n:07d}"}
            for (n, template), application_id in zip(batch, application_ids, strict=True)
        ],
    )
    schedules, receipts, tranches, collateral = [], [], [], []
    for (n, template), application_id, loan_id in zip(
        batch, application_ids, loan_ids, strict=True
    ):
        schedules += [{**row, "loan_id": loan_id} for row in template.schedules]
        receipts += [
            {
                **row,
                "loan_id": loan_id,
                "idempotency_key": f"bx-{n}-{row['sequence']}",
                "journal_entry_id": None,
            }
            for row in template.receipts
        ]
        tranches += [
            {
                **row,
                "loan_id": loan_id,
                "idempotency_key": f"bx-{n}-t{index}",
                "journal_entry_id": None,
            }
            for index, row in enumerate(template.tranches, start=1)
        ]
        collateral += [{**row, "application_id": application_id} for row in template.collateral]
    for model, rows in (
        (ScheduleVersion, schedules),
        (Repayment, receipts),
        (Tranche, tranches),
        (Collateral, collateral),
    ):
        if rows:
            session.execute(insert(model), rows)


def copy_loans(session: Any, target: int, *, details: bool = False) -> int:
    """Copy the book's disbursed loans, in turn, until it holds ``target`` loans; returns the
    number of loans it holds (more than ``target`` if it held more to begin with).

    Args:
        details: also copy each loan's tranches and its application's collateral (the
            portfolio ledger shows them; the daily close reads neither).
    """
    templates = _templates(session, details=details)
    count = session.scalar(select(func.count(Loan.id))) or 0
    n = 0
    while count < target:
        batch = []
        while count < target and len(batch) < BATCH:
            batch.append((n + 1, templates[n % len(templates)]))
            n += 1
            count += 1
        _insert_batch(session, batch)
        session.commit()
    return count
