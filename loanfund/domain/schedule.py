"""Repayment schedules: from a loan's terms to its installments, exactly and explainably.

:func:`parse_terms` turns a JSON-like mapping into :class:`ScheduleTerms`, listing every problem
at once; :func:`build_schedule` is a pure function from terms to a :class:`Schedule`;
:func:`to_json_dict` writes a schedule for JSON and :func:`explain_installment` tells the
arithmetic of one installment in words, with the numbers.

Conventions (each one is what :func:`explain_installment` says when it applies):

* **Dates.** Installment ``i`` falls due ``i`` periods after the disbursement, or, when
  ``first_due_on`` is not one period after the disbursement, on ``first_due_on`` and then
  ``i − 1`` periods after it. Dates are stepped from that anchor in one go, so month steps keep
  the anchor's day and clamp to the month end (31 Jan → 29 Feb → 31 Mar). A ``first_due_on``
  equal to the default (one period after the disbursement) gives the same schedule as none.
* **Interest** of a period is computed on the principal outstanding during it (the original
  principal for ``flat``) and rounded once, to ``currency_digits``, with ``rounding``:

  - ``daily``: balance × annual rate × days ÷ days in year; under ``actual`` each day counts
    against its own calendar year (17/365 + 14/366 across 31 Dec 2023);
  - ``periodic``: balance × annual rate × period length in years (month 1/12, quarter 1/4,
    half year 1/2, year 1, week 7/days in year, day 1/days in year, all × ``every``; a week or
    day counts against 365 days under ``actual``). A first period that is not one regular
    period long is pro-rated by its days ÷ the days of the regular period ending on
    ``first_due_on``.

* **Interest-free** periods (the first ``interest_free``) have their interest waived: the
  installment carries no interest. **Deferred** periods (the first ``interest_deferred``) carry no
  interest then; their interest (not compounded) is added to installment
  ``interest_deferred + 1``, or to the last installment when the deferral covers every period.
* **Principal** falls in installments ``n > principal_grace`` with
  ``(n − principal_grace) % principal_every == 0`` (for ``bullet`` only in the last one):

  - ``equal_principal``: principal ÷ principal-bearing installments, rounded to
    ``currency_digits`` with ``rounding`` (``installment_multiple`` and ``installment_rounding``
    do not apply);
  - ``annuity``: the regular installment is the annuity payment on the principal at the nominal
    periodic rate (annual rate × period length in years, whatever the interest basis) over the
    principal-bearing installments, rounded to ``installment_multiple`` (or to
    ``currency_digits``), to nearest with ``rounding`` or up; each installment's principal is
    that payment minus the interest accrued in its period. Waived and deferred interest does not
    change the principal (the borrower's installment is lower by it), so the amortisation stays
    the annuity's. ``principal_every > 1`` is refused: the installments cannot all be equal when
    only some of them carry principal;
  - ``flat``: principal ÷ principal-bearing installments, rounded to ``currency_digits`` (or,
    with ``installment_multiple``, to that multiple, and then the installment's interest rounded
    to the multiple minus the interest is added, so that the installment is a multiple);
  - ``bullet``: all principal in the last installment.

* **The last installment** repays whatever is still outstanding, so it absorbs every rounding
  residue: Σ principal == principal and the final outstanding is 0. An installment's principal is
  never negative (an annuity payment smaller than a long first period's interest gives no
  principal) and never more than the balance: when rounding up would repay the loan early, that
  installment's principal is capped at the balance and the following ones carry no principal.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any, Final

from loanfund.domain import calendar
from loanfund.domain.errors import RuleViolation
from loanfund.domain.i18n import _, fmt_date, fmt_money, fmt_number
from loanfund.domain.money import (
    MAX_MINOR_UNITS,
    MONEY_CONTEXT,
    MoneyTypeError,
    is_whole_in,
    round_money,
    round_to_multiple,
    rounding_args,
)

#: Ways of repaying principal.
METHODS: Final = ("equal_principal", "annuity", "flat", "bullet")
#: How a period's interest is measured: by its days, or as a fixed fraction of a year.
INTEREST_BASES: Final = ("daily", "periodic")
#: Rounding modes for every amount of a schedule.
ROUNDINGS: Final = ("half_up", "half_even")
#: How the regular installment of an annuity or flat loan is rounded.
INSTALLMENT_ROUNDINGS: Final = ("nearest", "up")
#: The most installments a schedule may have (a century of monthly installments).
MAX_INSTALLMENTS: Final = 1200
#: The most decimal places an annual rate (in percent) may have.
MAX_RATE_DECIMALS: Final = 10
#: The most minor-unit digits a currency has.
MAX_CURRENCY_DIGITS: Final = 4

#: Every term a schedule understands, in the order problems are reported.
TERM_FIELDS: Final = (
    "principal",
    "annual_rate_pct",
    "installments",
    "frequency",
    "every",
    "disbursed_on",
    "first_due_on",
    "method",
    "interest_basis",
    "days_in_year",
    "principal_grace",
    "interest_deferred",
    "interest_free",
    "principal_every",
    "currency_digits",
    "rounding",
    "installment_multiple",
    "installment_rounding",
)

_REQUIRED: Final = frozenset({"principal", "annual_rate_pct", "installments", "disbursed_on"})
_CHOICES: Final = {
    "frequency": calendar.FREQUENCIES,
    "method": METHODS,
    "interest_basis": INTEREST_BASES,
    "days_in_year": calendar.DAYS_IN_YEAR_CHOICES,
    "rounding": ROUNDINGS,
    "installment_rounding": INSTALLMENT_ROUNDINGS,
}
_INT_FIELDS: Final = (
    "installments",
    "every",
    "principal_grace",
    "interest_deferred",
    "interest_free",
    "principal_every",
    "currency_digits",
)
_DEFAULTS: Final = {
    "frequency": "month",
    "every": 1,
    "first_due_on": None,
    "method": "equal_principal",
    "interest_basis": "daily",
    "days_in_year": "365",
    "principal_grace": 0,
    "interest_deferred": 0,
    "interest_free": 0,
    "principal_every": 1,
    "rounding": "half_up",
    "installment_multiple": None,
    "installment_rounding": "nearest",
}
_DECIMAL_TEXT: Final = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_INT_TEXT: Final = re.compile(r"[+-]?\d{1,12}")
_DATE_TEXT: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
_LARGEST_INT: Final = 10**12
_HUNDRED: Final = Decimal(100)


@dataclass(frozen=True, slots=True)
class ScheduleTerms:
    """The terms a repayment schedule is built from; always valid once constructed.

    Build them from user input with :func:`parse_terms`. Constructing them directly checks the
    same rules: a float raises :class:`~loanfund.domain.money.MoneyTypeError` (a ``TypeError``),
    a wrong type ``TypeError`` and broken rules :class:`RuleViolation` with every problem.

    Attributes:
        principal: amount lent, with no more decimals than ``currency_digits``.
        annual_rate_pct: nominal annual interest rate in percent (0–100).
        installments: number of repayment periods (1–1200).
        disbursed_on: date the money is lent; interest runs from it.
        first_due_on: date of the first installment; ``None`` for one period after
            ``disbursed_on``.
        frequency: ``day``, ``week``, ``month``, ``quarter``, ``half_year`` or ``year``.
        every: periods are ``every`` × ``frequency`` long.
        method: ``equal_principal``, ``annuity``, ``flat`` or ``bullet``.
        interest_basis: ``daily`` (by days) or ``periodic`` (a fixed fraction of a year).
        days_in_year: ``"365"``, ``"360"``, ``"364"`` or ``"actual"``.
        principal_grace: the first installments that carry no principal.
        interest_deferred: the first periods whose interest falls due with the installment after
            them (with the last one when they cover every period).
        interest_free: the first periods whose interest is waived.
        principal_every: principal falls due every this many installments after the grace.
        currency_digits: minor-unit digits every amount is rounded to.
        rounding: ``half_up`` or ``half_even``, for every rounding.
        installment_multiple: for ``annuity`` and ``flat``, the regular installment is a multiple
            of it (e.g. ``Decimal(1000)`` đồng); ``None`` to round to the currency's unit.
        installment_rounding: ``nearest`` (with ``rounding``) or ``up`` for the regular
            installment.
    """

    principal: Decimal
    annual_rate_pct: Decimal
    installments: int
    disbursed_on: dt.date
    first_due_on: dt.date | None = None
    frequency: str = "month"
    every: int = 1
    method: str = "equal_principal"
    interest_basis: str = "daily"
    days_in_year: str = "365"
    principal_grace: int = 0
    interest_deferred: int = 0
    interest_free: int = 0
    principal_every: int = 1
    currency_digits: int = 0
    rounding: str = "half_up"
    installment_multiple: Decimal | None = None
    installment_rounding: str = "nearest"

    def __post_init__(self) -> None:
        for name in ("principal", "annual_rate_pct", "installment_multiple"):
            value = getattr(self, name)
            if value is None and name == "installment_multiple":
                continue
            if isinstance(value, bool) or not isinstance(value, Decimal | int):
                raise MoneyTypeError(
                    f"ScheduleTerms.{name} must be a Decimal or an int, not "
                    f"{type(value).__name__} {value!r}."
                )
            if not isinstance(value, Decimal):
                object.__setattr__(self, name, Decimal(value))
            elif not value.is_finite():
                raise ValueError(f"ScheduleTerms.{name} must be a finite number, not {value}.")
        for name in _INT_FIELDS:
            value = getattr(self, name)
            if type(value) is not int:
                raise TypeError(f"ScheduleTerms.{name} must be an int, not {type(value).__name__}.")
        for name in _CHOICES:
            value = getattr(self, name)
            if not isinstance(value, str):
                raise TypeError(f"ScheduleTerms.{name} must be a str, not {type(value).__name__}.")
        for name in ("disbursed_on", "first_due_on"):
            value = getattr(self, name)
            if not (type(value) is dt.date or (value is None and name == "first_due_on")):
                raise TypeError(f"ScheduleTerms.{name} must be a date, not {type(value).__name__}.")
        problems = _term_problems({name: getattr(self, name) for name in TERM_FIELDS})
        if problems:
            raise RuleViolation(problems)
        if not self.annual_rate_pct:  # "-0" would make every interest a negative zero
            object.__setattr__(self, "annual_rate_pct", abs(self.annual_rate_pct))
        # Write amounts with exactly the currency's decimals (exact: they were checked whole).
        object.__setattr__(
            self, "principal", round_money(self.principal, self.currency_digits, self.rounding)
        )
        if self.installment_multiple is not None:
            object.__setattr__(
                self,
                "installment_multiple",
                round_money(self.installment_multiple, self.currency_digits, self.rounding),
            )


@dataclass(frozen=True, slots=True)
class Installment:
    """One row of a schedule.

    Attributes:
        n: installment number, from 1.
        due_on: the date it falls due.
        days: days in its period (from the previous due date, or the disbursement).
        principal: principal due.
        interest: interest due (including interest deferred to it).
        total: ``principal + interest``.
        outstanding: principal still owed after it is paid.
    """

    n: int
    due_on: dt.date
    days: int
    principal: Decimal
    interest: Decimal
    total: Decimal
    outstanding: Decimal


@dataclass(frozen=True, slots=True)
class Schedule:
    """A loan's installments and their totals.

    Attributes:
        installments: the installments, in order.
        total_principal: Σ principal, always the principal lent.
        total_interest: Σ interest.
        total: Σ total.
    """

    installments: tuple[Installment, ...]
    total_principal: Decimal
    total_interest: Decimal
    total: Decimal


_NEW: Final = object.__new__
(_SET_N, _SET_DUE_ON, _SET_DAYS, _SET_PRINCIPAL, _SET_INTEREST, _SET_TOTAL, _SET_OUTSTANDING) = (
    getattr(Installment, field.name).__set__ for field in fields(Installment)
)


def _new_installment(
    n: int,
    due_on: dt.date,
    days: int,
    principal: Decimal,
    interest: Decimal,
    total: Decimal,
    outstanding: Decimal,
) -> Installment:
    """``Installment(...)``, made twice as fast for the engine's loop.

    A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``; writing the
    slots through their descriptors gives the same object for half the time.
    """
    row = _NEW(Installment)
    _SET_N(row, n)
    _SET_DUE_ON(row, due_on)
    _SET_DAYS(row, days)
    _SET_PRINCIPAL(row, principal)
    _SET_INTEREST(row, interest)
    _SET_TOTAL(row, total)
    _SET_OUTSTANDING(row, outstanding)
    return row


# --------------------------------------------------------------------------------------------
# Parsing and validation


def parse_terms(data: Mapping[str, object], *, default_currency_digits: int) -> ScheduleTerms:
    """Read schedule terms from a JSON-like mapping, listing every problem at once.

    Money and rates are decimal strings (``"12000000"``, ``"5.13"``); ints are accepted too, and
    floats are refused because they cannot hold decimal amounts exactly. Whole numbers are ints
    (or digit strings), dates ISO strings (``"2024-01-15"``). Absent or ``null`` optional terms
    take their defaults (see :class:`ScheduleTerms`).

    Args:
        data: the terms, keyed by the names in :data:`TERM_FIELDS`.
        default_currency_digits: minor-unit digits of the fund's currency, used when the terms
            do not give ``currency_digits`` (VND 0, USD 2).

    Returns:
        Valid terms.

    Raises:
        RuleViolation: listing every problem found, each a sentence with the numbers. Nothing
            else is raised, whatever the mapping holds.
    """
    if not isinstance(data, Mapping):
        raise RuleViolation(
            _(
                "The schedule terms must be named fields (an object), not %(kind)s.",
                kind=_kind(data),
            )
        )
    problems: list[str] = []
    values: dict[str, Any] = {}
    labels = _labels()
    for field in TERM_FIELDS:
        raw = data.get(field)
        if raw is None:
            if field in _REQUIRED:
                problems.append(
                    _("The %(label)s (%(field)s) is required.", label=labels[field], field=field)
                )
            elif field == "currency_digits":
                values[field] = default_currency_digits
            else:
                values[field] = _DEFAULTS[field]
            continue
        value, problem = _read(field, raw, labels[field])
        if problem is None:
            values[field] = value
        else:
            problems.append(problem)
    unknown = sorted((key for key in data if key not in TERM_FIELDS), key=repr)
    for key in unknown:
        problems.append(
            _(
                "%(field)s is not a schedule term; the terms are %(known)s.",
                field=_quoted(key),
                known=", ".join(TERM_FIELDS),
            )
        )
    problems.extend(_term_problems(values))
    if problems:
        raise RuleViolation(problems)
    return ScheduleTerms(**values)


def _labels() -> dict[str, str]:
    return {
        "principal": _("principal"),
        "annual_rate_pct": _("annual interest rate"),
        "installments": _("number of installments"),
        "frequency": _("frequency"),
        "every": _("interval between installments"),
        "disbursed_on": _("disbursement date"),
        "first_due_on": _("first due date"),
        "method": _("repayment method"),
        "interest_basis": _("interest basis"),
        "days_in_year": _("days in a year"),
        "principal_grace": _("principal grace period"),
        "interest_deferred": _("interest deferral"),
        "interest_free": _("interest-free period"),
        "principal_every": _("principal interval"),
        "currency_digits": _("currency digits"),
        "rounding": _("rounding"),
        "installment_multiple": _("installment multiple"),
        "installment_rounding": _("installment rounding"),
    }


def _kind(value: object) -> str:
    """What a JSON-ish value is, in words, for messages."""
    if value is None:
        return _("null")
    if isinstance(value, bool):
        return _("true/false")
    if isinstance(value, str):
        return _("text")
    if isinstance(value, int | Decimal):
        return _("a number")
    if isinstance(value, float):
        return _("a floating-point number")
    if isinstance(value, list | tuple):
        return _("a list")
    if isinstance(value, Mapping):
        return _("an object")
    return _("a value of type %(type)s", type=type(value).__name__)


def _quoted(value: object) -> str:
    text = value if isinstance(value, str) else repr(value)
    return "“" + (text if len(text) <= 40 else text[:37] + "…") + "”"


def _read(field: str, raw: object, label: str) -> tuple[Any, str | None]:
    """Read one term's raw JSON value: ``(value, None)`` or ``(None, problem)``."""
    if field in ("principal", "annual_rate_pct", "installment_multiple"):
        return _read_decimal(raw, label, "5.13" if field == "annual_rate_pct" else "1000000")
    if field in _INT_FIELDS:
        return _read_int(raw, label)
    if field in ("disbursed_on", "first_due_on"):
        return _read_date(raw, label)
    choices = _CHOICES[field]
    if field == "days_in_year" and type(raw) is int and str(raw) in choices:
        return str(raw), None
    if not isinstance(raw, str):
        return None, _(
            "The %(label)s must be one of %(choices)s, not %(kind)s.",
            label=label,
            choices=", ".join(choices),
            kind=_kind(raw),
        )
    if raw not in choices:
        return None, _(
            "The %(label)s %(value)s is not one of %(choices)s.",
            label=label,
            value=_quoted(raw),
            choices=", ".join(choices),
        )
    return raw, None


