"""The five list pages' queries: cooperatives, the staff application queues, loans, receipts
(repayments) and inspections.

Each list has a ``…_listing()`` (its sorts, filters and search, see ``queries.listing``), a
``…Filters`` value (the list's state read from the URL plus what scopes it: the applicant's
cooperative, the inspector, the business day), a ``…_page()`` for the screen and a
``…_rows(session, filters)`` that streams every matching row, in the page's order, as plain
dicts for an export. :func:`list_filters` rebuilds any list's filters from what its export stored
(the query string, the tab, the scope, the day), so a background job writes exactly the rows
the page showed; :func:`list_rows` and :func:`list_row_count` read them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, false, func, or_, select
from sqlalchemy.orm import Session

from loanfund.domain.applications import PENDING_STATUSES, QUEUES, ApplicationStatus
from loanfund.domain.calendar import working_days_between
from loanfund.domain.cooperatives import CooperativeStatus, LegalType
from loanfund.domain.exports import ExportList, ListExport
from loanfund.domain.inspections import InspectionKind, Verdict
from loanfund.domain.loans import LoanStatus, TrancheStatus
from loanfund.domain.policy import Policy
from loanfund.models import (
    Cooperative,
    Inspection,
    Loan,
    LoanApplication,
    LoanProduct,
    Repayment,
    Tranche,
    User,
)
from loanfund.models.types import Money
from loanfund.queries.applications import decision_due_on
from loanfund.queries.listing import (
    Listing,
    ListState,
    choice,
    fold_code,
    integer,
    on_or_after,
    on_or_before,
    page_of,
    stream,
    text,
)
from loanfund.queries.pagination import Page

# --- options for the filters ------------------------------------------------------------------


def districts(session: Session) -> list[str]:
    """The districts the fund's cooperatives are in, alphabetically."""
    query = select(Cooperative.district).distinct().order_by(Cooperative.district)
    return [district for district in session.scalars(query) if district]


def product_options(session: Session) -> list[tuple[int, str]]:
    """Every product (offered or not), by name."""
    query = select(LoanProduct.id, LoanProduct.name).order_by(LoanProduct.name, LoanProduct.id)
    return [(product_id, name) for product_id, name in session.execute(query)]


# --- cooperatives -----------------------------------------------------------------------------


def cooperative_listing() -> Listing:
    return Listing(
        sorts={
            "name": (Cooperative.name_folded,),
            "tax_code": (Cooperative.tax_code,),
            "district": (Cooperative.province, Cooperative.district),
            "sector": (Cooperative.sector,),
            "members": (Cooperative.members_count,),
            "status": (Cooperative.status,),
        },
        default_sort="name",
        default_direction="asc",
        tie_breaker=Cooperative.id,
        filters=(
            choice("status", Cooperative.status, CooperativeStatus),
            choice("legal_type", Cooperative.legal_type, LegalType),
            text("district", Cooperative.district),
        ),
        search=(
            Cooperative.name_folded,
            Cooperative.tax_code,
            fold_code(Cooperative.registration_no),
        ),
    )


@dataclass(frozen=True, slots=True)
class CooperativeFilters:
    state: ListState


def _cooperative_query(filters: CooperativeFilters) -> Select[Any]:
    return cooperative_listing().apply(select(Cooperative), filters.state)


def cooperative_page(session: Session, filters: CooperativeFilters) -> Page[Cooperative]:
    return page_of(session, _cooperative_query(filters), filters.state)


def cooperative_rows(session: Session, filters: CooperativeFilters) -> Iterator[dict[str, Any]]:
    """Every cooperative the filters match, in the page's order."""
    for cooperative in stream(session, _cooperative_query(filters)):
        yield {
            "name": cooperative.name,
            "legal_type": cooperative.legal_type.value,
            "tax_code": cooperative.tax_code,
            "province": cooperative.province,
            "district": cooperative.district,
            "sector": cooperative.sector,
            "members": cooperative.members_count,
            "status": cooperative.status.value,
        }


