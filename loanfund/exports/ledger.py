"""One way to write a ledger sheet an accountant can use as it is (xlsxwriter).

Every ledger: the workbook's title and "as of" line on top, a bold header row that stays
frozen, an autofilter, sensible column widths, then the rows, streamed one by one in
constant memory, and a totals row whose values are written (no formulas). Amounts are numbers
in the currency's format (``#,##0`` for VND), dates are real dates (``dd/mm/yyyy``), and text
is always written as text: a cooperative named ``=HYPERLINK(…)`` stays a name.

Every word comes from the caller, already in the reader's language.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any, Final

import xlsxwriter

KINDS: Final = ("text", "money", "date", "int", "pct", "auto")


@dataclass(frozen=True, slots=True)
class Column:
    """A column: the row key it shows, its heading, its kind, its width, and whether the
    totals row adds it up."""

    key: str
    title: str
    kind: str = "text"
    width: int = 14
    total: bool = False


def money_format(digits: int) -> str:
    return "#,##0" if digits == 0 else "#,##0." + "0" * digits


class LedgerBook:
    """A workbook of ledger sheets, written to ``target`` (a path or a binary stream)."""

    def __init__(self, target: str | IO[bytes], *, digits: int) -> None:
        self.workbook = xlsxwriter.Workbook(
            target,
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        add = self.workbook.add_format
        self.formats = {
            "title": add({"bold": True, "font_size": 13}),
            "subtitle": add({"italic": True}),
            "header": add({"bold": True, "bg_color": "#E8F1EC", "border": 1, "text_wrap": True}),
            "money": add({"num_format": money_format(digits)}),
            "date": add({"num_format": "dd/mm/yyyy"}),
            "int": add({"num_format": "0"}),
            "pct": add({"num_format": "0.00"}),
            "text": add({}),
            "total_label": add({"bold": True, "top": 1}),
            "total_money": add({"bold": True, "top": 1, "num_format": money_format(digits)}),
            "total_int": add({"bold": True, "top": 1, "num_format": "0"}),
        }

    def sheet(
        self,
        name: str,
        *,
        title: str,
        subtitle: str,
        columns: Sequence[Column],
        rows: Iterable[Mapping[str, Any]],
        totals_label: str,
    ) -> dict[str, Decimal]:
        """Write one sheet; returns its totals (by column key)."""
        sheet = self.workbook.add_worksheet(name[:31])
        sheet.write_string(0, 0, title, self.formats["title"])
        sheet.write_string(1, 0, subtitle, self.formats["subtitle"])
        header_row = 3
        for index, column in enumerate(columns):
            sheet.set_column(index, index, column.width)
            sheet.write_string(header_row, index, column.title, self.formats["header"])
        sheet.freeze_panes(header_row + 1, 0)
        totals = {c.key: Decimal(0) for c in columns if c.total}
        # Each column's writer is chosen once, not once a cell: a ledger can have millions.
        plan = [
            (index, column.key, *self._writer(sheet, column.kind))
            for index, column in enumerate(columns)
        ]
        write_blank = sheet.write_blank
        row_number = header_row
        for row in rows:
            row_number += 1
            for index, key, write, style, convert in plan:
                value = row.get(key)
                if value is None or value == "":
                    write_blank(row_number, index, None)
                else:
                    write(row_number, index, convert(value) if convert else value, style)
            for key in totals:
                value = row.get(key)
                if value is not None:
                    totals[key] += value if type(value) is Decimal else Decimal(value)
        last = max(row_number, header_row)
        sheet.autofilter(header_row, 0, last, len(columns) - 1)
        total_row = last + 1
        sheet.write_string(total_row, 0, totals_label, self.formats["total_label"])
        for index, column in enumerate(columns):
            if column.key in totals:
                style = "total_int" if column.kind == "int" else "total_money"
                sheet.write_number(total_row, index, totals[column.key], self.formats[style])
        return totals

    def _writer(
        self, sheet: Any, kind: str
    ) -> tuple[Callable[[int, int, Any, Any], Any], Any, Callable[[Any], Any] | None]:
        """How a column of ``kind`` writes a value that is not blank: the sheet's method, the
        cell format, and what the value goes through first (if anything; see :meth:`_cell`)."""
        if kind == "money":
            return sheet.write_number, self.formats["money"], Decimal
        if kind in ("int", "pct"):
            return sheet.write_number, self.formats[kind], None
        if kind == "text":
            return sheet.write_string, self.formats["text"], str
        if kind == "date":
            return sheet.write_datetime, self.formats["date"], _day
        return (  # auto
            lambda row, col, value, _style: self._cell(sheet, row, col, kind, value),
            None,
            None,
        )

    def _cell(self, sheet: Any, row: int, col: int, kind: str, value: Any) -> None:
        if kind == "auto":  # a column of mixed values (a terms sheet): each by its type
            if isinstance(value, Decimal):
                kind = "money"
            elif isinstance(value, dt.date):
                kind = "date"
            elif isinstance(value, int) and not isinstance(value, bool):
                kind = "int"
            else:
                kind = "text"
        if value is None or value == "":
            sheet.write_blank(row, col, None)
        elif kind == "money":
            sheet.write_number(row, col, Decimal(value), self.formats["money"])
        elif kind in ("int", "pct"):
            sheet.write_number(row, col, value, self.formats[kind])
        elif kind == "date":
            sheet.write_datetime(row, col, _day(value), self.formats["date"])
        else:
            sheet.write_string(row, col, str(value), self.formats["text"])

    def close(self) -> None:
        self.workbook.close()


def _day(value: Any) -> dt.date:
    """A date column's value as a date (an ISO text is read)."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