def _read_decimal(raw: object, label: str, example: str) -> tuple[Decimal | None, str | None]:
    if isinstance(raw, float):
        return None, _(
            "The %(label)s must be written as a decimal string such as “%(example)s”, not as the "
            "floating-point number %(value)s, which cannot hold decimal amounts exactly.",
            label=label,
            example=example,
            value=repr(raw),
        )
    if isinstance(raw, bool) or not isinstance(raw, str | int | Decimal):
        return None, _(
            "The %(label)s must be a decimal string such as “%(example)s”, not %(kind)s.",
            label=label,
            example=example,
            kind=_kind(raw),
        )
    if isinstance(raw, str):
        text = raw.strip()
        if not _DECIMAL_TEXT.fullmatch(text):
            return None, _(
                "The %(label)s %(value)s is not a plain decimal number such as “%(example)s”.",
                label=label,
                value=_quoted(raw),
                example=example,
            )
        return Decimal(text), None
    value = Decimal(raw)
    if not value.is_finite():
        return None, _(
            "The %(label)s %(value)s is not a finite number.", label=label, value=_quoted(str(raw))
        )
    return value, None


def _read_int(raw: object, label: str) -> tuple[int | None, str | None]:
    value: int | None = None
    if type(raw) is int:
        value = raw
    elif isinstance(raw, str) and _INT_TEXT.fullmatch(raw.strip()):
        value = int(raw.strip())
    elif isinstance(raw, Decimal) and raw.is_finite():
        if raw.adjusted() >= 12:  # checked first: comparing 1E+999999999 overflows
            value = _LARGEST_INT
        elif raw == raw.to_integral_value():
            value = int(raw)
    if value is not None:
        if abs(value) >= _LARGEST_INT:
            return None, _("The %(label)s is far too large.", label=label)
        return value, None
    if isinstance(raw, float | Decimal | str):
        shown = repr(raw) if isinstance(raw, float) else _quoted(str(raw))
        return None, _(
            "The %(label)s must be a whole number, not %(value)s.", label=label, value=shown
        )
    return None, _(
        "The %(label)s must be a whole number, not %(kind)s.", label=label, kind=_kind(raw)
    )


