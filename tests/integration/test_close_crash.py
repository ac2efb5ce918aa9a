"""A daily close killed with SIGKILL in the middle, on a file database, then run again, ends
in the same state as a close that was never interrupted."""

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import select

from loanfund.app import create_app
from loanfund.domain.access import SYSTEM
from loanfund.models import (
    BusinessDay,
    DebtGroupChange,
    JournalEntry,
    Loan,
    PortfolioSnapshot,
    db,
)
from loanfund.queries.ledger import account_balances
from loanfund.services.daily_close import close_through
from loanfund.services.demo import load_demo_fund
from loanfund.services.file_store import FileStore
from loanfund.services.settings import initialize_fund
from tests.conftest import TODAY

THROUGH = TODAY + dt.timedelta(days=20)


def _settings(path):
    return {
        "DATABASE_URL": f"sqlite:///{path}",
        "TESTING": True,
        "DEFAULT_LOCALE": "en",
        "LANGUAGES": ["en", "vi"],
        "UPLOAD_DIR": str(path.parent / "uploads"),
    }


def _state(path):
    """Everything the close writes, in a comparable form."""
    app = create_app(_settings(path))
    with app.app_context():
        session = db.session
        state = {
            "loans": [
                (
                    loan.id,
                    loan.closed_through,
                    loan.days_past_due,
                    loan.own_group,
                    loan.debt_group,
                    loan.principal_outstanding,
                    loan.interest_accrued,
                    loan.penalty_accrued,
                    loan.specific_provision,
                    loan.general_provision,
                )
                for loan in session.scalars(select(Loan).order_by(Loan.id))
            ],
            "balances": account_balances(session),
            "changes": [
                (c.loan_id, c.business_date, c.from_group, c.to_group, c.reason)
                for c in session.scalars(select(DebtGroupChange).order_by(DebtGroupChange.id))
            ],
            "days": [
                (d.business_date, d.status)
                for d in session.scalars(select(BusinessDay).order_by(BusinessDay.business_date))
            ],
            "snapshots": [
                (s.business_date, s.outstanding, s.by_group, s.par30_pct, s.specific_provision)
                for s in session.scalars(select(PortfolioSnapshot))
            ],
            "entries": sorted(
                (e.kind.value, e.value_date, sum(line.debit for line in e.lines))
                for e in session.scalars(select(JournalEntry))
            ),
        }
        db.session.remove()
        db.engine.dispose()
    return state


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is a POSIX signal")
def test_a_close_killed_midway_finishes_with_the_same_result(tmp_path):
    crashed, calm = tmp_path / "crashed.sqlite3", tmp_path / "calm.sqlite3"
    app = create_app(_settings(crashed))
    with app.app_context(), app.test_request_context():
        db.create_all()
        initialize_fund(
            db.session, actor=SYSTEM, fund_name="Demo", currency="VND", timezone="Asia/Ho_Chi_Minh"
        )
        load_demo_fund(
            db.session,
            hash_password=lambda password: "x",
            today=TODAY,
            store=FileStore(tmp_path / "uploads"),
        )
        db.session.remove()
        db.engine.dispose()
    shutil.copy(crashed, calm)

    # Close 20 more days in batches of 2 loans, killed in the 9th loan's ageing (day 2).
    script = textwrap.dedent(
        f"""
        import datetime as dt, os, signal
        from loanfund.app import create_app
        from loanfund.models import db
        from loanfund.services import daily_close

        daily_close.BATCH = 2
        age, calls = daily_close._age, [0]

        def dying_age(*args, **kwargs):
            calls[0] += 1
            if calls[0] == 9:
                os.kill(os.getpid(), signal.SIGKILL)
            return age(*args, **kwargs)

        daily_close._age = dying_age
        app = create_app({_settings(crashed)!r})
        with app.app_context():
            daily_close.close_through(db.session, through=dt.date.fromisoformat("{THROUGH}"))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, timeout=300, env=dict(os.environ)
    )
    assert result.returncode == -signal.SIGKILL, result.stderr.decode()[-2000:]
    half = _state(crashed)
    assert "running" in {status for _day, status in half["days"]}, half["days"][-3:]

    for path in (crashed, calm):
        app = create_app(_settings(path))
        with app.app_context():
            close_through(db.session, through=THROUGH)
            db.session.remove()
            db.engine.dispose()
    assert _state(crashed) == _state(calm)
