"""The inflow forecast of the daily close: what the active loans' schedules bring back, day by
day, counted once a day so that the dashboard and the books read a few hundred figures instead
of every schedule (``queries.loans.inflow_days`` reads it back).

A forecast counts, for each loan, the schedule version named by ``Loan.inflow_version_id``.
The next one starts from it and recounts only the loans whose schedule or status changed since
(``queries.loans.changed_since_forecast``), then moves those loans' marks to what it counted,
in the same transaction: the forecast and the marks always agree.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.orm import Session

from loanfund.domain.loans import LoanStatus
from loanfund.models import InflowForecast, Loan, ScheduleVersion
from loanfund.queries.loans import (
    DayInflows,
    add_installments,
    forecast_brought_up,
    latest_forecast,
    latest_versions,
)

#: After every installment: the forecast holds them all, so it never needs a new day counted
#: from every schedule as the window of a later reader moves on.
_END = "9999-12-31"


def record_forecast(session: Session, day: dt.date) -> int:
    """Count the inflows due from ``day`` and store them; returns the loans counted anew
    (every active loan the first time, else those changed since the last forecast). The
    caller commits."""
    if session.get(InflowForecast, day) is not None:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        # A schedule version committed later must have a higher number than the ones counted.
        session.execute(text("LOCK TABLE schedule_version IN SHARE MODE"))
    through = session.scalar(select(func.max(ScheduleVersion.id))) or 0
    start = day.isoformat()
    previous = latest_forecast(session)
    days: DayInflows = {}
    marks: list[dict[str, int | None]] = []
    if previous is None or previous.business_date > day:
        session.execute(
            update(Loan).where(Loan.inflow_version_id.is_not(None)).values(inflow_version_id=None)
        )
        for loan_id, version_id, installments in latest_versions(
            session, Loan.status == LoanStatus.ACTIVE
        ):
            add_installments(days, installments, start, _END)
            marks.append({"loan_id": loan_id, "version_id": version_id})
    else:
        days, changed = forecast_brought_up(session, previous, start, _END)
        marks = [{"loan_id": loan_id, "version_id": now} for loan_id, _was, now, *_ in changed]
    if marks:
        session.execute(
            update(Loan.__table__)
            .where(Loan.__table__.c.id == bindparam("loan_id"))
            .values(inflow_version_id=bindparam("version_id")),
            marks,
        )
    session.add(
        InflowForecast(
            business_date=day,
            through_version_id=through,
            days={
                due_on: [str(principal), str(interest)]
                for due_on, (principal, interest) in sorted(days.items())
                if principal or interest
            },
        )
    )
    session.flush()
    return len(marks)