def _read_date(raw: object, label: str) -> tuple[dt.date | None, str | None]:
    if type(raw) is dt.date:
        return raw, None
    if isinstance(raw, str):
        text = raw.strip()
        if _DATE_TEXT.fullmatch(text):
            try:
                return dt.date.fromisoformat(text), None
            except ValueError:
                pass
        return None, _(
            "The %(label)s %(value)s is not a valid date written as YYYY-MM-DD.",
            label=label,
            value=_quoted(raw),
        )
    return None, _(
        "The %(label)s must be a date written as YYYY-MM-DD, not %(kind)s.",
        label=label,
        kind=_kind(raw),
    )


def _largest_amount(digits: int) -> Decimal:
    """The largest amount storable as a signed 64-bit count of minor units."""
    return Decimal(MAX_MINOR_UNITS).scaleb(-digits, context=MONEY_CONTEXT)


def _term_problems(values: Mapping[str, Any]) -> list[str]:
    """Every rule the typed terms break; a term absent from ``values`` is not checked."""
    problems: list[str] = []
    add = problems.append

    digits = values.get("currency_digits")
    if digits is not None and not 0 <= digits <= MAX_CURRENCY_DIGITS:
        add(
            _(
                "The currency digits must be between 0 and %(most)s, not %(digits)s.",
                most=MAX_CURRENCY_DIGITS,
                digits=fmt_number(digits),
            )
        )
        digits = None
    bound_digits = 0 if digits is None else digits

    for field in ("frequency", "method", "interest_basis", "days_in_year", "rounding"):
        value = values.get(field)
        if value is not None and value not in _CHOICES[field]:
            add(
                _(
                    "The %(label)s %(value)s is not one of %(choices)s.",
                    label=_labels()[field],
                    value=_quoted(value),
                    choices=", ".join(_CHOICES[field]),
                )
            )
    value = values.get("installment_rounding")
    if value is not None and value not in INSTALLMENT_ROUNDINGS:
        add(
            _(
                "The installment rounding %(value)s is not one of %(choices)s.",
                value=_quoted(value),
                choices=", ".join(INSTALLMENT_ROUNDINGS),
            )
        )

    principal = values.get("principal")
    if principal is not None:
        if principal <= 0:
            add(
                _(
                    "The principal must be positive, not %(principal)s.",
                    principal=fmt_money(principal),
                )
            )
        elif principal > _largest_amount(bound_digits):
            add(
                _(
                    "The principal %(principal)s is more than the largest amount the fund can "
                    "store (%(largest)s).",
                    principal=fmt_money(principal),
                    largest=fmt_money(_largest_amount(bound_digits)),
                )
            )
        elif digits is not None and not is_whole_in(principal, digits):
            add(
                _(
                    "The principal %(principal)s has more decimals than the currency allows "
                    "(%(digits)s).",
                    principal=fmt_money(principal),
                    digits=digits,
                )
            )

    rate = values.get("annual_rate_pct")
    if rate is not None:
        if not 0 <= rate <= 100:
            add(
                _(
                    "The annual interest rate %(rate)s%% must be between 0%% and 100%%.",
                    rate=fmt_number(rate),
                )
            )
        elif not is_whole_in(rate, MAX_RATE_DECIMALS):
            add(
                _(
                    "The annual interest rate %(rate)s%% has more than %(places)s decimal places.",
                    rate=fmt_number(rate),
                    places=MAX_RATE_DECIMALS,
                )
            )

    installments = values.get("installments")
    if installments is not None:
        if installments < 1:
            add(
                _(
                    "A loan needs at least 1 installment, not %(installments)s.",
                    installments=fmt_number(installments),
                )
            )
            installments = None
        elif installments > MAX_INSTALLMENTS:
            add(
                _(
                    "A loan of %(installments)s installments is too long: at most %(most)s are "
                    "allowed.",
                    installments=fmt_number(installments),
                    most=fmt_number(MAX_INSTALLMENTS),
                )
            )
            installments = None

    every = values.get("every")
    if every is not None and every < 1:
        add(
            _(
                "Installments must be at least 1 period apart (every), not %(every)s.",
                every=fmt_number(every),
            )
        )
        every = None

    grace = values.get("principal_grace")
    if grace is not None:
        if grace < 0:
            add(
                _(
                    "The grace period (%(grace)s installments) cannot be negative.",
                    grace=fmt_number(grace),
                )
            )
            grace = None
        elif installments is not None and grace >= installments:
            add(
                _(
                    "The grace period (%(grace)s installments) must be shorter than the loan "
                    "(%(installments)s installments).",
                    grace=fmt_number(grace),
                    installments=fmt_number(installments),
                )
            )
            grace = None

    for field in ("interest_deferred", "interest_free"):
        periods = values.get(field)
        if periods is None or (periods >= 0 and (installments is None or periods <= installments)):
            continue
        shown = fmt_number(installments) if installments is not None else "?"
        if field == "interest_deferred":
            add(
                _(
                    "The interest deferral (%(periods)s periods) must be between 0 and the "
                    "number of installments (%(installments)s).",
                    periods=fmt_number(periods),
                    installments=shown,
                )
            )
        else:
            add(
                _(
                    "The interest-free period (%(periods)s periods) must be between 0 and the "
                    "number of installments (%(installments)s).",
                    periods=fmt_number(periods),
                    installments=shown,
                )
            )

    principal_every = values.get("principal_every")
    method = values.get("method")
    if principal_every is not None:
        if principal_every < 1:
            add(
                _(
                    "Principal must fall due at least every installment (principal_every = 1), "
                    "not every %(every)s.",
                    every=fmt_number(principal_every),
                )
            )
        elif principal_every > 1 and method == "annuity":
            add(
                _(
                    "Equal installments (annuity) cannot carry principal only every %(every)s "
                    "installments: an annuity's installments are equal because each one repays "
                    "principal, which they cannot be when only some do. Use equal_principal or "
                    "flat, or principal every installment.",
                    every=fmt_number(principal_every),
                )
            )
        elif (
            installments is not None
            and grace is not None
            and (installments - grace) % principal_every
        ):
            add(
                _(
                    "The %(bearing)s installments after the grace period (%(installments)s − "
                    "%(grace)s) are not a whole number of principal periods of %(every)s "
                    "installments.",
                    bearing=fmt_number(installments - grace),
                    installments=fmt_number(installments),
                    grace=fmt_number(grace),
                    every=fmt_number(principal_every),
                )
            )

    multiple = values.get("installment_multiple")
    if multiple is not None:
        if multiple <= 0:
            add(
                _(
                    "The installment multiple must be positive, not %(multiple)s.",
                    multiple=fmt_money(multiple),
                )
            )
        elif multiple > _largest_amount(bound_digits):
            add(
                _(
                    "The installment multiple %(multiple)s is more than the largest amount the "
                    "fund can store (%(largest)s).",
                    multiple=fmt_money(multiple),
                    largest=fmt_money(_largest_amount(bound_digits)),
                )
            )
        elif digits is not None and not is_whole_in(multiple, digits):
            add(
                _(
                    "The installment multiple %(multiple)s is not a whole number of the "
                    "currency's smallest unit (%(unit)s).",
                    multiple=fmt_money(multiple),
                    unit=fmt_money(Decimal(1).scaleb(-digits)),
                )
            )

    disbursed_on = values.get("disbursed_on")
    first_due_on = values.get("first_due_on")
    frequency = values.get("frequency")
    if disbursed_on is not None and first_due_on is not None and first_due_on <= disbursed_on:
        add(
            _(
                "The first installment (%(first_due_on)s) must fall due after the disbursement "
                "(%(disbursed_on)s).",
                first_due_on=fmt_date(first_due_on),
                disbursed_on=fmt_date(disbursed_on),
            )
        )
    elif (
        disbursed_on is not None
        and installments is not None
        and every is not None
        and frequency in calendar.FREQUENCIES
    ):
        try:
            anchor, first, is_regular = _anchor(disbursed_on, first_due_on, frequency, every)
            calendar.step(anchor, frequency, every, first + installments - 1)
            if not is_regular:
                calendar.step(anchor, frequency, every, -1)
        except (ValueError, OverflowError):
            add(
                _(
                    "A schedule of %(installments)s installments of %(every)s × %(frequency)s "
                    "from %(start)s runs outside the years the calendar holds (1 to 9999).",
                    installments=fmt_number(installments),
                    every=fmt_number(every),
                    frequency=frequency,
                    start=fmt_date(first_due_on or disbursed_on),
                )
            )
    return problems


