"""The fund's policy parameters (DESIGN §3), with their defaults and limits.

Each parameter is declared once here; the database stores only the values a fund changed
(as exact decimal strings), the settings page is generated from these declarations, and
:func:`build_policy` turns stored strings into a typed, validated :class:`Policy`.
"""

from __future__ import annotations

import decimal
import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import Decimal

from loanfund.domain.errors import RuleViolation
from loanfund.domain.i18n import _, fmt_number
from loanfund.domain.ledger import Account, account_label


class Kind(enum.StrEnum):
    PERCENT = "percent"  # a percentage, exact decimal
    DAYS = "days"  # a whole number of days
    COUNT = "count"  # a whole number
    MONEY = "money"  # an amount of the fund currency
    CHOICE = "choice"  # one of a fixed set of words
    RATIO = "ratio"  # a plain exact decimal (e.g. a coverage ratio)
    CODE = "code"  # a short code: letters, digits, dots and dashes (an account number)


@dataclass(frozen=True, slots=True)
class ParameterSpec:
    """How one policy parameter is entered, checked and explained."""

    key: str
    kind: Kind
    default: str
    group: str
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    choices: tuple[str, ...] = ()


def _pct(key: str, default: str, group: str, maximum: str = "100") -> ParameterSpec:
    return ParameterSpec(key, Kind.PERCENT, default, group, Decimal(0), Decimal(maximum))


def _days(key: str, default: str, group: str, maximum: str = "3650") -> ParameterSpec:
    return ParameterSpec(key, Kind.DAYS, default, group, Decimal(1), Decimal(maximum))


#: Every policy parameter, in the order the settings page shows them.
PARAMETERS: tuple[ParameterSpec, ...] = (
    _pct("own_equity_min_pct", "20", "eligibility"),
    _pct("single_borrower_max_pct", "15", "eligibility"),
    _pct("related_borrowers_max_pct", "25", "eligibility"),
    _pct("overdue_rate_pct_of_rate", "150", "interest", maximum="150"),
    _pct("late_interest_rate_pct", "0", "interest", maximum="10"),
    ParameterSpec(
        "day_count", Kind.CHOICE, "actual_365", "interest", choices=("actual_365", "30_360")
    ),
    ParameterSpec("installment_multiple", Kind.MONEY, "0", "interest", Decimal(0), None),
    ParameterSpec(
        "allocation_order",
        Kind.CHOICE,
        "principal_first",
        "repayment",
        choices=("principal_first", "interest_first"),
    ),
    ParameterSpec(
        "prepayment_mode",
        Kind.CHOICE,
        "keep_term",
        "repayment",
        choices=("keep_term", "shorten_term"),
    ),
    ParameterSpec("credit_council_amount", Kind.MONEY, "500000000", "decisions", Decimal(0), None),
    _days("decision_days_short", "5", "decisions", maximum="365"),
    _days("decision_days_medium", "10", "decisions", maximum="365"),
    _days("decision_days_long", "15", "decisions", maximum="365"),
    _days("first_inspection_days", "30", "inspections"),
    _days("inspection_interval_days", "180", "inspections"),
    _days("watch_inspection_interval_days", "90", "inspections"),
    _days("recall_deadline_days", "30", "inspections", maximum="365"),
    _days("group2_from_days", "10", "classification"),
    _days("group3_from_days", "30", "classification"),
    _days("group4_from_days", "90", "classification"),
    _days("group5_from_days", "180", "classification"),
    _pct("provision_group1_pct", "0", "provisions"),
    _pct("provision_group2_pct", "2", "provisions"),
    _pct("provision_group3_pct", "25", "provisions"),
    _pct("provision_group4_pct", "50", "provisions"),
    _pct("provision_group5_pct", "100", "provisions"),
    _pct("general_provision_pct", "0.5", "provisions"),
    ParameterSpec("min_liquidity_reserve", Kind.MONEY, "0", "liquidity", Decimal(0), None),
    _pct("discount_rate_pct", "8", "appraisal", maximum="100"),
    # The scorecard (domain.appraisal): weights in points summing to 100, then thresholds for
    # all / half of a factor's points, then the fewest points of grades A to D.
    _pct("score_weight_equity", "20", "scorecard"),
    _pct("score_weight_dscr", "25", "scorecard"),
    _pct("score_weight_collateral", "15", "scorecard"),
    _pct("score_weight_irr", "10", "scorecard"),
    _pct("score_weight_findings", "15", "scorecard"),
    _pct("score_weight_years", "5", "scorecard"),
    _pct("score_weight_credit", "10", "scorecard"),
    _pct("score_equity_full_pct", "40", "scorecard"),
    _pct("score_equity_half_pct", "20", "scorecard"),
    ParameterSpec("score_dscr_full", Kind.RATIO, "1.50", "scorecard", Decimal(0), Decimal(10)),
    ParameterSpec("score_dscr_half", Kind.RATIO, "1.20", "scorecard", Decimal(0), Decimal(10)),
    _pct("score_collateral_full_pct", "150", "scorecard", maximum="1000"),
    _pct("score_collateral_half_pct", "100", "scorecard", maximum="1000"),
    _pct("score_irr_margin_full_pct", "5", "scorecard"),
    _pct("score_irr_margin_half_pct", "0", "scorecard"),
    ParameterSpec(
        "score_findings_half_max_concerns", Kind.COUNT, "2", "scorecard", Decimal(0), Decimal(6)
    ),
    ParameterSpec("score_years_full", Kind.COUNT, "3", "scorecard", Decimal(0), Decimal(100)),
    ParameterSpec("score_years_half", Kind.COUNT, "1", "scorecard", Decimal(0), Decimal(100)),
    _pct("grade_a_min", "80", "scorecard"),
    _pct("grade_b_min", "65", "scorecard"),
    _pct("grade_c_min", "50", "scorecard"),
    _pct("grade_d_min", "35", "scorecard"),
    # The fund's own account numbers for the chart of DESIGN §4 (defaults after the chart of
    # accounts of Circular 133/2016/TT-BTC), shown on the books, the journal and the exports.
    *(
        ParameterSpec(f"account_code_{account}", Kind.CODE, code, "accounts")
        for account, code in (
            ("cash", "1121"),
            ("loans_receivable", "1283"),
            ("interest_receivable", "1388"),
            ("provision", "2293"),
            ("fund_capital", "4111"),
            ("interest_income", "515"),
            ("penalty_income", "711"),
            ("provision_expense", "6422"),
            ("off_book_interest", "004"),
            ("off_book_interest_contra", "004-C"),
        )
    ),
)

