"""A daily close killed with SIGKILL in the middle, then run again, ends in the same state as a
close that was never interrupted (on SQLite files, or on fresh PostgreSQL databases when
LOANFUND_TEST_DATABASE_URL is PostgreSQL: see ``crash_support``)."""

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import select

from loanfund.models import (
    BusinessDay,
    DebtGroupChange,
    JournalEntry,
    Loan,
    PortfolioSnapshot,
)
from loanfund.queries.ledger import account_balances
from loanfund.services.daily_close import close_through
from tests.conftest import TODAY
from tests.integration.crash_support import crash_databases, demo_database, opened

THROUGH = TODAY + dt.timedelta(days=20)


def _state(databases, url):
    """Everything the close writes, in a comparable form."""
    with opened(databases, url) as session:
        return {
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


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is a POSIX signal")
def test_a_close_killed_midway_finishes_with_the_same_result(tmp_path):
    with crash_databases(tmp_path) as databases:
        crashed = demo_database(databases, "crashed")
        calm = databases.copy(crashed, "calm")

        # Close 20 more days in batches of 2 loans, killed in the 9th loan's ageing (day 2).
        script = textwrap.dedent(
            f"""
            import datetime as dt, os, signal
            from loanfund.app import create_app
            from loanfund.models import db
            from loanfund.services import daily_close

            daily_close.BATCH = 2
            figures_on, calls = daily_close.figures_on, [0]

            def dying_figures_on(*args, **kwargs):
                calls[0] += 1
                if calls[0] == 9:
                    os.kill(os.getpid(), signal.SIGKILL)
                return figures_on(*args, **kwargs)

            daily_close.figures_on = dying_figures_on
            app = create_app({databases.settings(crashed)!r})
            with app.app_context():
                daily_close.close_through(db.session, through=dt.date.fromisoformat("{THROUGH}"))
            """
        )
        result = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, timeout=300, env=dict(os.environ)
        )
        assert result.returncode == -signal.SIGKILL, result.stderr.decode()[-2000:]
        half = _state(databases, crashed)
        assert "running" in {status for _day, status in half["days"]}, half["days"][-3:]

        for url in (crashed, calm):
            with opened(databases, url) as session:
                close_through(session, through=THROUGH)
        assert _state(databases, crashed) == _state(databases, calm)