# --- applications (the staff queues) ----------------------------------------------------------

_OPEN = (*PENDING_STATUSES, ApplicationStatus.INFO_REQUESTED)
#: Term classes by the highest term in months each covers (see ``domain.applications``).
_TERM_CLASSES = (("short", 0, 12), ("medium", 13, 60), ("long", 61, None))


def last_late_completion(today: dt.date, working_days: int) -> dt.date:
    """The latest completion date whose decision is late on ``today``: a dossier complete on
    day ``d`` must be decided by the ``working_days``-th working day after ``d``, so it is late
    when that many working days lie after ``d`` and before ``today``."""
    day = today - dt.timedelta(days=1)
    while working_days_between(day, today - dt.timedelta(days=1)) < working_days:
        day -= dt.timedelta(days=1)
    return day


def _late_condition(today: dt.date, policy: Policy) -> Any:
    """Pending applications whose decision time has run out, as one SQL condition (the same
    rule as ``queries.applications.decision_due_on``)."""
    days = {
        "short": policy.decision_days_short,
        "medium": policy.decision_days_medium,
        "long": policy.decision_days_long,
    }
    term = LoanApplication.term_months
    by_class = []
    for name, low, high in _TERM_CLASSES:
        in_class = term >= low if high is None else and_(term >= low, term <= high)
        by_class.append(
            and_(in_class, LoanApplication.complete_on <= last_late_completion(today, days[name]))
        )
    return and_(
        LoanApplication.status.in_(PENDING_STATUSES),
        LoanApplication.complete_on.is_not(None),
        or_(*by_class),
    )


def _queue_condition(name: str, *, user_id: int | None, today: dt.date, policy: Policy) -> Any:
    status = LoanApplication.status
    if name == "new":
        return status == ApplicationStatus.SUBMITTED
    if name == "mine":
        if user_id is None:
            return false()
        return and_(LoanApplication.officer_id == user_id, status.in_(_OPEN))
    if name == "waiting":
        return status == ApplicationStatus.INFO_REQUESTED
    if name == "decide":
        return status == ApplicationStatus.APPRAISED
    if name == "overdue":
        return _late_condition(today, policy)
    return status.in_(_OPEN)


def application_listing() -> Listing:
    return Listing(
        sorts={
            "number": (LoanApplication.number,),
            "submitted": (LoanApplication.submitted_on,),
            "cooperative": (Cooperative.name_folded,),
            "product": (LoanProduct.name,),
            "amount": (LoanApplication.amount,),
            "status": (LoanApplication.status,),
            "officer": (User.full_name,),
        },
        default_sort="submitted",
        default_direction="asc",
        tie_breaker=LoanApplication.id,
        filters=(
            choice(
                "status",
                LoanApplication.status,
                [s for s in ApplicationStatus if s is not ApplicationStatus.DRAFT],
            ),
            integer("product", LoanApplication.product_id),
            text("district", Cooperative.district),
            on_or_after("from", LoanApplication.submitted_on),
            on_or_before("to", LoanApplication.submitted_on),
        ),
        search=(
            Cooperative.name_folded,
            fold_code(LoanApplication.number),
            Cooperative.tax_code,
        ),
    )


@dataclass(frozen=True, slots=True)
class ApplicationFilters:
    """A queue (``tab``) of one staff user (``user_id``, for "assigned to me") on a day."""

    state: ListState
    tab: str
    user_id: int | None
    today: dt.date
    policy: Policy


def _application_base(tab: str, *, user_id: int | None, today: dt.date, policy: Policy) -> Any:
    return (
        select(LoanApplication, Cooperative.name, LoanProduct.name, User.full_name)
        .join(Cooperative, Cooperative.id == LoanApplication.cooperative_id)
        .join(LoanProduct, LoanProduct.id == LoanApplication.product_id)
        .outerjoin(User, User.id == LoanApplication.officer_id)
        .where(
            LoanApplication.status != ApplicationStatus.DRAFT,
            _queue_condition(tab, user_id=user_id, today=today, policy=policy),
        )
    )


