"""A repayment schedule as an Excel workbook (xlsxwriter), built in memory.

One sheet: the schedule table from A1 (number, due date, days, principal, interest, total,
outstanding; a frozen header row, an autofilter and a totals row) and, to its right, the loan's
terms as label/value rows, so that the schedule can be rebuilt from the sheet.

Amounts are written as numbers with a money format (thousands separator, the currency's
decimals); due dates as real Excel dates. Every ``Decimal`` goes to xlsxwriter as it is:
xlsxwriter writes a ``Decimal`` into the file as its decimal text (up to 16 significant digits),
so no binary float ever holds an amount. Excel itself keeps 15 significant digits. Totals are
the engine's, written as numbers, not formulas. Text is always written as text: a label such as
``=HYPERLINK(…)`` stays a string (``strings_to_formulas`` and ``strings_to_urls`` are off and
text goes through ``write_string``).

Every word the user reads comes from the caller, already translated (this layer does not import
Flask): pass ``labels``, or leave them out to get :func:`default_labels`, which uses the
translator the application installed in :mod:`loanfund.domain.i18n`.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import xlsxwriter

from loanfund.domain.i18n import _
from loanfund.domain.money import round_money
from loanfund.domain.schedule import TERM_FIELDS, Schedule, ScheduleTerms
from loanfund.domain.schedule_text import option_label, term_titles

#: The schedule table's columns: the :class:`~loanfund.domain.schedule.Installment` fields.
COLUMNS: Final = ("n", "due_on", "days", "principal", "interest", "total", "outstanding")
#: Terms written as amounts, as a rate and as dates; the other terms are whole numbers or codes.
_MONEY_TERMS: Final = frozenset({"principal", "installment_multiple"})
_DATE_TERMS: Final = frozenset({"disbursed_on", "first_due_on"})
#: The terms block starts in this column (I), one blank column after the table.
_TERMS_COLUMN: Final = len(COLUMNS) + 1
#: Characters Excel refuses in a sheet name, and its longest sheet name.
_SHEET_NAME_FORBIDDEN: Final = re.compile(r"[\[\]:*?/\\]")
_SHEET_NAME_MAX: Final = 31


def default_labels() -> dict[str, str]:
    """Every label of the workbook, translated by the installed translator (English without one).

    Keys: ``sheet`` (the sheet's name), ``terms`` (heading of the terms block), ``currency``,
    ``totals`` (the totals row), the :data:`COLUMNS` and ``term.<name>`` for each of
    :data:`~loanfund.domain.schedule.TERM_FIELDS`.
    """
    return {
        "sheet": _("Repayment schedule"),
        "terms": _("Loan terms"),
        "currency": _("Currency"),
        "totals": _("Total"),
        "n": _("No."),
        "due_on": _("Due date"),
        "days": _("Days"),
        "principal": _("Principal"),
        "interest": _("Interest"),
        "total": _("Total due"),
        "outstanding": _("Outstanding principal"),
        **{f"term.{name}": title for name, title in term_titles().items()},
    }


def _sheet_name(label: str) -> str:
    """``label`` made acceptable to Excel as a sheet name."""
    name = _SHEET_NAME_FORBIDDEN.sub(" ", label).strip().strip("'")[:_SHEET_NAME_MAX].strip()
    return name or "Sheet1"


def money_format(digits: int) -> str:
    """Excel's number format for amounts with ``digits`` decimals: ``#,##0`` or ``#,##0.00``."""
    return "#,##0" + ("." + "0" * digits if digits > 0 else "")


@dataclass(frozen=True, slots=True)
class _Formats:
    """The cell formats of one workbook."""

    header: Any
    money: Any
    date: Any
    whole: Any
    rate: Any
    text: Any
    label: Any
    total_label: Any
    total_money: Any
    #: The date format's pattern, for column widths.
    date_pattern: str

    @classmethod
    def add_to(cls, workbook: Any, *, digits: int, date_format: str) -> _Formats:
        add = workbook.add_format
        return cls(
            header=add({"bold": True, "bottom": 1, "text_wrap": True, "valign": "top"}),
            money=add({"num_format": money_format(digits)}),
            date=add({"num_format": date_format}),
            whole=add({"num_format": "0"}),
            rate=add({"num_format": "0.00########%"}),
            text=add({"align": "right"}),
            label=add({"bold": True}),
            total_label=add({"bold": True, "top": 1}),
            total_money=add({"bold": True, "top": 1, "num_format": money_format(digits)}),
            date_pattern=date_format,
        )


def schedule_workbook(
    terms: ScheduleTerms,
    schedule: Schedule,
    *,
    currency: str,
    digits: int,
    labels: Mapping[str, str] | None = None,
    date_format: str = "yyyy-mm-dd",
) -> bytes:
    """The schedule and its terms as an .xlsx file.

    Args:
        terms: the terms the schedule was built from.
        schedule: ``build_schedule(terms)``.
        currency: the fund currency's ISO code, written above the terms (e.g. ``"VND"``).
        digits: the currency's minor-unit digits: amounts are written rounded to them (a no-op
            for a schedule built with them) and shown with that many decimals.
        labels: translated labels, keyed as in :func:`default_labels`; those left out take its
            values.
        date_format: Excel's number format for dates (e.g. ``"dd/mm/yyyy"``).

    Returns:
        The workbook's bytes.

    Raises:
        ValueError: for a label key :func:`default_labels` does not have.
    """
    text = default_labels()
    if labels:
        unknown = sorted(set(labels) - set(text))
        if unknown:
            raise ValueError(f"Unknown workbook labels: {', '.join(unknown)}.")
        text.update(labels)

    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        output, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    formats = _Formats.add_to(workbook, digits=digits, date_format=date_format)
    sheet = workbook.add_worksheet(_sheet_name(text["sheet"]))
    _write_table(sheet, schedule, text, formats, digits=digits)
    _write_terms(sheet, terms, text, formats, currency=currency, digits=digits)
    workbook.close()
    return output.getvalue()


def _width(shown: str) -> int:
    """Column width (in characters) that shows ``shown``, with room for a filter button."""
    return min(max(len(shown), 6) + 3, 50)


def _write_table(
    sheet: Any,
    schedule: Schedule,
    text: Mapping[str, str],
    formats: _Formats,
    *,
    digits: int,
) -> None:
    """The schedule from A1: header (frozen, filtered), one row per installment, the totals."""
    widths = [_width(text[name]) for name in COLUMNS]

    def widen(column: int, shown: str) -> None:
        widths[column] = max(widths[column], _width(shown))

    for column, name in enumerate(COLUMNS):
        sheet.write_string(0, column, text[name], formats.header)
    widen(1, formats.date_pattern)
    for index, row in enumerate(schedule.installments, start=1):
        sheet.write_number(index, 0, row.n, formats.whole)
        sheet.write_datetime(index, 1, row.due_on, formats.date)
        sheet.write_number(index, 2, row.days, formats.whole)
        for column, name in enumerate(COLUMNS[3:], start=3):
            value = round_money(getattr(row, name), digits)
            sheet.write_number(index, column, value, formats.money)
            widen(column, f"{value:,}")
    last_row = len(schedule.installments)

    totals_row = last_row + 1
    totals = {
        "principal": schedule.total_principal,
        "interest": schedule.total_interest,
        "total": schedule.total,
    }
    sheet.write_string(totals_row, 0, text["totals"], formats.total_label)
    for column, name in enumerate(COLUMNS[1:], start=1):
        if name in totals:
            value = round_money(totals[name], digits)
            sheet.write_number(totals_row, column, value, formats.total_money)
            widen(column, f"{value:,}")
        else:
            sheet.write_blank(totals_row, column, None, formats.total_label)
    # The totals label may run into the empty cells beside it; it does not widen column A.

    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, last_row, len(COLUMNS) - 1)
    for column, width in enumerate(widths):
        sheet.set_column(column, column, width)


