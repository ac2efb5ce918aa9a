"""The schedule workbook, read back with openpyxl: numbers are numbers, dates are dates, totals
are values, text is never a formula.

The loan used: 1,000,000 VND at 0 %, 3 monthly installments, disbursed 31 Jan 2024. Due dates
clamp to the month end: 29 Feb 2024 (29 days), 31 Mar (31), 30 Apr (30). Principal 1,000,000 ÷ 3
= 333,333.33… → 333,333 twice and the last 1,000,000 − 666,666 = 333,334; no interest.
Outstanding after each: 666,667, 333,334, 0.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from loanfund.domain.schedule import TERM_FIELDS, build_schedule, parse_terms
from loanfund.exports.schedule_xlsx import COLUMNS, default_labels, schedule_workbook

TERMS = {
    "principal": "1000000",
    "annual_rate_pct": "0",
    "installments": 3,
    "disbursed_on": "2024-01-31",
}


def workbook_bytes(
    digits: int = 0,
    currency: str = "VND",
    terms: dict[str, object] | None = None,
    labels: dict[str, str] | None = None,
) -> bytes:
    """The workbook of TERMS with ``terms`` changed, for a currency of ``digits`` decimals."""
    parsed = parse_terms({**TERMS, **(terms or {})}, default_currency_digits=digits)
    return schedule_workbook(
        parsed, build_schedule(parsed), currency=currency, digits=digits, labels=labels
    )


def sheet_of(data: bytes) -> Worksheet:
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert len(book.worksheets) == 1
    return book.worksheets[0]


def values(sheet: Worksheet, cells: str) -> list[list[object]]:
    return [[cell.value for cell in row] for row in sheet[cells]]


def terms_block(sheet: Worksheet) -> dict[str, object]:
    """The label → value rows beside the table (columns I and J, under the heading)."""
    return {
        row[0].value: row[1].value
        for row in sheet.iter_rows(min_row=2, min_col=9, max_col=10)
        if row[0].value is not None
    }


def test_schedule_rows_are_numbers_and_dates():
    sheet = sheet_of(workbook_bytes())

    assert values(sheet, "A1:G1") == [
        ["No.", "Due date", "Days", "Principal", "Interest", "Total due", "Outstanding principal"]
    ]
    assert values(sheet, "A2:G4") == [
        [1, dt.datetime(2024, 2, 29), 29, 333333, 0, 333333, 666667],
        [2, dt.datetime(2024, 3, 31), 31, 333333, 0, 333333, 333334],
        [3, dt.datetime(2024, 4, 30), 30, 333334, 0, 333334, 0],
    ]
    for row in sheet["A2:G4"]:
        assert [cell.data_type for cell in row] == ["n", "d", "n", "n", "n", "n", "n"]
        assert row[1].is_date and row[1].number_format == "yyyy-mm-dd"
        assert {cell.number_format for cell in row[3:]} == {"#,##0"}


def test_totals_row_holds_values_not_formulas():
    """Σ principal 1,000,000, Σ interest 0, Σ total 1,000,000, in the row after the last."""
    sheet = sheet_of(workbook_bytes())

    assert values(sheet, "A5:G5") == [["Total", None, None, 1000000, 0, 1000000, None]]
    assert [cell.data_type for cell in sheet["D5:F5"][0]] == ["n", "n", "n"]
    assert sheet["D5"].font.b and sheet["D5"].number_format == "#,##0"
    assert values(sheet, "A6:G6") == [[None] * 7]


def test_header_is_frozen_and_the_installments_are_filtered_without_the_totals():
    sheet = sheet_of(workbook_bytes())

    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:G4"
    assert sheet.column_dimensions["G"].width >= len("Outstanding principal")
    assert sheet.column_dimensions["I"].width >= len("Interval between installments")


def test_two_digit_currency_shows_two_decimals():
    """USD: 1,000.00 ÷ 3 → 333.33, 333.33, 333.34."""
    sheet = sheet_of(workbook_bytes(digits=2, currency="USD", terms={"principal": "1000"}))

    assert values(sheet, "D2:D5") == [[333.33], [333.33], [333.34], [1000]]
    assert sheet["D2"].number_format == "#,##0.00"
    assert sheet["F5"].number_format == "#,##0.00"


def test_amounts_are_written_as_exact_decimal_text_not_floats():
    """9,007,199,254,740,993 = 2⁵³ + 1 is the first whole number a float cannot hold: through a
    float it would be written ...992. A one-installment bullet loan at 0 % repays it whole."""
    data = workbook_bytes(terms={"principal": "9007199254740993", "installments": 1})

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<v>9007199254740993</v>" in xml
    assert "9007199254740992" not in xml


def test_terms_are_listed_with_their_values_in_cells_of_their_kind():
    """6.5 % is the fraction 0.065 with a percent format; the amounts use the money format."""
    terms = {
        "annual_rate_pct": "6.5",
        "method": "annuity",
        "first_due_on": "2024-02-15",
        "installment_multiple": "1000",
    }
    sheet = sheet_of(workbook_bytes(terms=terms))

    assert sheet["I1"].value == "Loan terms"
    block = terms_block(sheet)
    assert list(block) == ["Currency"] + [default_labels()[f"term.{name}"] for name in TERM_FIELDS]
    assert block["Currency"] == "VND"
    assert block["Amount"] == 1000000
    assert block["Annual interest rate (%)"] == pytest.approx(0.065)
    assert block["Number of installments"] == 3
    assert block["Disbursement date"] == dt.datetime(2024, 1, 31)
    assert block["First due date"] == dt.datetime(2024, 2, 15)
    assert block["Repayment method"] == "Equal installments (annuity)"
    assert block["Days in a year"] == "365 days"
    assert block["Round installments to a multiple of"] == 1000
    assert block["Currency decimals"] == 0
    by_label = {row[0].value: row[1] for row in sheet.iter_rows(min_col=9, max_col=10)}
    assert by_label["Annual interest rate (%)"].number_format.endswith("%")
    assert by_label["Disbursement date"].is_date
    assert by_label["Amount"].number_format == "#,##0"


def test_absent_optional_terms_are_blank():
    block = terms_block(sheet_of(workbook_bytes()))

    assert block["First due date"] is None
    assert block["Round installments to a multiple of"] is None


def test_labels_from_the_caller_replace_the_defaults():
    labels = {"sheet": "Lịch trả nợ", "n": "Kỳ", "totals": "Cộng", "term.principal": "Số tiền vay"}
    book = openpyxl.load_workbook(io.BytesIO(workbook_bytes(labels=labels)))
    sheet = book.worksheets[0]

    assert book.sheetnames == ["Lịch trả nợ"]
    assert sheet["A1"].value == "Kỳ"
    assert sheet["A5"].value == "Cộng"
    assert terms_block(sheet)["Số tiền vay"] == 1000000
    assert sheet["B1"].value == "Due date"  # the labels not given keep their defaults


def test_text_starting_with_an_equals_sign_stays_text():
    labels = {
        "n": "=1+2",
        "totals": '=HYPERLINK("http://evil.example","x")',
        "term.method": "@SUM(1)",
    }
    data = workbook_bytes(labels=labels)
    sheet = sheet_of(data)

    assert (sheet["A1"].value, sheet["A1"].data_type) == ("=1+2", "s")
    assert sheet["A5"].value == '=HYPERLINK("http://evil.example","x")'
    assert sheet["A5"].data_type == "s"
    assert "@SUM(1)" in terms_block(sheet)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()


def test_a_sheet_name_excel_refuses_is_made_acceptable():
    labels = {"sheet": "Lịch trả nợ [HTX Đan Điền] 2024/01: bản in dài hơn 31 ký tự"}
    book = openpyxl.load_workbook(io.BytesIO(workbook_bytes(labels=labels)))

    (name,) = book.sheetnames
    assert len(name) <= 31
    assert not set(name) & set("[]:*?/\\")
    assert name.startswith("Lịch trả nợ")


def test_an_unknown_label_key_is_refused():
    with pytest.raises(ValueError, match=r"term\.principle"):
        workbook_bytes(labels={"term.principle": "Principal"})


def test_default_labels_cover_every_column_and_term():
    labels = default_labels()

    assert set(COLUMNS) <= set(labels)
    assert {f"term.{name}" for name in TERM_FIELDS} <= set(labels)
    assert all(label and label[0].isupper() for label in labels.values())
