"""The semi-annual / annual lending report's figures (``domain.reporting`` says what each
one means).

The portfolio is the portfolio ledger's, as of the report's date (its rows, replayed with the
close's rules), so every section adds up to that ledger; disbursed and collected are the
registers' rows for the same dates; the visits are the inspection register's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy.orm import Session

from loanfund.domain.applications import PriorityCategory
from loanfund.domain.classification import general_provision
from loanfund.domain.cooperatives import LegalType
from loanfund.domain.reporting import (
    LendingReport,
    ReportLoan,
    ReportPeriod,
    Visit,
    build_report,
    monthly_flows,
)
from loanfund.models.types import money_digits
from loanfund.queries.lending_report import cooperative_profiles, loan_profiles, visit_rows
from loanfund.queries.registers import disbursement_rows, repayment_rows
from loanfund.services.applications import fund_policy
from loanfund.services.portfolio import portfolio_rows


def lending_report(
    session: Session,
    *,
    period: ReportPeriod,
    today: dt.date,
    step: Callable[[], None] | None = None,
) -> LendingReport:
    """The report for ``period``, drawn up as of its last day (or ``today`` while it runs).

    Args:
        session: the database session (only read).
        period: the half-year or year reported on.
        today: the fund's business date.
        step: called once each part of the figures is read: the portfolio, the money that
            moved month by month, then the visits and the cooperatives (three times).

    Raises:
        RuleViolation: the period has not started by ``today``.
    """
    as_of = period.as_of(today)
    rate = fund_policy(session).general_provision_pct
    digits = money_digits()
    rows = [row for row in portfolio_rows(session, as_of=as_of) if row["outstanding"] > 0]
    profiles = loan_profiles(session, [row["loan_id"] for row in rows])
    loans = [
        ReportLoan(
            loan_id=row["loan_id"],
            cooperative_id=profiles[row["loan_id"]]["cooperative_id"],
            legal_type=row["legal_type"],
            sector=profiles[row["loan_id"]]["sector"],
            priority=row["priority"],
            debt_group=row["debt_group"],
            days_past_due=row["days_past_due"],
            outstanding=row["outstanding"],
            specific_provision=row["specific_provision"],
            general_provision=general_provision(
                row["outstanding"], row["debt_group"], rate, digits
            ),
            jobs_created=profiles[row["loan_id"]]["jobs_created"],
        )
        for row in rows
    ]
    done = step or (lambda: None)
    done()
    flows = monthly_flows(
        period.start,
        as_of,
        (
            (row["value_date"], row["amount"])
            for row in disbursement_rows(session, date_from=period.start, date_to=as_of)
        ),
        (
            (
                row["received_on"],
                row["principal"] + row["prepayment"],
                row["interest"],
                row["penalty"],
            )
            for row in repayment_rows(session, date_from=period.start, date_to=as_of)
        ),
    )
    done()
    report = build_report(
        period,
        as_of,
        loans=loans,
        flows=flows,
        visits=[Visit(**row) for row in visit_rows(session, date_from=period.start, date_to=as_of)],
        profiles=cooperative_profiles(session, {loan.cooperative_id for loan in loans}),
        legal_types=[legal_type.value for legal_type in LegalType],
        priorities=[priority.value for priority in PriorityCategory],
    )
    done()
    return report