# --------------------------------------------------------------------------------------------
# The engine


def _anchor(
    disbursed_on: dt.date, first_due_on: dt.date | None, frequency: str, every: int
) -> tuple[dt.date, int, bool]:
    """``(anchor, period number of installment 1, first period is a regular one)``."""
    natural = calendar.step(disbursed_on, frequency, every, 1)
    if first_due_on is None or first_due_on == natural:
        return disbursed_on, 1, True
    return first_due_on, 0, False


def due_dates(terms: ScheduleTerms) -> list[dt.date]:
    """The due dates of every installment of ``terms``, in order.

    Args:
        terms: the schedule's terms.

    Returns:
        ``terms.installments`` strictly increasing dates.
    """
    anchor, first, _regular = _anchor(
        terms.disbursed_on, terms.first_due_on, terms.frequency, terms.every
    )
    return calendar.step_dates(anchor, terms.frequency, terms.every, first, terms.installments)


def build_schedule(terms: ScheduleTerms) -> Schedule:
    """Build the repayment schedule of ``terms`` (see the module's conventions).

    Args:
        terms: valid terms (see :func:`parse_terms`).

    Returns:
        The schedule: its installments and totals, every amount rounded to
        ``terms.currency_digits``.
    """
    return _compute(terms, 0)[0]