def _application_query(filters: ApplicationFilters) -> Select[Any]:
    base = _application_base(
        filters.tab, user_id=filters.user_id, today=filters.today, policy=filters.policy
    )
    return application_listing().apply(base, filters.state)


@dataclass(frozen=True, slots=True)
class ApplicationRow:
    application: LoanApplication
    cooperative_name: str
    product_name: str
    officer_name: str | None
    due_on: dt.date | None
    overdue: bool


def _application_row(row: Any, filters: ApplicationFilters) -> ApplicationRow:
    application, cooperative_name, product_name, officer_name = row
    due_on = decision_due_on(application, filters.policy)
    overdue = due_on is not None and filters.today > due_on
    return ApplicationRow(
        application, cooperative_name, product_name, officer_name, due_on, overdue
    )


def application_page(session: Session, filters: ApplicationFilters) -> Page[ApplicationRow]:
    page = page_of(session, _application_query(filters), filters.state)
    rows = [_application_row(row, filters) for row in page.items]
    return Page(items=rows, page=page.page, per_page=page.per_page, total=page.total)


def application_rows(session: Session, filters: ApplicationFilters) -> Iterator[dict[str, Any]]:
    """Every application of the queue the filters match, in the page's order."""
    for row in stream(session, _application_query(filters)):
        shown = _application_row(row, filters)
        application = shown.application
        yield {
            "number": application.number,
            "submitted_on": application.submitted_on,
            "cooperative": shown.cooperative_name,
            "product": shown.product_name,
            "amount": application.amount,
            "status": application.status.value,
            "officer": shown.officer_name or "",
            "due_on": shown.due_on,
            "overdue": shown.overdue,
        }


def queue_counts(
    session: Session, *, user_id: int | None, today: dt.date, policy: Policy
) -> dict[str, int]:
    """How many applications each queue holds (one count query each)."""
    return {
        name: session.scalar(
            select(func.count(LoanApplication.id)).where(
                LoanApplication.status != ApplicationStatus.DRAFT,
                _queue_condition(name, user_id=user_id, today=today, policy=policy),
            )
        )
        or 0
        for name in QUEUES
    }


# --- loans ------------------------------------------------------------------------------------


def _disbursed() -> Any:
    """Each loan's paid tranches summed, as a column of the loan's row: worked out for the
    rows a page shows (by the tranches' loan index), not for every loan of the book before
    the page is cut (a sort by it sums them for every loan matched)."""
    return (
        select(func.coalesce(func.sum(Tranche.amount), 0, type_=Money()))
        .where(Tranche.loan_id == Loan.id, Tranche.status == TrancheStatus.PAID)
        .correlate(Loan)
        .scalar_subquery()
    )


@dataclass(frozen=True, slots=True)
class LoanFilters:
    """Loans; ``cooperative_id`` limits them to one cooperative's (an applicant's)."""

    state: ListState
    cooperative_id: int | None = None


def _loan_parts() -> tuple[Listing, Select[Any]]:
    disbursed = _disbursed()
    # What the books hold on loans receivable for the loan, kept by each posting.
    outstanding = Loan.receivable
    base = select(
        Loan,
        Cooperative.name.label("cooperative_name"),
        disbursed.label("disbursed"),
        outstanding.label("outstanding"),
    ).join(Cooperative, Cooperative.id == Loan.cooperative_id)
    listing = Listing(
        sorts={
            "number": (Loan.contract_no,),
            "signed": (Loan.signed_on,),
            "cooperative": (Cooperative.name_folded,),
            "status": (Loan.status,),
            "debt_group": (Loan.debt_group,),
            "approved": (Loan.amount,),
            "disbursed": (disbursed,),
            "outstanding": (outstanding,),
        },
        default_sort="number",
        default_direction="desc",
        tie_breaker=Loan.id,
        filters=(
            choice("status", Loan.status, LoanStatus),
            integer("product", Loan.product_id),
            text("district", Cooperative.district),
            integer("debt_group", Loan.debt_group, low=1, high=5),
            on_or_after("from", Loan.signed_on),
            on_or_before("to", Loan.signed_on),
        ),
        search=(Cooperative.name_folded, fold_code(Loan.contract_no), Cooperative.tax_code),
    )
    return listing, base