def _write_terms(
    sheet: Any,
    terms: ScheduleTerms,
    text: Mapping[str, str],
    formats: _Formats,
    *,
    currency: str,
    digits: int,
) -> None:
    """The currency and every term as label/value rows from column I, under a heading."""
    label_column, value_column = _TERMS_COLUMN, _TERMS_COLUMN + 1
    sheet.write_string(0, label_column, text["terms"], formats.header)
    sheet.write_blank(0, value_column, None, formats.header)
    sheet.write_string(1, label_column, text["currency"], formats.label)
    sheet.write_string(1, value_column, currency, formats.text)
    label_width = max(len(text["terms"]), len(text["currency"]))
    value_width = len(currency)
    for row, name in enumerate(TERM_FIELDS, start=2):
        label = text[f"term.{name}"]
        sheet.write_string(row, label_column, label, formats.label)
        shown = _write_term(sheet, row, value_column, name, getattr(terms, name), formats, digits)
        label_width = max(label_width, len(label))
        value_width = max(value_width, len(shown))
    sheet.set_column(label_column, label_column, min(label_width + 2, 60))
    sheet.set_column(value_column, value_column, _width("x" * value_width))


def _write_term(
    sheet: Any, row: int, column: int, name: str, value: Any, formats: _Formats, digits: int
) -> str:
    """Write one term's value in the kind of cell it needs; returns about the text it shows."""
    if value is None:
        sheet.write_blank(row, column, None)
        return ""
    if name == "annual_rate_pct":
        # 5.13 (percent) is the fraction 0.0513, which the percent format shows as 5.13%.
        sheet.write_number(row, column, value.scaleb(-2), formats.rate)
        return f"{value}%"
    if name in _MONEY_TERMS:
        amount = round_money(value, digits)
        sheet.write_number(row, column, amount, formats.money)
        return f"{amount:,}"
    if name in _DATE_TERMS:
        sheet.write_datetime(row, column, value, formats.date)
        return formats.date_pattern
    if isinstance(value, int):
        sheet.write_number(row, column, value, formats.whole)
        return str(value)
    shown = option_label(name, value)  # "Equal installments (annuity)", not "annuity"
    sheet.write_string(row, column, shown, formats.text)
    return shown