def _annuity_payment(balance: Decimal, rate: Decimal, count: int) -> Decimal:
    """``balance × r ÷ (1 − (1 + r)^−count)``, unrounded; ``balance ÷ count`` when ``r`` is 0.

    Runs in the caller's decimal context (:data:`MONEY_CONTEXT`).
    """
    if not rate:
        return balance / count
    growth = (1 + rate) ** count
    return balance * rate * growth / (growth - 1)


def _round_installment(amount: Decimal, terms: ScheduleTerms, mode: str) -> Decimal:
    """Round a regular installment amount to the multiple, or else to the currency's unit."""
    if terms.installment_multiple is not None:
        return round_to_multiple(amount, terms.installment_multiple, mode)
    return round_money(amount, terms.currency_digits, mode)


def _compute(terms: ScheduleTerms, trace_n: int) -> tuple[Schedule, dict[str, Any]]:
    """The schedule of ``terms``; with ``trace_n`` > 0, how installment ``trace_n`` was made.

    This is the only place schedule arithmetic happens: :func:`build_schedule` and
    :func:`explain_installment` both read its results.
    """
    with decimal.localcontext(MONEY_CONTEXT):
        count = terms.installments
        digits = terms.currency_digits
        rounding = terms.rounding
        installment_mode = "up" if terms.installment_rounding == "up" else rounding
        method = terms.method
        principal = terms.principal
        rate_pct = terms.annual_rate_pct
        frequency, every = terms.frequency, terms.every
        multiple = terms.installment_multiple
        grace = terms.principal_grace
        principal_every = terms.principal_every
        deferred_periods = terms.interest_deferred
        free_periods = terms.interest_free
        deferral_target = min(deferred_periods + 1, count) if deferred_periods else 0
        is_daily = terms.interest_basis == "daily"
        is_flat = method == "flat"
        days_in_year = terms.days_in_year
        fixed_year_days = 0 if days_in_year == "actual" else int(days_in_year)
        period_num, period_den = calendar.period_years(frequency, every, days_in_year)
        zero = Decimal((0, (0,), -digits))  # 0 written with the currency's decimals

        anchor, first, is_regular_first = _anchor(
            terms.disbursed_on, terms.first_due_on, frequency, every
        )
        dates = calendar.step_dates(anchor, frequency, every, first, count)
        regular_first_days = 0
        if not is_daily and not is_regular_first:
            regular_first_days = (anchor - calendar.step(anchor, frequency, every, -1)).days

        trace: dict[str, Any] = {}
        bearing_count = 1 if method == "bullet" else (count - grace) // principal_every
        part = payment = None
        if method == "equal_principal":
            part_raw = principal / bearing_count
            part = round_money(part_raw, digits, rounding)
            trace.update(part_raw=part_raw, part=part)
        elif method == "flat":
            part_raw = principal / bearing_count
            part = _round_installment(part_raw, terms, installment_mode)
            trace.update(part_raw=part_raw, part=part)
        elif method == "annuity":
            periodic_rate = rate_pct * period_num / (period_den * _HUNDRED)
            payment_raw = _annuity_payment(principal, periodic_rate, bearing_count)
            payment = _round_installment(payment_raw, terms, installment_mode)
            trace.update(periodic_rate=periodic_rate, payment_raw=payment_raw, payment=payment)
        trace.update(bearing_count=bearing_count, regular_first_days=regular_first_days)

        # Facts fixed before the loop, so that the loop itself only does the arithmetic.
        is_bearing = bytearray(count + 1)
        if method != "bullet":
            for n in range(grace + principal_every, count, principal_every):
                is_bearing[n] = 1
        special_until = max(free_periods, deferral_target)
        daily_den = Decimal(fixed_year_days * 100) if is_daily and fixed_year_days else None
        regular_rate = rate_pct * period_num
        regular_den = Decimal(period_den * 100)
        flat_multiple = multiple if is_flat else None
        rate_by_days: dict[int, Decimal] = {}
        make = _new_installment
        # round_money(amount, digits, rounding), its look-ups made once: the loop calls
        # amount.quantize(quantum, mode, MONEY_CONTEXT) directly.
        quantum, mode = rounding_args(digits, rounding)
        rows: list[Installment] = []
        append = rows.append
        balance = principal
        deferred_sum = total_interest = zero
        previous_on = terms.disbursed_on
        for n, due_on in enumerate(dates, 1):
            days = (due_on - previous_on).days
            base = principal if is_flat else balance
            if daily_den is not None:
                rate_days = rate_by_days.get(days)
                if rate_days is None:
                    rate_days = rate_by_days[days] = rate_pct * days
                interest_raw = base * rate_days / daily_den
            elif is_daily:
                year_num, year_den = calendar.year_fraction(previous_on, due_on, "actual")
                interest_raw = base * rate_pct * year_num / (year_den * _HUNDRED)
            elif n == 1 and regular_first_days:
                interest_raw = base * regular_rate * days / (regular_den * regular_first_days)
            else:
                interest_raw = base * regular_rate / regular_den
            accrued = interest = interest_raw.quantize(quantum, mode, MONEY_CONTEXT)
            if n <= special_until:
                if n <= free_periods:
                    interest = zero
                elif n <= deferred_periods:
                    deferred_sum += accrued
                    interest = zero
                if n == deferral_target:
                    interest += deferred_sum

            principal_raw = None
            if is_bearing[n]:
                if payment is not None:
                    principal_raw = payment - accrued
                elif flat_multiple is not None:
                    principal_raw = (
                        part
                        + round_to_multiple(interest, flat_multiple, installment_mode)
                        - interest
                    )
                else:
                    principal_raw = part
                if principal_raw > balance:
                    paid = balance
                elif principal_raw > zero:
                    paid = principal_raw
                else:
                    paid = zero
            elif n == count:
                paid = balance
            else:
                paid = zero
            balance -= paid
            total_interest += interest
            append(make(n, due_on, days, paid, interest, paid + interest, balance))
            if n == trace_n:
                is_target = n == deferral_target
                trace.update(
                    start_on=previous_on,
                    base=base,
                    interest_raw=interest_raw,
                    accrued=accrued,
                    own_interest=interest - deferred_sum if is_target else interest,
                    deferred_sum=deferred_sum if is_target else None,
                    principal_raw=principal_raw,
                    balance_before=balance + paid,
                )
                if flat_multiple is not None:
                    trace["interest_rounded"] = round_to_multiple(
                        interest, flat_multiple, installment_mode
                    )
            previous_on = due_on
        # The last installment paid the whole balance, so this is Σ principal, exactly.
        total_principal = principal - balance
        schedule = Schedule(
            tuple(rows), total_principal, total_interest, total_principal + total_interest
        )
    return schedule, trace