#: The scorecard's weight parameters, in the order of ``domain.appraisal.Factor``.
SCORE_WEIGHTS = (
    "score_weight_equity",
    "score_weight_dscr",
    "score_weight_collateral",
    "score_weight_irr",
    "score_weight_findings",
    "score_weight_years",
    "score_weight_credit",
)

SPECS: dict[str, ParameterSpec] = {spec.key: spec for spec in PARAMETERS}


@dataclass(frozen=True, slots=True)
class Policy:
    """The policy in force: typed values of every parameter."""

    own_equity_min_pct: Decimal
    single_borrower_max_pct: Decimal
    related_borrowers_max_pct: Decimal
    overdue_rate_pct_of_rate: Decimal
    late_interest_rate_pct: Decimal
    day_count: str
    installment_multiple: Decimal
    allocation_order: str
    prepayment_mode: str
    credit_council_amount: Decimal
    decision_days_short: int
    decision_days_medium: int
    decision_days_long: int
    first_inspection_days: int
    inspection_interval_days: int
    watch_inspection_interval_days: int
    recall_deadline_days: int
    group2_from_days: int
    group3_from_days: int
    group4_from_days: int
    group5_from_days: int
    provision_group1_pct: Decimal
    provision_group2_pct: Decimal
    provision_group3_pct: Decimal
    provision_group4_pct: Decimal
    provision_group5_pct: Decimal
    general_provision_pct: Decimal
    min_liquidity_reserve: Decimal
    discount_rate_pct: Decimal
    score_weight_equity: Decimal
    score_weight_dscr: Decimal
    score_weight_collateral: Decimal
    score_weight_irr: Decimal
    score_weight_findings: Decimal
    score_weight_years: Decimal
    score_weight_credit: Decimal
    score_equity_full_pct: Decimal
    score_equity_half_pct: Decimal
    score_dscr_full: Decimal
    score_dscr_half: Decimal
    score_collateral_full_pct: Decimal
    score_collateral_half_pct: Decimal
    score_irr_margin_full_pct: Decimal
    score_irr_margin_half_pct: Decimal
    score_findings_half_max_concerns: int
    score_years_full: int
    score_years_half: int
    grade_a_min: Decimal
    grade_b_min: Decimal
    grade_c_min: Decimal
    grade_d_min: Decimal
    account_code_cash: str
    account_code_loans_receivable: str
    account_code_interest_receivable: str
    account_code_provision: str
    account_code_fund_capital: str
    account_code_interest_income: str
    account_code_penalty_income: str
    account_code_provision_expense: str
    account_code_off_book_interest: str
    account_code_off_book_interest_contra: str

    def account_code(self, account: str) -> str:
        """The fund's number for an account of the chart (``domain.ledger.Account``)."""
        return str(getattr(self, f"account_code_{account}"))