def loan_listing() -> Listing:
    return _loan_parts()[0]


def _loan_query(filters: LoanFilters) -> Select[Any]:
    listing, base = _loan_parts()
    if filters.cooperative_id is not None:
        base = base.where(Loan.cooperative_id == filters.cooperative_id)
    return listing.apply(base, filters.state)


def loan_page(session: Session, filters: LoanFilters) -> Page[Any]:
    """Rows of ``(loan, cooperative_name, disbursed, outstanding)``."""
    return page_of(session, _loan_query(filters), filters.state)


def loan_rows(session: Session, filters: LoanFilters) -> Iterator[dict[str, Any]]:
    """Every loan the filters match, in the page's order."""
    for loan, cooperative_name, disbursed, outstanding in stream(session, _loan_query(filters)):
        yield {
            "contract_no": loan.contract_no,
            "signed_on": loan.signed_on,
            "borrower": cooperative_name,
            "status": loan.status.value,
            "debt_group": loan.debt_group,
            "approved": loan.amount,
            "disbursed": disbursed,
            "outstanding": outstanding,
        }


# --- receipts (repayments) --------------------------------------------------------------------


def repayment_listing() -> Listing:
    return Listing(
        sorts={
            "date": (Repayment.received_on,),
            "number": (Repayment.id,),
            "loan": (Loan.contract_no,),
            "borrower": (Cooperative.name_folded,),
            "amount": (Repayment.amount,),
            "status": (Repayment.status,),
        },
        default_sort="date",
        default_direction="desc",
        tie_breaker=Repayment.id,
        filters=(
            choice("status", Repayment.status, ("posted", "reversed")),
            choice("channel", Repayment.channel, ("bank", "cash")),
            integer("product", Loan.product_id),
            text("district", Cooperative.district),
            on_or_after("from", Repayment.received_on),
            on_or_before("to", Repayment.received_on),
        ),
        search=(
            Cooperative.name_folded,
            fold_code(Loan.contract_no),
            Cooperative.tax_code,
            fold_code(Repayment.reference),
        ),
    )


@dataclass(frozen=True, slots=True)
class RepaymentFilters:
    """Receipts; ``cooperative_id`` limits them to one cooperative's loans."""

    state: ListState
    cooperative_id: int | None = None


def _repayment_query(filters: RepaymentFilters) -> Select[Any]:
    base = (
        select(Repayment, Loan.contract_no, Cooperative.name)
        .join(Loan, Loan.id == Repayment.loan_id)
        .join(Cooperative, Cooperative.id == Loan.cooperative_id)
    )
    if filters.cooperative_id is not None:
        base = base.where(Loan.cooperative_id == filters.cooperative_id)
    return repayment_listing().apply(base, filters.state)


@dataclass(frozen=True, slots=True)
class ReceiptRow:
    """A receipt with its loan, its borrower and its split as allocated (principal includes
    any prepaid principal)."""

    repayment: Repayment
    contract_no: str
    borrower: str
    principal: Decimal
    interest: Decimal
    penalty: Decimal


#: How the allocation's components add up to the three parts a list shows.
_PARTS = {
    "principal": ("overdue_principal", "current_principal", "prepayment"),
    "interest": ("overdue_interest", "current_interest"),
    "penalty": ("penalty",),
}


