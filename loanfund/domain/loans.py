"""Loans and their disbursement tranches: lifecycles (DESIGN §2) and the checks on money out.

A loan is made from an approved application: it waits for its contract to be signed
(``approved`` → ``contracted``), becomes ``active`` with its first paid tranche, and ``closed``
when everything is repaid. A tranche is requested by an officer, approved by someone else with
the approver role, then paid; :func:`tranche_problems` says why a payment cannot be posted.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from decimal import Decimal

from loanfund.domain.calendar import add_months
from loanfund.domain.i18n import _, fmt_date, fmt_money
from loanfund.domain.lifecycle import TransitionTable, next_status


class LoanStatus(enum.StrEnum):
    APPROVED = "approved"  # made from the application; contract not signed yet
    CONTRACTED = "contracted"
    ACTIVE = "active"
    CLOSED = "closed"
    RECALLED = "recalled"
    WRITTEN_OFF = "written_off"


class TrancheStatus(enum.StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    PAID = "paid"
    CANCELLED = "cancelled"


_L = LoanStatus
_T = TrancheStatus

LOAN_TRANSITIONS: TransitionTable[LoanStatus] = {
    (_L.APPROVED, "sign"): _L.CONTRACTED,
    (_L.CONTRACTED, "activate"): _L.ACTIVE,
    (_L.ACTIVE, "close"): _L.CLOSED,
    (_L.CLOSED, "reopen"): _L.ACTIVE,  # a reversed receipt leaves something owed again
    (_L.ACTIVE, "recall"): _L.RECALLED,
    (_L.RECALLED, "close"): _L.CLOSED,  # a recalled loan repaid in full
    (_L.ACTIVE, "write_off"): _L.WRITTEN_OFF,
}

TRANCHE_TRANSITIONS: TransitionTable[TrancheStatus] = {
    (_T.REQUESTED, "approve"): _T.APPROVED,
    (_T.REQUESTED, "cancel"): _T.CANCELLED,
    (_T.APPROVED, "pay"): _T.PAID,
    (_T.APPROVED, "cancel"): _T.CANCELLED,
}

#: Loan statuses in which tranches may be requested and paid.
DISBURSING_STATUSES = frozenset({_L.CONTRACTED, _L.ACTIVE})


def loan_status_label(status: LoanStatus) -> str:
    return {
        _L.APPROVED: _("awaiting contract"),
        _L.CONTRACTED: _("contracted"),
        _L.ACTIVE: _("active"),
        _L.CLOSED: _("closed"),
        _L.RECALLED: _("recalled"),
        _L.WRITTEN_OFF: _("written off"),
    }[status]


def tranche_status_label(status: TrancheStatus) -> str:
    return {
        _T.REQUESTED: _("requested"),
        _T.APPROVED: _("approved, to be paid"),
        _T.PAID: _("paid"),
        _T.CANCELLED: _("cancelled"),
    }[status]


def version_reason_label(reason: str) -> str:
    """Why a schedule version exists."""
    return {
        "first_tranche": _("first tranche"),
        "tranche": _("a later tranche"),
        "restructuring": _("restructuring"),
        "recall": _("recall"),
    }.get(reason, reason)


def loan_action_label(action: str) -> str:
    return {
        "sign": _("record the signing of this contract"),
        "activate": _("activate this loan"),
        "close": _("close this loan"),
        "reopen": _("reopen this loan"),
        "recall": _("recall this loan"),
        "write_off": _("write this loan off"),
    }[action]


def tranche_action_label(action: str) -> str:
    return {
        "approve": _("approve this tranche"),
        "cancel": _("cancel this tranche"),
        "pay": _("pay this tranche"),
    }[action]


def next_loan_status(current: LoanStatus, action: str) -> LoanStatus:
    return next_status(
        LOAN_TRANSITIONS,
        current,
        action,
        label=loan_action_label(action),
        describe=loan_status_label,
    )


def next_tranche_status(current: TrancheStatus, action: str) -> TrancheStatus:
    return next_status(
        TRANCHE_TRANSITIONS,
        current,
        action,
        label=tranche_action_label(action),
        describe=tranche_status_label,
    )


def extension_limit_months(term_months: int) -> int:
    """How far beyond the contract's maturity an extension may reach, in months: the
    State Bank's rule for credit institutions (Circular 39/2016, art. 22), which the fund
    follows: up to 12 months for a short-term loan (≤ 12 months), up to half the term for a
    medium- or long-term one."""
    return 12 if term_months <= 12 else term_months // 2


def restructuring_problems(
    *,
    kind: str,
    owed: Decimal,
    original_maturity: dt.date,
    new_maturity: dt.date,
    term_months: int,
) -> list[str]:
    """Why a restructuring with this new schedule cannot be made, each with the dates."""
    problems: list[str] = []
    if owed <= 0:
        problems.append(_("No principal is owed on the loan: there is nothing to restructure."))
    if kind == "reschedule" and new_maturity > original_maturity:
        problems.append(
            _(
                "A rescheduling stays within the term: the new schedule ends on %(new)s, after "
                "the contract's maturity %(maturity)s. Propose an extension instead.",
                new=fmt_date(new_maturity),
                maturity=fmt_date(original_maturity),
            )
        )
    if kind == "extension":
        months = extension_limit_months(term_months)
        limit = add_months(original_maturity, months)
        if new_maturity <= original_maturity:
            problems.append(
                _(
                    "An extension goes beyond the contract's maturity %(maturity)s; the new "
                    "schedule ends on %(new)s. Propose a rescheduling instead.",
                    new=fmt_date(new_maturity),
                    maturity=fmt_date(original_maturity),
                )
            )
        elif new_maturity > limit:
            problems.append(
                _(
                    "An extension of a %(term)s-month loan may reach %(months)s months beyond "
                    "its maturity %(maturity)s, that is %(limit)s; the new schedule ends on "
                    "%(new)s.",
                    term=term_months,
                    months=months,
                    maturity=fmt_date(original_maturity),
                    limit=fmt_date(limit),
                    new=fmt_date(new_maturity),
                )
            )
    return problems


def restructuring_kind_label(kind: str) -> str:
    return {"reschedule": _("rescheduling within the term"), "extension": _("extension")}.get(
        kind, kind
    )


def restructuring_status_label(status: str) -> str:
    return {
        "proposed": _("awaiting decision"),
        "approved": _("approved"),
        "rejected": _("rejected"),
        "withdrawn": _("withdrawn"),
    }.get(status, status)


def contract_number(year: int, sequence: int) -> str:
    """``HĐ-2026-0007``: the fund's contract numbering (Hợp đồng)."""
    return f"HĐ-{year}-{sequence:04d}"