assert [f.name for f in fields(Policy)] == [s.key for s in PARAMETERS]


def parameter_label(key: str) -> str:
    """The translated name of a parameter, for forms and messages."""
    if key.startswith("account_code_"):
        return _(
            "Account number: %(account)s",
            account=account_label(Account(key[len("account_code_") :])),
        )
    labels = {
        "own_equity_min_pct": _("Minimum own equity, in percent of project cost"),
        "single_borrower_max_pct": _("Single-borrower limit, in percent of actual charter capital"),
        "related_borrowers_max_pct": _(
            "Related-borrowers limit, in percent of actual charter capital"
        ),
        "overdue_rate_pct_of_rate": _("Overdue interest, in percent of the contractual rate"),
        "late_interest_rate_pct": _("Interest on late interest (% per year)"),
        "day_count": _("Day count"),
        "installment_multiple": _("Round installments to a multiple of (0 = no rounding)"),
        "allocation_order": _("Repayment allocation order"),
        "prepayment_mode": _("Prepayment"),
        "credit_council_amount": _(
            "Two approvers (credit council) for applications above (0 = always one)"
        ),
        "decision_days_short": _("Decision time, short-term loans (working days)"),
        "decision_days_medium": _("Decision time, medium-term loans (working days)"),
        "decision_days_long": _("Decision time, long-term loans (working days)"),
        "first_inspection_days": _("First inspection within (days of a disbursement)"),
        "inspection_interval_days": _("Inspection interval (days)"),
        "watch_inspection_interval_days": _(
            "Inspection interval for debt group 2 and worse (days)"
        ),
        "recall_deadline_days": _("Days a recalled borrower has to repay (on the recall notice)"),
        "group2_from_days": _("Debt group 2 from (days past due)"),
        "group3_from_days": _("Debt group 3 from (days past due)"),
        "group4_from_days": _("Debt group 4 from (days past due)"),
        "group5_from_days": _("Debt group 5 from (days past due)"),
        "provision_group1_pct": _("Specific provision, group 1 (%)"),
        "provision_group2_pct": _("Specific provision, group 2 (%)"),
        "provision_group3_pct": _("Specific provision, group 3 (%)"),
        "provision_group4_pct": _("Specific provision, group 4 (%)"),
        "provision_group5_pct": _("Specific provision, group 5 (%)"),
        "general_provision_pct": _("General provision, in percent of outstanding principal"),
        "min_liquidity_reserve": _("Minimum liquidity reserve"),
        "discount_rate_pct": _("Discount rate for project NPV (% per year)"),
        "score_weight_equity": _("Scorecard weight: own equity (points)"),
        "score_weight_dscr": _("Scorecard weight: lowest DSCR (points)"),
        "score_weight_collateral": _("Scorecard weight: collateral coverage (points)"),
        "score_weight_irr": _("Scorecard weight: IRR above the discount rate (points)"),
        "score_weight_findings": _("Scorecard weight: checklist findings (points)"),
        "score_weight_years": _("Scorecard weight: years operating (points)"),
        "score_weight_credit": _("Scorecard weight: credit-bureau check (points)"),
        "score_equity_full_pct": _("Own equity for all its points (percent of project cost)"),
        "score_equity_half_pct": _("Own equity for half its points (percent of project cost)"),
        "score_dscr_full": _("Lowest DSCR for all its points"),
        "score_dscr_half": _("Lowest DSCR for half its points"),
        "score_collateral_full_pct": _("Collateral for all its points (percent of the loan)"),
        "score_collateral_half_pct": _("Collateral for half its points (percent of the loan)"),
        "score_irr_margin_full_pct": _("IRR above the discount rate for all its points (points)"),
        "score_irr_margin_half_pct": _("IRR above the discount rate for half its points (points)"),
        "score_findings_half_max_concerns": _(
            "Most checklist concerns (and no fail) for half the findings points"
        ),
        "score_years_full": _("Years operating for all its points"),
        "score_years_half": _("Years operating for half its points"),
        "grade_a_min": _("Risk grade A from (points)"),
        "grade_b_min": _("Risk grade B from (points)"),
        "grade_c_min": _("Risk grade C from (points)"),
        "grade_d_min": _("Risk grade D from (points)"),
    }
    return labels[key]