def _receipt_row(repayment: Repayment, contract_no: str, borrower: str) -> ReceiptRow:
    by_component = repayment.allocation.get("by_component", {})
    parts = {
        part: sum((Decimal(by_component.get(key, 0)) for key in keys), Decimal(0))
        for part, keys in _PARTS.items()
    }
    return ReceiptRow(
        repayment, contract_no, borrower, parts["principal"], parts["interest"], parts["penalty"]
    )


def repayment_page(session: Session, filters: RepaymentFilters) -> Page[ReceiptRow]:
    page = page_of(session, _repayment_query(filters), filters.state)
    rows = [_receipt_row(*row) for row in page.items]
    return Page(items=rows, page=page.page, per_page=page.per_page, total=page.total)


def repayment_rows(session: Session, filters: RepaymentFilters) -> Iterator[dict[str, Any]]:
    """Every receipt the filters match, in the page's order."""
    for row in stream(session, _repayment_query(filters)):
        shown = _receipt_row(*row)
        yield {
            "received_on": shown.repayment.received_on,
            "number": shown.repayment.id,
            "contract_no": shown.contract_no,
            "borrower": shown.borrower,
            "channel": shown.repayment.channel,
            "reference": shown.repayment.reference,
            "amount": shown.repayment.amount,
            "principal": shown.principal,
            "interest": shown.interest,
            "penalty": shown.penalty,
            "status": shown.repayment.status,
        }


# --- inspections ------------------------------------------------------------------------------

#: The "due" tab: planned visits due within this many days (or overdue).
DUE_WITHIN_DAYS = 14


def inspection_listing(tab: str) -> Listing:
    """Visits; the done ones are sorted by visit date, latest first, and filtered by it, the
    planned ones by due date, soonest first."""
    done = tab == "done"
    day = Inspection.visited_on if done else Inspection.due_on
    return Listing(
        sorts={
            "due": (Inspection.due_on,),
            "visited": (Inspection.visited_on,),
            "borrower": (Cooperative.name_folded,),
            "loan": (Loan.contract_no,),
            "district": (Cooperative.district,),
            "kind": (Inspection.kind,),
            "inspector": (User.full_name,),
            "verdict": (Inspection.verdict,),
        },
        default_sort="visited" if done else "due",
        default_direction="desc" if done else "asc",
        tie_breaker=Inspection.id,
        filters=(
            choice("kind", Inspection.kind, InspectionKind),
            choice("verdict", Inspection.verdict, Verdict),
            integer("inspector", Inspection.inspector_id),
            text("district", Cooperative.district),
            on_or_after("from", day),
            on_or_before("to", day),
        ),
        search=(Cooperative.name_folded, fold_code(Loan.contract_no), Cooperative.tax_code),
    )


@dataclass(frozen=True, slots=True)
class InspectionFilters:
    """A tab of visits on a day; ``inspector_id`` keeps that inspector's and unassigned ones."""

    state: ListState
    tab: str
    today: dt.date
    inspector_id: int | None = None


def _inspection_query(filters: InspectionFilters) -> Select[Any]:
    today = filters.today
    query = (
        select(Inspection, Loan.contract_no, Cooperative, User.full_name)
        .join(Loan, Loan.id == Inspection.loan_id)
        .join(Cooperative, Cooperative.id == Loan.cooperative_id)
        .outerjoin(User, User.id == Inspection.inspector_id)
        .where(Inspection.status == ("done" if filters.tab == "done" else "planned"))
    )
    if filters.tab == "due":
        query = query.where(Inspection.due_on <= today + dt.timedelta(days=DUE_WITHIN_DAYS))
    elif filters.tab == "overdue":
        query = query.where(Inspection.due_on < today)
    if filters.inspector_id is not None:
        query = query.where(
            (Inspection.inspector_id == filters.inspector_id) | Inspection.inspector_id.is_(None)
        )
    return inspection_listing(filters.tab).apply(query, filters.state)


@dataclass(frozen=True, slots=True)
class InspectionRow:
    inspection: Inspection
    contract_no: str
    cooperative: Cooperative
    inspector_name: str | None
    overdue: bool