# --------------------------------------------------------------------------------------------
# Output


def to_json_dict(schedule: Schedule, digits: int) -> dict[str, Any]:
    """A schedule as JSON-ready data: money as decimal strings, dates ISO.

    Args:
        schedule: the schedule.
        digits: the currency's minor-unit digits; every amount is written with exactly this many
            decimals (``"1000.00"`` for 2, ``"1000"`` for 0).

    Returns:
        ``{"installments": [{"n", "due_on", "days", "principal", "interest", "total",
        "outstanding"}, ...], "totals": {"principal", "interest", "total"}}``.
    """

    def text(amount: Decimal) -> str:
        return format(round_money(amount, digits), "f")

    return {
        "installments": [
            {
                "n": row.n,
                "due_on": row.due_on.isoformat(),
                "days": row.days,
                "principal": text(row.principal),
                "interest": text(row.interest),
                "total": text(row.total),
                "outstanding": text(row.outstanding),
            }
            for row in schedule.installments
        ],
        "totals": {
            "principal": text(schedule.total_principal),
            "interest": text(schedule.total_interest),
            "total": text(schedule.total),
        },
    }


def _shown(value: Decimal, places: int) -> tuple[str, str]:
    """``("=", text)`` when ``value`` has at most ``places`` decimals, else ``("≈", rounded)``."""
    rounded = round_money(value, places)
    sign = "=" if rounded == value else "≈"
    text = format(rounded, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return sign, fmt_number(Decimal(text))


def _how(mode: str) -> str:
    return {"half_up": _("half up"), "half_even": _("half to even"), "up": _("up")}[mode]


def explain_installment(terms: ScheduleTerms, schedule: Schedule, n: int) -> list[str]:
    """The arithmetic of installment ``n``, step by step, in sentences with the numbers.

    Args:
        terms: the terms the schedule was built from.
        schedule: ``build_schedule(terms)``.
        n: the installment, from 1.

    Returns:
        Sentences: the period and its days, the balance and the interest formula with its
        rounding, any waiver or deferral, how the principal was set, the total and what stays
        outstanding.

    Raises:
        RuleViolation: when the schedule has no installment ``n``.
        ValueError: when ``schedule`` was not built from ``terms``.
    """
    count = len(schedule.installments)
    if not 1 <= n <= count:
        raise RuleViolation(
            _(
                "There is no installment %(n)s: the schedule has %(count)s.",
                n=fmt_number(n),
                count=fmt_number(count),
            )
        )
    rebuilt, trace = _compute(terms, n)
    if rebuilt != schedule:
        raise ValueError("The schedule was not built from these terms.")
    row = schedule.installments[n - 1]
    digits = terms.currency_digits
    rate = fmt_number(terms.annual_rate_pct)
    installment_mode = "up" if terms.installment_rounding == "up" else terms.rounding
    steps = [
        _(
            "Installment %(n)s falls due on %(due_on)s; its period runs from %(start_on)s: "
            "%(days)s days.",
            n=n,
            due_on=fmt_date(row.due_on),
            start_on=fmt_date(trace["start_on"]),
            days=fmt_number(row.days),
        )
    ]

    # Interest.
    base = fmt_money(trace["base"])
    if terms.method == "flat":
        steps.append(_("Flat interest runs on the original principal, %(base)s.", base=base))
    else:
        steps.append(
            _("Interest runs on the principal outstanding during the period, %(base)s.", base=base)
        )
    if terms.interest_basis == "daily":
        pieces = calendar.days_by_year(trace["start_on"], row.due_on)
        if terms.days_in_year == "actual":
            fraction = " + ".join(
                f"{fmt_number(days)} / {calendar.year_length(year, 'actual')}"
                for year, days in pieces
            )
            if len(pieces) > 1:
                fraction = f"({fraction})"
        else:
            fraction = f"{fmt_number(row.days)} / {terms.days_in_year}"
    else:
        period_num, period_den = calendar.period_years(
            terms.frequency, terms.every, terms.days_in_year
        )
        fraction = f"{period_num}/{period_den}"
        if trace["regular_first_days"] and n == 1:
            fraction += f" × {fmt_number(row.days)} / {fmt_number(trace['regular_first_days'])}"
            steps.append(
                _(
                    "The first period is %(days)s days against the %(regular)s days of a regular "
                    "period, so its interest is pro-rated by %(days)s / %(regular)s.",
                    days=fmt_number(row.days),
                    regular=fmt_number(trace["regular_first_days"]),
                )
            )
    sign, raw = _shown(trace["interest_raw"], digits + 4)
    steps.append(
        _(
            "Interest = %(base)s × %(rate)s%% × %(fraction)s %(sign)s %(raw)s, rounded "
            "%(how)s to %(accrued)s.",
            base=base,
            rate=rate,
            fraction=fraction,
            sign=sign,
            raw=raw,
            how=_how(terms.rounding),
            accrued=fmt_money(trace["accrued"]),
        )
    )
    if n <= terms.interest_free:
        steps.append(
            _(
                "It is waived: the first %(periods)s periods are interest-free.",
                periods=fmt_number(terms.interest_free),
            )
        )
    elif n <= terms.interest_deferred and n != count:
        steps.append(
            _(
                "It is deferred: the interest of the first %(periods)s periods falls due with "
                "installment %(target)s.",
                periods=fmt_number(terms.interest_deferred),
                target=fmt_number(min(terms.interest_deferred + 1, count)),
            )
        )
    if trace["deferred_sum"]:  # None, or nothing left to add when every deferred period was waived
        if n <= terms.interest_deferred:
            steps.append(
                _(
                    "The interest deferred from every period, %(deferred)s in all, falls due "
                    "with this last installment.",
                    deferred=fmt_money(row.interest),
                )
            )
        else:
            steps.append(
                _(
                    "The interest deferred from periods 1 to %(periods)s, %(deferred)s, falls "
                    "due now: interest due = %(own)s + %(deferred)s = %(interest)s.",
                    periods=fmt_number(terms.interest_deferred),
                    deferred=fmt_money(trace["deferred_sum"]),
                    own=fmt_money(trace["own_interest"]),
                    interest=fmt_money(row.interest),
                )
            )

    # Principal.
    balance_before = fmt_money(trace["balance_before"])
    grace, every = terms.principal_grace, terms.principal_every
    if n == count:
        steps.append(
            _(
                "As the last installment, it repays the whole outstanding balance, %(balance)s, "
                "which absorbs every rounding residue.",
                balance=balance_before,
            )
        )
    elif terms.method == "bullet":
        steps.append(_("No principal is due: a bullet loan repays all principal at the end."))
    elif n <= grace:
        steps.append(
            _(
                "No principal is due: installment %(n)s is within the principal grace period of "
                "%(grace)s installments.",
                n=n,
                grace=fmt_number(grace),
            )
        )
    elif (n - grace) % every:
        steps.append(
            _(
                "No principal is due: after the grace period principal falls due every "
                "%(every)s installments, next with installment %(next)s.",
                every=fmt_number(every),
                next=fmt_number(n + every - (n - grace) % every),
            )
        )
    else:
        bearing = fmt_number(trace["bearing_count"])
        if terms.method == "annuity":
            sign, raw = _shown(trace["payment_raw"], digits + 4)
            target = (
                _("a multiple of %(multiple)s", multiple=fmt_money(terms.installment_multiple))
                if terms.installment_multiple is not None
                else _("the currency's unit")
            )
            if terms.annual_rate_pct:
                rate_sign, periodic = _shown(trace["periodic_rate"] * 100, 8)
                steps.append(
                    _(
                        "The regular installment is the annuity payment P × r ÷ (1 − (1 + r)^−m) "
                        "with P = %(principal)s, r = %(rate)s%% × %(period)s %(rate_sign)s "
                        "%(periodic)s%% per period and m = %(bearing)s installments: %(sign)s "
                        "%(raw)s, rounded %(how)s to %(target)s: %(payment)s.",
                        principal=fmt_money(terms.principal),
                        rate=rate,
                        period=f"{period_fraction(terms)[0]}/{period_fraction(terms)[1]}",
                        rate_sign=rate_sign,
                        periodic=periodic,
                        bearing=bearing,
                        sign=sign,
                        raw=raw,
                        how=_how(installment_mode),
                        target=target,
                        payment=fmt_money(trace["payment"]),
                    )
                )
            else:
                steps.append(
                    _(
                        "At a zero rate the regular installment is %(principal)s ÷ %(bearing)s "
                        "%(sign)s %(raw)s, rounded %(how)s to %(target)s: %(payment)s.",
                        principal=fmt_money(terms.principal),
                        bearing=bearing,
                        sign=sign,
                        raw=raw,
                        how=_how(installment_mode),
                        target=target,
                        payment=fmt_money(trace["payment"]),
                    )
                )
            steps.append(
                _(
                    "Principal = installment %(payment)s − the period's interest %(interest)s = "
                    "%(principal)s.",
                    payment=fmt_money(trace["payment"]),
                    interest=fmt_money(trace["accrued"]),
                    principal=fmt_money(trace["principal_raw"]),
                )
            )
        else:
            sign, raw = _shown(trace["part_raw"], digits + 4)
            is_multiple = terms.method == "flat" and terms.installment_multiple is not None
            mode = installment_mode if terms.method == "flat" else terms.rounding
            steps.append(
                _(
                    "Principal = %(principal)s ÷ %(bearing)s principal installments %(sign)s "
                    "%(raw)s, rounded %(how)s to %(target)s: %(part)s.",
                    principal=fmt_money(terms.principal),
                    bearing=bearing,
                    sign=sign,
                    raw=raw,
                    how=_how(mode),
                    target=(
                        _(
                            "a multiple of %(multiple)s",
                            multiple=fmt_money(terms.installment_multiple),
                        )
                        if is_multiple
                        else _("the currency's unit")
                    ),
                    part=fmt_money(trace["part"]),
                )
            )
            if is_multiple:
                steps.append(
                    _(
                        "So that the installment is a multiple of %(multiple)s, the interest "
                        "%(interest)s is rounded %(how)s to %(rounded)s and the difference added: "
                        "principal = %(part)s + %(rounded)s − %(interest)s = %(principal)s.",
                        multiple=fmt_money(terms.installment_multiple),
                        interest=fmt_money(row.interest),
                        how=_how(installment_mode),
                        rounded=fmt_money(trace["interest_rounded"]),
                        part=fmt_money(trace["part"]),
                        principal=fmt_money(trace["principal_raw"]),
                    )
                )
        if trace["principal_raw"] > trace["balance_before"]:
            steps.append(
                _(
                    "That is more than the %(balance)s still outstanding, so the principal is "
                    "capped at %(balance)s and the installments after it carry no principal.",
                    balance=balance_before,
                )
            )
        elif trace["principal_raw"] < 0:
            steps.append(
                _(
                    "The interest is more than the installment, so no principal is due: "
                    "principal is never negative."
                )
            )
    steps.append(
        _(
            "Total due = principal %(principal)s + interest %(interest)s = %(total)s; principal "
            "outstanding after it: %(outstanding)s.",
            principal=fmt_money(row.principal),
            interest=fmt_money(row.interest),
            total=fmt_money(row.total),
            outstanding=fmt_money(row.outstanding),
        )
    )
    return steps


def period_fraction(terms: ScheduleTerms) -> tuple[int, int]:
    """The nominal length of one period of ``terms`` in years, as ``(numerator, denominator)``."""
    return calendar.period_years(terms.frequency, terms.every, terms.days_in_year)
