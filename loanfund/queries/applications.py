"""Reading applications: one application with all it holds, the queues, exposures."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import String, and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from loanfund.domain.applications import PENDING_STATUSES, ApplicationStatus, term_class
from loanfund.domain.calendar import add_working_days
from loanfund.domain.policy import Policy
from loanfund.models import (
    ApplicationDecision,
    ApplicationDocument,
    ApplicationMessage,
    Appraisal,
    AuditEvent,
    Cooperative,
    LoanApplication,
    RelatedBorrowers,
)
from loanfund.models.types import Money


def get_application(session: Session, application_id: int) -> LoanApplication | None:
    return session.get(
        LoanApplication,
        application_id,
        options=[
            selectinload(LoanApplication.cash_flows),
            selectinload(LoanApplication.collateral),
            selectinload(LoanApplication.guarantors),
            selectinload(LoanApplication.documents),
        ],
    )


def appraisal_of(session: Session, application_id: int) -> Appraisal | None:
    return session.scalar(
        select(Appraisal)
        .where(Appraisal.application_id == application_id)
        .options(selectinload(Appraisal.findings))
    )


def decisions_of(session: Session, application_id: int) -> list[ApplicationDecision]:
    return list(
        session.scalars(
            select(ApplicationDecision)
            .where(ApplicationDecision.application_id == application_id)
            .order_by(ApplicationDecision.id)
        )
    )


def messages_of(
    session: Session, application_id: int, *, include_internal: bool
) -> list[ApplicationMessage]:
    query = select(ApplicationMessage).where(ApplicationMessage.application_id == application_id)
    if not include_internal:
        query = query.where(ApplicationMessage.internal.is_(False))
    return list(session.scalars(query.order_by(ApplicationMessage.id)))


def related_cooperative_ids(session: Session, cooperative_id: int) -> set[int]:
    """The cooperatives linked to this one as related borrowers."""
    rows = session.execute(
        select(RelatedBorrowers.cooperative_id, RelatedBorrowers.related_id).where(
            or_(
                RelatedBorrowers.cooperative_id == cooperative_id,
                RelatedBorrowers.related_id == cooperative_id,
            )
        )
    )
    return {a if b == cooperative_id else b for a, b in rows}


def _sum_approved():  # type: ignore[no-untyped-def]
    return func.coalesce(func.sum(LoanApplication.approved_amount), 0, type_=Money())


def exposure(
    session: Session, cooperative_ids: set[int], *, exclude_application_id: int | None = None
) -> Decimal:
    """What these cooperatives owe or have been promised (see ``queries.loans.exposure``)."""
    from loanfund.queries.loans import exposure as loans_exposure

    return loans_exposure(session, cooperative_ids, exclude_application_id=exclude_application_id)


def commitments(session: Session) -> Decimal:
    """Approved but not yet disbursed, over all borrowers (DESIGN §4's commitments)."""
    from loanfund.queries.loans import commitments as loans_commitments

    return loans_commitments(session)


def decision_due_on(application: LoanApplication, policy: Policy) -> dt.date | None:
    """The last working day for the decision, counted from the complete dossier."""
    if application.complete_on is None or application.status not in PENDING_STATUSES:
        return None
    days = {
        "short": policy.decision_days_short,
        "medium": policy.decision_days_medium,
        "long": policy.decision_days_long,
    }[term_class(application.term_months)]
    return add_working_days(application.complete_on, days)


@dataclass(frozen=True, slots=True)
class QueueRow:
    application: LoanApplication
    cooperative_name: str
    due_on: dt.date | None
    overdue: bool


QUEUES = ("new", "mine", "waiting", "decide", "overdue", "all")


def queue(
    session: Session, *, name: str, user_id: int | None, today: dt.date, policy: Policy
) -> list[QueueRow]:
    """A staff work queue: ``new`` (submitted, nobody appraising), ``mine`` (open and assigned
    to the user), ``waiting`` (on the applicant), ``decide`` (appraised), ``overdue`` (past the
    decision time) or ``all`` open ones."""
    query = (
        select(LoanApplication, Cooperative.name)
        .join(Cooperative, Cooperative.id == LoanApplication.cooperative_id)
        .where(LoanApplication.status != ApplicationStatus.DRAFT)
        .order_by(LoanApplication.submitted_on, LoanApplication.id)
    )
    open_statuses = [*PENDING_STATUSES, ApplicationStatus.INFO_REQUESTED]
    if name == "new":
        query = query.where(LoanApplication.status == ApplicationStatus.SUBMITTED)
    elif name == "mine":
        query = query.where(
            LoanApplication.officer_id == user_id, LoanApplication.status.in_(open_statuses)
        )
    elif name == "waiting":
        query = query.where(LoanApplication.status == ApplicationStatus.INFO_REQUESTED)
    elif name == "decide":
        query = query.where(LoanApplication.status == ApplicationStatus.APPRAISED)
    elif name in ("overdue", "all"):
        query = query.where(LoanApplication.status.in_(open_statuses))
    rows = []
    for application, cooperative_name in session.execute(query):
        due_on = decision_due_on(application, policy)
        overdue = due_on is not None and today > due_on
        if name == "overdue" and not overdue:
            continue
        rows.append(QueueRow(application, cooperative_name, due_on, overdue))
    return rows


def queue_counts(
    session: Session, *, user_id: int | None, today: dt.date, policy: Policy
) -> dict[str, int]:
    return {
        name: len(queue(session, name=name, user_id=user_id, today=today, policy=policy))
        for name in QUEUES
    }


def applications_of(session: Session, cooperative_id: int) -> list[LoanApplication]:
    """A cooperative's applications, newest first."""
    return list(
        session.scalars(
            select(LoanApplication)
            .where(LoanApplication.cooperative_id == cooperative_id)
            .order_by(LoanApplication.id.desc())
        )
    )


def count_by_status(session: Session) -> dict[str, int]:
    """Applications by status (every status present, zeros included)."""
    counts = dict(
        session.execute(
            select(LoanApplication.status, func.count()).group_by(LoanApplication.status)
        ).all()
    )
    return {status.value: counts.get(status, 0) for status in ApplicationStatus}


def history_of(session: Session, application_id: int) -> list[AuditEvent]:
    """The application's audit trail (its status changes, edits and documents), oldest first."""
    document_ids = select(ApplicationDocument.id).where(
        ApplicationDocument.application_id == application_id
    )
    query = select(AuditEvent).where(
        or_(
            and_(
                AuditEvent.entity == "loan_application",
                AuditEvent.entity_id == str(application_id),
            ),
            and_(
                AuditEvent.entity == "application_document",
                AuditEvent.entity_id.in_(select(func.cast(document_ids.subquery().c.id, String))),
            ),
        )
    )
    return list(session.scalars(query.order_by(AuditEvent.id)))


def related_links(session: Session, cooperative_id: int) -> list[tuple[RelatedBorrowers, str]]:
    """The cooperative's related-borrower links, with the other cooperative's name."""
    links = session.scalars(
        select(RelatedBorrowers).where(
            or_(
                RelatedBorrowers.cooperative_id == cooperative_id,
                RelatedBorrowers.related_id == cooperative_id,
            )
        )
    ).all()
    rows = []
    for link in links:
        other_id = link.related_id if link.cooperative_id == cooperative_id else link.cooperative_id
        other = session.get(Cooperative, other_id)
        rows.append((link, other.name if other else "?"))
    return sorted(rows, key=lambda row: row[1])


@dataclass(frozen=True, slots=True)
class DecisionTimes:
    """How long the fund takes to decide: working days from submission to decision."""

    decided: int
    average_working_days: Decimal | None
    longest_working_days: int | None
    late_open: int


def decision_times(session: Session, *, today: dt.date, policy: Policy) -> DecisionTimes:
    from loanfund.domain.calendar import working_days_between

    decided = session.execute(
        select(LoanApplication.submitted_on, LoanApplication.decided_on).where(
            LoanApplication.decided_on.is_not(None), LoanApplication.submitted_on.is_not(None)
        )
    ).all()
    days = [working_days_between(submitted, decided_on) for submitted, decided_on in decided]
    late = len(queue(session, name="overdue", user_id=None, today=today, policy=policy))
    average = (
        (Decimal(sum(days)) / len(days)).quantize(Decimal("0.1"), rounding="ROUND_HALF_UP")
        if days
        else None
    )
    return DecisionTimes(len(days), average, max(days) if days else None, late)
