"""Loan applications: their lifecycle (DESIGN §2) and the eligibility rules (DESIGN §3).

The transition table is the only place that says which action may follow which status; the
eligibility check returns every finding at once, in the applicant's words, with the numbers.
It is run when the applicant submits, again when an approver decides and (later) before every
disbursement, each time with fresh figures.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from loanfund.domain.cooperatives import CooperativeStatus
from loanfund.domain.i18n import _, fmt_money, fmt_number
from loanfund.domain.lifecycle import TransitionTable, next_status
from loanfund.domain.money import ratio_pct
from loanfund.domain.products import (
    ProductTerms,
    PurposeCategory,
    check_within_product,
    purpose_label,
)
from loanfund.domain.schedule import ScheduleTerms


class PriorityCategory(enum.StrEnum):
    """Whom the fund's lending policy puts first (the fund's reports count loans by these)."""

    NONE = "none"
    WOMEN = "women"  # most members are women, or a woman leads the cooperative
    ETHNIC_MINORITY = "ethnic_minority"  # most members belong to ethnic minorities
    DISADVANTAGED_AREA = "disadvantaged_area"  # a commune with especially hard conditions
    VALUE_CHAIN = "value_chain"  # a production-to-market linkage with buyers or processors
    HIGH_TECH = "high_tech"  # high-tech or organic agriculture, digital transformation


def priority_label(priority: PriorityCategory) -> str:
    return {
        PriorityCategory.NONE: _("No priority category"),
        PriorityCategory.WOMEN: _("Women members or leadership"),
        PriorityCategory.ETHNIC_MINORITY: _("Mostly ethnic-minority members"),
        PriorityCategory.DISADVANTAGED_AREA: _("Area with especially hard conditions"),
        PriorityCategory.VALUE_CHAIN: _("Value-chain linkage"),
        PriorityCategory.HIGH_TECH: _("High-tech or organic production"),
    }[priority]


class ApplicationStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_APPRAISAL = "in_appraisal"
    INFO_REQUESTED = "info_requested"
    APPRAISED = "appraised"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


_S = ApplicationStatus

#: Statuses before a decision: the applicant may still withdraw.
OPEN_STATUSES: Final = frozenset(
    {_S.DRAFT, _S.SUBMITTED, _S.IN_APPRAISAL, _S.INFO_REQUESTED, _S.APPRAISED}
)
#: Statuses in which the fund is working on the application (its decision clock runs).
PENDING_STATUSES: Final = frozenset({_S.SUBMITTED, _S.IN_APPRAISAL, _S.APPRAISED})
#: The staff work queues (tabs of the queue page): new, assigned to the reader, waiting on the
#: applicant, to decide, late decisions, every open one.
QUEUES: Final = ("new", "mine", "waiting", "decide", "overdue", "all")

APPLICATION_TRANSITIONS: TransitionTable[ApplicationStatus] = {
    (_S.DRAFT, "submit"): _S.SUBMITTED,
    (_S.SUBMITTED, "start_appraisal"): _S.IN_APPRAISAL,
    (_S.IN_APPRAISAL, "request_info"): _S.INFO_REQUESTED,
    (_S.INFO_REQUESTED, "answer"): _S.IN_APPRAISAL,
    (_S.IN_APPRAISAL, "complete_appraisal"): _S.APPRAISED,
    (_S.APPRAISED, "return_to_appraisal"): _S.IN_APPRAISAL,
    (_S.APPRAISED, "approve"): _S.APPROVED,
    (_S.APPRAISED, "reject"): _S.REJECTED,
    **{(status, "withdraw"): _S.WITHDRAWN for status in OPEN_STATUSES},
}


def status_label(status: ApplicationStatus) -> str:
    return {
        _S.DRAFT: _("draft"),
        _S.SUBMITTED: _("submitted"),
        _S.IN_APPRAISAL: _("in appraisal"),
        _S.INFO_REQUESTED: _("information requested"),
        _S.APPRAISED: _("appraised, awaiting decision"),
        _S.APPROVED: _("approved"),
        _S.REJECTED: _("rejected"),
        _S.WITHDRAWN: _("withdrawn"),
    }[status]


def action_label(action: str) -> str:
    return {
        "submit": _("submit this application"),
        "start_appraisal": _("start appraising this application"),
        "request_info": _("ask the applicant for information"),
        "answer": _("answer the request for information"),
        "complete_appraisal": _("complete the appraisal"),
        "return_to_appraisal": _("return the application to appraisal"),
        "approve": _("approve this application"),
        "reject": _("reject this application"),
        "withdraw": _("withdraw this application"),
    }[action]


def next_application_status(current: ApplicationStatus, action: str) -> ApplicationStatus:
    """The status ``action`` leads to, or :class:`InvalidTransition` with a sentence."""
    return next_status(
        APPLICATION_TRANSITIONS,
        current,
        action,
        label=action_label(action),
        describe=status_label,
    )


# --- eligibility ------------------------------------------------------------------------------


class Rule(enum.StrEnum):
    """The eligibility rules, each reported on its own."""

    COOPERATIVE_VERIFIED = "cooperative_verified"
    WITHIN_PRODUCT = "within_product"
    PURPOSE = "purpose"
    OWN_EQUITY = "own_equity"
    DOCUMENTS = "documents"
    SINGLE_BORROWER = "single_borrower"
    RELATED_BORROWERS = "related_borrowers"


@dataclass(frozen=True, slots=True)
class Finding:
    rule: Rule
    message: str


@dataclass(frozen=True, slots=True)
class EligibilityFacts:
    """Everything the rules look at, gathered fresh by the caller.

    Attributes:
        cooperative_status: the borrower's verification status.
        product: the loan product applied for.
        terms: the requested (or recommended, or approved) schedule terms.
        purpose: the purpose category.
        project_cost / own_equity: the project's total cost and the cooperative's own part.
        missing_documents: sentences naming each required document not yet uploaded.
        borrower_exposure: the borrower's outstanding principal plus approved-but-undisbursed
            amounts, this application excluded.
        related_exposure: the same for the cooperatives linked to it as related borrowers.
        fund_capital: the fund's actual charter capital (from its books).
    """

    cooperative_status: CooperativeStatus
    product: ProductTerms
    terms: ScheduleTerms
    purpose: PurposeCategory
    project_cost: Decimal
    own_equity: Decimal
    missing_documents: tuple[str, ...]
    borrower_exposure: Decimal
    related_exposure: Decimal
    fund_capital: Decimal


def check_eligibility(
    facts: EligibilityFacts,
    *,
    own_equity_min_pct: Decimal,
    single_borrower_max_pct: Decimal,
    related_borrowers_max_pct: Decimal,
) -> list[Finding]:
    """Every reason the application cannot be granted as it stands (empty when eligible)."""
    findings: list[Finding] = []

    def add(rule: Rule, message: str) -> None:
        findings.append(Finding(rule, message))

    if facts.cooperative_status is not CooperativeStatus.VERIFIED:
        add(
            Rule.COOPERATIVE_VERIFIED,
            _("The cooperative must be verified by the fund before it can borrow."),
        )
    for problem in check_within_product(facts.product, facts.terms):
        add(Rule.WITHIN_PRODUCT, problem)
    if facts.purpose not in facts.product.purposes:
        add(
            Rule.PURPOSE,
            _(
                "%(product)s does not finance this purpose; it finances: %(purposes)s.",
                product=facts.product.name,
                purposes=", ".join(
                    sorted(purpose_label(purpose) for purpose in facts.product.purposes)
                ),
            ),
        )
    if facts.project_cost <= 0:
        add(Rule.OWN_EQUITY, _("Give the project's total cost."))
    else:
        equity_pct = ratio_pct(facts.own_equity, facts.project_cost)
        if equity_pct < own_equity_min_pct:
            add(
                Rule.OWN_EQUITY,
                _(
                    "Own equity is %(pct)s %% of the project cost (%(equity)s of %(cost)s); "
                    "at least %(minimum)s %% is required.",
                    pct=fmt_number(equity_pct),
                    equity=fmt_money(facts.own_equity),
                    cost=fmt_money(facts.project_cost),
                    minimum=fmt_number(own_equity_min_pct),
                ),
            )
    for sentence in facts.missing_documents:
        add(Rule.DOCUMENTS, sentence)
    _exposure_findings(
        facts,
        add,
        single_borrower_max_pct=single_borrower_max_pct,
        related_borrowers_max_pct=related_borrowers_max_pct,
    )
    return findings


def _exposure_findings(
    facts: EligibilityFacts,
    add: Callable[[Rule, str], None],
    *,
    single_borrower_max_pct: Decimal,
    related_borrowers_max_pct: Decimal,
) -> None:
    requested = facts.terms.principal
    if facts.fund_capital <= 0:
        add(
            Rule.SINGLE_BORROWER,
            _("The fund has no capital recorded, so it cannot lend to anyone yet."),
        )
        return
    single = facts.borrower_exposure + requested
    single_limit = facts.fund_capital * single_borrower_max_pct / 100
    if single > single_limit:
        add(
            Rule.SINGLE_BORROWER,
            _(
                "With this loan the cooperative would owe the fund %(total)s (%(existing)s "
                "already lent or approved + %(requested)s requested), %(pct)s %% of the fund's "
                "capital of %(capital)s; one borrower may owe at most %(limit_pct)s %% "
                "(%(limit)s).",
                total=fmt_money(single),
                existing=fmt_money(facts.borrower_exposure),
                requested=fmt_money(requested),
                pct=fmt_number(ratio_pct(single, facts.fund_capital)),
                capital=fmt_money(facts.fund_capital),
                limit_pct=fmt_number(single_borrower_max_pct),
                limit=fmt_money(_whole(single_limit)),
            ),
        )
    group = single + facts.related_exposure
    group_limit = facts.fund_capital * related_borrowers_max_pct / 100
    if facts.related_exposure > 0 and group > group_limit:
        add(
            Rule.RELATED_BORROWERS,
            _(
                "With its related borrowers the group would owe %(total)s, %(pct)s %% of the "
                "fund's capital; related borrowers together may owe at most %(limit_pct)s %% "
                "(%(limit)s).",
                total=fmt_money(group),
                pct=fmt_number(ratio_pct(group, facts.fund_capital)),
                limit_pct=fmt_number(related_borrowers_max_pct),
                limit=fmt_money(_whole(group_limit)),
            ),
        )


def _whole(amount: Decimal) -> Decimal:
    """A limit shown to the reader, cut to whole units (never rounded up past the limit)."""
    return amount.to_integral_value(rounding="ROUND_FLOOR")


def findings_by_rule(findings: Iterable[Finding]) -> dict[Rule, list[str]]:
    grouped: dict[Rule, list[str]] = {}
    for finding in findings:
        grouped.setdefault(finding.rule, []).append(finding.message)
    return grouped


# --- what the applicant fills in --------------------------------------------------------------


class CollateralKind(enum.StrEnum):
    LAND_USE_RIGHT = "land_use_right"
    BUILDING = "building"
    MACHINERY = "machinery"
    VEHICLE = "vehicle"
    DEPOSIT = "deposit"
    OTHER = "other"


def collateral_kind_label(kind: CollateralKind) -> str:
    return {
        CollateralKind.LAND_USE_RIGHT: _("Land-use right"),
        CollateralKind.BUILDING: _("Building or workshop"),
        CollateralKind.MACHINERY: _("Machinery and equipment"),
        CollateralKind.VEHICLE: _("Vehicle"),
        CollateralKind.DEPOSIT: _("Savings deposit"),
        CollateralKind.OTHER: _("Other asset"),
    }[kind]


@dataclass(frozen=True, slots=True)
class CollateralItem:
    kind: CollateralKind
    description: str
    owner: str
    estimated_value: Decimal


@dataclass(frozen=True, slots=True)
class GuarantorItem:
    name: str
    relationship: str = ""
    contact: str = ""


@dataclass(frozen=True, slots=True)
class CashFlowLine:
    """One projected year: year 1 is the twelve months after disbursement."""

    year: int
    revenue: Decimal
    operating_costs: Decimal


#: The most projected years an application may give.
MAX_PROJECT_YEARS: Final = 30


@dataclass(frozen=True, slots=True)
class ApplicationDraft:
    """What a cooperative fills in when it applies (the editable part of an application)."""

    product_id: int
    amount: Decimal
    term_months: int
    schedule_options: dict[str, object]
    purpose: PurposeCategory
    purpose_description: str
    project_description: str
    project_cost: Decimal
    own_equity: Decimal
    members_benefiting: int
    jobs_created: int
    cash_flows: tuple[CashFlowLine, ...]
    collateral: tuple[CollateralItem, ...]
    guarantors: tuple[GuarantorItem, ...]
    unsecured_requested: bool = False
    priority: PriorityCategory = PriorityCategory.NONE


def check_draft(draft: ApplicationDraft) -> list[str]:
    """Problems that make a draft impossible to save (the eligibility rules come at submission:
    a draft may still be incomplete)."""
    problems: list[str] = []
    if draft.amount <= 0:
        problems.append(_("The amount asked for must be more than zero."))
    if draft.term_months < 1:
        problems.append(_("The term must be at least one month."))
    if draft.project_cost < 0 or draft.own_equity < 0:
        problems.append(_("The project cost and own equity cannot be negative."))
    elif draft.project_cost and draft.own_equity > draft.project_cost:
        problems.append(
            _(
                "Own equity (%(equity)s) cannot exceed the project cost (%(cost)s).",
                equity=fmt_money(draft.own_equity),
                cost=fmt_money(draft.project_cost),
            )
        )
    if draft.project_cost and draft.amount + draft.own_equity > draft.project_cost:
        problems.append(
            _(
                "The loan (%(amount)s) and own equity (%(equity)s) together exceed the project "
                "cost (%(cost)s): borrow at most %(most)s.",
                amount=fmt_money(draft.amount),
                equity=fmt_money(draft.own_equity),
                cost=fmt_money(draft.project_cost),
                most=fmt_money(max(draft.project_cost - draft.own_equity, Decimal(0))),
            )
        )
    years = [line.year for line in draft.cash_flows]
    if years != list(range(1, len(years) + 1)):
        problems.append(_("Number the projected years 1, 2, 3… without gaps."))
    if len(years) > MAX_PROJECT_YEARS:
        problems.append(
            _("Give at most %(count)s projected years.", count=fmt_number(MAX_PROJECT_YEARS))
        )
    for line in draft.cash_flows:
        if line.revenue < 0 or line.operating_costs < 0:
            problems.append(
                _("Year %(year)s: revenue and costs cannot be negative.", year=line.year)
            )
    for number, item in enumerate(draft.collateral, start=1):
        if item.estimated_value <= 0 or not item.description.strip():
            problems.append(
                _(
                    "Collateral %(n)s needs a description and an estimated value above zero.",
                    n=number,
                )
            )
    if draft.unsecured_requested and draft.collateral:
        problems.append(_("Either offer collateral or ask for an unsecured loan, not both."))
    for number, guarantor in enumerate(draft.guarantors, start=1):
        if not guarantor.name.strip():
            problems.append(_("Guarantor %(n)s needs a name.", n=number))
    return problems


def submission_problems(draft: ApplicationDraft) -> list[str]:
    """What a complete application has that a draft may lack (checked at submission)."""
    problems: list[str] = []
    if not draft.purpose_description.strip():
        problems.append(_("Describe what the loan will pay for."))
    if not draft.project_description.strip():
        problems.append(_("Describe the project."))
    if not draft.cash_flows:
        problems.append(_("Give the project's projected revenue and costs, year by year."))
    if not draft.collateral and not draft.unsecured_requested:
        problems.append(_("Offer collateral, or ask for an unsecured loan."))
    return problems


def term_class(term_months: int) -> str:
    """``short`` (≤ 1 year), ``medium`` (≤ 5 years) or ``long``: decides the decision time."""
    if term_months <= 12:
        return "short"
    return "medium" if term_months <= 60 else "long"


def equity_ratio_pct(project_cost: Decimal, own_equity: Decimal) -> Decimal | None:
    """Own equity as a percentage of the project cost, to two decimals (``None`` without a
    cost); eligibility compares the exact ratio, this is what people read."""
    if project_cost <= 0:
        return None
    return ratio_pct(own_equity, project_cost).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