def choice_label(value: str) -> str:
    """The translated name of a choice value."""
    labels = {
        "actual_365": _("Actual days / 365"),
        "30_360": _("30/360 (periodic rate)"),
        "principal_first": _("Overdue principal first (Vietnamese rule)"),
        "interest_first": _("Penalty, then interest, then principal"),
        "keep_term": _("Reduce later installments, keep the term"),
        "shorten_term": _("Keep installments, shorten the term"),
    }
    return labels[value]


_CODE = re.compile(r"[0-9A-Za-z][0-9A-Za-z.\-]{0,19}")


class _Label:
    """A parameter's label, translated when a message is made with it."""

    def __init__(self, key: str) -> None:
        self.key = key

    def __str__(self) -> str:
        return parameter_label(self.key)


def _parse(spec: ParameterSpec, raw: str, currency_digits: int) -> tuple[object, str | None]:
    """A parameter's typed value, or the problem with it."""
    text = raw.strip()
    # Labels are translated only for a problem: a valid policy is read on every request.
    label = _Label(spec.key)
    if spec.kind is Kind.CHOICE:
        if text in spec.choices:
            return text, None
        return None, _("%(label)s: choose one of the offered options.", label=label)
    if spec.kind is Kind.CODE:
        if _CODE.fullmatch(text):
            return text, None
        return None, _(
            "%(label)s: use 1 to 20 letters, digits, dots or dashes; “%(value)s” was entered.",
            label=label,
            value=text[:40],
        )
    try:
        value = Decimal(text)
    except decimal.InvalidOperation:
        return None, _("%(label)s: “%(value)s” is not a number.", label=label, value=text[:40])
    if not value.is_finite():
        return None, _("%(label)s: “%(value)s” is not a number.", label=label, value=text[:40])
    if spec.kind in (Kind.DAYS, Kind.COUNT) and value != value.to_integral_value():
        return None, _("%(label)s must be a whole number, not %(value)s.", label=label, value=text)
    if spec.kind is Kind.MONEY and value != value.quantize(Decimal(1).scaleb(-currency_digits)):
        return None, _(
            "%(label)s: %(value)s has more decimals than the currency allows (%(digits)s).",
            label=label,
            value=text,
            digits=currency_digits,
        )
    if spec.kind is Kind.PERCENT and value != value.quantize(Decimal("0.000001")):
        return None, _("%(label)s: use at most 6 decimal places.", label=label)
    if spec.minimum is not None and value < spec.minimum:
        return None, _(
            "%(label)s must be at least %(minimum)s; %(value)s was entered.",
            label=label,
            minimum=fmt_number(spec.minimum),
            value=text,
        )
    if spec.maximum is not None and value > spec.maximum:
        return None, _(
            "%(label)s must be at most %(maximum)s; %(value)s was entered.",
            label=label,
            maximum=fmt_number(spec.maximum),
            value=text,
        )
    if spec.kind in (Kind.DAYS, Kind.COUNT):
        return int(value), None
    return value, None