def _inspection_row(row: Any, today: dt.date) -> InspectionRow:
    inspection, contract_no, cooperative, inspector_name = row
    overdue = inspection.status == "planned" and inspection.due_on < today
    return InspectionRow(inspection, contract_no, cooperative, inspector_name, overdue)


def inspection_page(session: Session, filters: InspectionFilters) -> Page[InspectionRow]:
    page = page_of(session, _inspection_query(filters), filters.state)
    rows = [_inspection_row(row, filters.today) for row in page.items]
    return Page(items=rows, page=page.page, per_page=page.per_page, total=page.total)


def inspection_rows(session: Session, filters: InspectionFilters) -> Iterator[dict[str, Any]]:
    """Every visit of the tab the filters match, in the page's order."""
    for row in stream(session, _inspection_query(filters)):
        shown = _inspection_row(row, filters.today)
        inspection, cooperative = shown.inspection, shown.cooperative
        yield {
            "due_on": inspection.due_on,
            "visited_on": inspection.visited_on,
            "contract_no": shown.contract_no,
            "borrower": cooperative.name,
            "address": cooperative.address,
            "district": cooperative.district,
            "contact": cooperative.contact_name,
            "phone": cooperative.contact_phone,
            "kind": inspection.kind,
            "inspector": shown.inspector_name or "",
            "verdict": inspection.verdict or "",
            "overdue": shown.overdue,
        }


# --- any list, rebuilt for its export -----------------------------------------------------------

ListFilters = (
    CooperativeFilters | ApplicationFilters | LoanFilters | RepaymentFilters | InspectionFilters
)


def list_filters(export: ListExport, *, policy: Policy) -> ListFilters:
    """The filters of the list an export was asked for on, as its page built them: the state
    read from the same query string, the same tab, scope and business day (``policy`` decides
    which decisions are late, for the overdue queue)."""
    args = export.args
    if export.name is ExportList.COOPERATIVES:
        return CooperativeFilters(cooperative_listing().read(args))
    if export.name is ExportList.APPLICATIONS:
        return ApplicationFilters(
            application_listing().read(args),
            tab=export.tab,
            user_id=export.user_id,
            today=export.today,
            policy=policy,
        )
    if export.name is ExportList.LOANS:
        return LoanFilters(loan_listing().read(args), cooperative_id=export.cooperative_id)
    if export.name is ExportList.RECEIPTS:
        return RepaymentFilters(
            repayment_listing().read(args), cooperative_id=export.cooperative_id
        )
    return InspectionFilters(
        inspection_listing(export.tab).read(args),
        tab=export.tab,
        today=export.today,
        inspector_id=export.inspector_id,
    )


def _list_query(filters: ListFilters) -> Select[Any]:
    if isinstance(filters, CooperativeFilters):
        return _cooperative_query(filters)
    if isinstance(filters, ApplicationFilters):
        return _application_query(filters)
    if isinstance(filters, LoanFilters):
        return _loan_query(filters)
    if isinstance(filters, RepaymentFilters):
        return _repayment_query(filters)
    return _inspection_query(filters)


def list_rows(session: Session, filters: ListFilters) -> Iterator[dict[str, Any]]:
    """Every row of the list the filters match, in its page's order (``…_rows``)."""
    if isinstance(filters, CooperativeFilters):
        return cooperative_rows(session, filters)
    if isinstance(filters, ApplicationFilters):
        return application_rows(session, filters)
    if isinstance(filters, LoanFilters):
        return loan_rows(session, filters)
    if isinstance(filters, RepaymentFilters):
        return repayment_rows(session, filters)
    return inspection_rows(session, filters)


def list_row_count(session: Session, filters: ListFilters) -> int:
    """How many rows :func:`list_rows` gives (the count the page's pager shows)."""
    query = _list_query(filters).order_by(None).subquery()
    return int(session.scalar(select(func.count()).select_from(query)) or 0)