@dataclass(frozen=True, slots=True)
class TrancheFacts:
    """What the checks on paying one tranche look at, gathered fresh by the caller.

    Attributes:
        amount: the tranche.
        approved_amount: the loan's approved amount.
        disbursed: what has already been paid out on the loan.
        available_to_lend: the fund's cash − commitments of *other* loans − reserve, today.
        borrower_exposure: the borrower's outstanding principal and undisbursed approvals on
            other loans and applications.
        related_exposure: the same for its related borrowers.
        fund_capital: the fund's actual charter capital.
        credit_check_on: the date of the credit-bureau check recorded at appraisal, if any.
        value_date: the day the money leaves; today: the business date.
    """

    amount: Decimal
    approved_amount: Decimal
    disbursed: Decimal
    available_to_lend: Decimal
    borrower_exposure: Decimal
    related_exposure: Decimal
    fund_capital: Decimal
    credit_check_on: dt.date | None
    first_tranche: bool
    value_date: dt.date
    today: dt.date


def tranche_problems(
    facts: TrancheFacts, *, single_borrower_max_pct: Decimal, related_borrowers_max_pct: Decimal
) -> list[str]:
    """Every reason the tranche cannot be paid now, each in a sentence with the figures."""
    problems: list[str] = []
    remaining = facts.approved_amount - facts.disbursed
    if facts.amount <= 0:
        problems.append(_("The tranche must be more than zero."))
    elif facts.amount > remaining:
        problems.append(
            _(
                "The tranche of %(amount)s is more than what remains to disburse: %(remaining)s "
                "(approved %(approved)s, already paid %(paid)s).",
                amount=fmt_money(facts.amount),
                remaining=fmt_money(remaining),
                approved=fmt_money(facts.approved_amount),
                paid=fmt_money(facts.disbursed),
            )
        )
    if facts.amount > facts.available_to_lend:
        problems.append(
            _(
                "The fund can lend %(available)s today (cash less commitments and the reserve); "
                "the tranche is %(amount)s.",
                available=fmt_money(max(facts.available_to_lend, Decimal(0))),
                amount=fmt_money(facts.amount),
            )
        )
    if facts.fund_capital > 0:
        owed = facts.borrower_exposure + facts.approved_amount
        limit = facts.fund_capital * single_borrower_max_pct / 100
        if owed > limit:
            problems.append(
                _(
                    "The cooperative would owe or be promised %(owed)s, above the single-borrower "
                    "limit of %(limit)s (%(pct)s %% of the fund's capital).",
                    owed=fmt_money(owed),
                    limit=fmt_money(limit.to_integral_value(rounding="ROUND_FLOOR")),
                    pct=str(single_borrower_max_pct),
                )
            )
        group = owed + facts.related_exposure
        group_limit = facts.fund_capital * related_borrowers_max_pct / 100
        if facts.related_exposure > 0 and group > group_limit:
            problems.append(
                _(
                    "With its related borrowers the group would owe %(owed)s, above their limit "
                    "of %(limit)s.",
                    owed=fmt_money(group),
                    limit=fmt_money(group_limit.to_integral_value(rounding="ROUND_FLOOR")),
                )
            )
    if facts.first_tranche and facts.credit_check_on is None:
        problems.append(_("Record the credit-bureau check before the first disbursement."))
    if facts.value_date > facts.today:
        problems.append(
            _(
                "The value date %(date)s is in the future; pay the tranche on the day the money "
                "leaves (today is %(today)s).",
                date=fmt_date(facts.value_date),
                today=fmt_date(facts.today),
            )
        )
    return problems