def build_policy(stored: Mapping[str, str], *, currency_digits: int) -> Policy:
    """The policy from stored values, defaults filling the rest; every problem at once.

    Raises:
        RuleViolation: listing each invalid value and each inconsistency between values.
    """
    values: dict[str, object] = {}
    problems: list[str] = []
    unknown = sorted(set(stored) - set(SPECS))
    if unknown:
        problems.append(_("Unknown policy parameters: %(keys)s.", keys=", ".join(unknown)))
    for spec in PARAMETERS:
        value, problem = _parse(spec, stored.get(spec.key, spec.default), currency_digits)
        if problem:
            problems.append(problem)
        values[spec.key] = value
    if not problems:
        problems.extend(_consistency_problems(values))
    if problems:
        raise RuleViolation(problems)
    return Policy(**values)  # type: ignore[arg-type]


def _consistency_problems(values: Mapping[str, object]) -> list[str]:
    problems: list[str] = []
    thresholds = [values[f"group{g}_from_days"] for g in (2, 3, 4, 5)]
    if thresholds != sorted(set(thresholds)):  # type: ignore[type-var]
        problems.append(
            _(
                "Debt group thresholds must increase: group 2 from %(g2)s days, group 3 from "
                "%(g3)s, group 4 from %(g4)s, group 5 from %(g5)s.",
                g2=thresholds[0],
                g3=thresholds[1],
                g4=thresholds[2],
                g5=thresholds[3],
            )
        )
    provisions = [values[f"provision_group{g}_pct"] for g in (1, 2, 3, 4, 5)]
    if provisions != sorted(provisions):  # type: ignore[type-var]
        problems.append(_("Specific provision rates must not decrease from group 1 to group 5."))
    if values["related_borrowers_max_pct"] < values["single_borrower_max_pct"]:  # type: ignore[operator]
        problems.append(
            _(
                "The related-borrowers limit (%(related)s %%) cannot be below the single-borrower "
                "limit (%(single)s %%).",
                related=fmt_number(values["related_borrowers_max_pct"]),  # type: ignore[arg-type]
                single=fmt_number(values["single_borrower_max_pct"]),  # type: ignore[arg-type]
            )
        )
    problems.extend(_scorecard_problems(values))
    codes = [values[spec.key] for spec in PARAMETERS if spec.kind is Kind.CODE]
    repeated = sorted({str(code) for code in codes if codes.count(code) > 1})
    if repeated:
        problems.append(
            _("Each account needs its own number; repeated: %(codes)s.", codes=", ".join(repeated))
        )
    return problems


def _scorecard_problems(values: Mapping[str, object]) -> list[str]:
    problems: list[str] = []
    total = sum((values[key] for key in SCORE_WEIGHTS), Decimal(0))  # type: ignore[misc]
    if total != 100:
        problems.append(
            _(
                "The scorecard weights must add up to 100 points; they add up to %(total)s.",
                total=fmt_number(total),
            )  # type: ignore[arg-type]
        )
    for factor in ("equity", "dscr", "collateral", "irr_margin", "years"):
        suffix = "_pct" if factor in ("equity", "collateral", "irr_margin") else ""
        full, half = f"score_{factor}_full{suffix}", f"score_{factor}_half{suffix}"
        if values[half] > values[full]:  # type: ignore[operator]
            problems.append(
                _(
                    "%(half)s cannot be above %(full)s.",
                    half=parameter_label(half),
                    full=parameter_label(full),
                )
            )
    grades = [values[f"grade_{grade}_min"] for grade in "abcd"]
    if not grades[0] > grades[1] > grades[2] > grades[3]:  # type: ignore[operator]
        problems.append(_("The risk grades must need fewer points from A to D."))
    return problems


def default_policy(*, currency_digits: int) -> Policy:
    """The policy with every parameter at its default."""
    return build_policy({}, currency_digits=currency_digits)
