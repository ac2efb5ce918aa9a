"""``loanfund schedule``: loan terms as JSON in, the schedule out; bad input exits 2 with every
problem and no traceback. The command needs the app (for the fund currency) but no database.

The loan used throughout: 1,000,000 VND at 0 %, 3 monthly installments, disbursed 31 Jan 2024.
Due dates step from 31 January and clamp to the month end: 29 Feb 2024 (leap year; 29 days),
31 Mar (31 days), 30 Apr (30 days). Principal 1,000,000 ÷ 3 = 333,333.33… → 333,333 twice; the
last installment repays the rest, 1,000,000 − 666,666 = 333,334. No interest at 0 %.
Outstanding after each: 666,667, 333,334, 0.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from flask.testing import FlaskCliRunner

from tests.conftest import make_app

TERMS = {
    "principal": "1000000",
    "annual_rate_pct": "0",
    "installments": 3,
    "disbursed_on": "2024-01-31",
}


def runner_for(tmp_path: Path, **settings: Any) -> FlaskCliRunner:
    return make_app(tmp_path, **settings).test_cli_runner()


@pytest.fixture
def runner(tmp_path: Path) -> FlaskCliRunner:
    """The CLI of an app whose fund currency is VND (no database is created)."""
    return runner_for(tmp_path, FUND_CURRENCY="VND")


def run(runner: FlaskCliRunner, stdin: str, *args: str) -> Result:
    return runner.invoke(args=["schedule", *args], input=stdin)


def assert_refused(result: Result) -> str:
    """The command exited 2, printed nothing on stdout and no traceback; returns stderr."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert isinstance(result.exception, SystemExit)
    assert result.stdout == ""
    assert "Traceback" not in result.output
    assert result.stderr.startswith("Error: ")
    return result.stderr


def test_json_output_has_every_installment_and_the_totals_as_exact_strings(runner):
    """See the module docstring for the numbers; VND has no decimals, so none are printed."""
    result = run(runner, json.dumps(TERMS))

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "installments": [
            {
                "n": 1,
                "due_on": "2024-02-29",
                "days": 29,
                "principal": "333333",
                "interest": "0",
                "total": "333333",
                "outstanding": "666667",
            },
            {
                "n": 2,
                "due_on": "2024-03-31",
                "days": 31,
                "principal": "333333",
                "interest": "0",
                "total": "333333",
                "outstanding": "333334",
            },
            {
                "n": 3,
                "due_on": "2024-04-30",
                "days": 30,
                "principal": "333334",
                "interest": "0",
                "total": "333334",
                "outstanding": "0",
            },
        ],
        "totals": {"principal": "1000000", "interest": "0", "total": "1000000"},
    }


def test_currency_digits_default_to_the_fund_currency(tmp_path):
    """A USD fund: 2 digits. 1,000.00 ÷ 3 = 333.333… → 333.33, 333.33, last 1,000 − 666.66 =
    333.34; every amount is written with exactly two decimals ("0.00", "1000.00")."""
    result = run(
        runner_for(tmp_path, FUND_CURRENCY="USD"), json.dumps({**TERMS, "principal": "1000"})
    )

    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [row["principal"] for row in data["installments"]] == ["333.33", "333.33", "333.34"]
    assert [row["outstanding"] for row in data["installments"]] == ["666.67", "333.34", "0.00"]
    assert data["installments"][0]["interest"] == "0.00"
    assert data["totals"] == {"principal": "1000.00", "interest": "0.00", "total": "1000.00"}


def test_currency_digits_in_the_terms_win_over_the_fund_currency(runner):
    """A VND fund, but the terms ask for 2 digits: 1,000,000.00 ÷ 3 → 333,333.33 (twice) and
    1,000,000.00 − 666,666.66 = 333,333.34."""
    result = run(runner, json.dumps({**TERMS, "currency_digits": 2}))

    data = json.loads(result.stdout)
    assert [row["principal"] for row in data["installments"]] == [
        "333333.33",
        "333333.33",
        "333333.34",
    ]


def test_json_numbers_are_read_as_exact_decimals(runner):
    """12,000,000 at 6 %, 3 months from 15 Jan 2023, actual/365 (as in the golden tests):
    interest 12,000,000 × 6 % × 31/365 = 61,150.68… → 61,151; 8,000,000 × 6 % × 28/365 =
    36,821.91… → 36,822; 4,000,000 × 6 % × 31/365 = 20,383.56… → 20,384; total 118,357.
    The rate written as the JSON number 6.00 gives what the string "6" gives."""
    terms = '{"principal": 12000000, "annual_rate_pct": 6.00, "installments": 3,'
    terms += ' "disbursed_on": "2023-01-15"}'

    result = run(runner, terms)

    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [row["interest"] for row in data["installments"]] == ["61151", "36822", "20384"]
    assert data["totals"]["interest"] == "118357"


def test_table_has_right_justified_columns_and_a_totals_row(runner):
    result = run(runner, json.dumps(TERMS), "--format", "table")

    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "    #      Due on  Days  Principal  Interest      Total  Outstanding",
        "-----  ----------  ----  ---------  --------  ---------  -----------",
        "    1  2024-02-29    29    333,333         0    333,333      666,667",
        "    2  2024-03-31    31    333,333         0    333,333      333,334",
        "    3  2024-04-30    30    333,334         0    333,334            0",
        "-----  ----------  ----  ---------  --------  ---------  -----------",
        "Total                    1,000,000         0  1,000,000",
    ]


def test_csv_has_a_header_one_row_per_installment_and_a_totals_row(runner):
    result = run(runner, json.dumps(TERMS), "--format", "csv")

    assert result.exit_code == 0, result.stderr
    assert list(csv.reader(io.StringIO(result.stdout))) == [
        ["n", "due_on", "days", "principal", "interest", "total", "outstanding"],
        ["1", "2024-02-29", "29", "333333", "0", "333333", "666667"],
        ["2", "2024-03-31", "31", "333333", "0", "333333", "333334"],
        ["3", "2024-04-30", "30", "333334", "0", "333334", "0"],
        ["total", "", "", "1000000", "0", "1000000", ""],
    ]


def test_terms_are_read_from_a_file_as_from_stdin(runner, tmp_path):
    path = tmp_path / "terms.json"
    path.write_text(json.dumps(TERMS), encoding="utf-8")

    from_file = runner.invoke(args=["schedule", str(path), "--format", "csv"])
    from_stdin = run(runner, json.dumps(TERMS), "--format", "csv")

    assert from_file.exit_code == 0, from_file.stderr
    assert from_file.stdout == from_stdin.stdout
    assert from_file.stdout.startswith("n,due_on,days")


def test_bad_terms_exit_2_listing_every_problem_at_once(runner):
    bad = {
        "principal": "-5",
        "annual_rate_pct": "150",
        "installments": 0,
        "disbursed_on": "2024-02-30",
        "grace": 2,
    }

    stderr = assert_refused(run(runner, json.dumps(bad)))

    assert stderr.startswith("Error: The loan terms cannot make a schedule:\n")
    problems = [line for line in stderr.splitlines() if line.startswith("- ")]
    assert len(problems) == 5, stderr
    for words in (
        "The principal must be positive, not -5.",
        "The annual interest rate 150% must be between 0% and 100%.",
        "at least 1 installment, not 0",
        "The disbursement date “2024-02-30” is not a valid date",
        "“grace” is not a schedule term",
    ):
        assert words in stderr


@pytest.mark.parametrize(
    ("term", "number", "words"),
    [
        ("every", "1e999999999", "must be a whole number, not “1e999999999”"),
        ("principal_grace", "-1e999999999", "must be a whole number, not “-1e999999999”"),
        ("principal", "1e-999999999", "not a plain decimal number"),
        ("installments", "1" * 5000, "must be a whole number, not “111"),
        ("annual_rate_pct", "NaN", "is not a finite number"),
    ],
)
def test_numbers_no_term_can_hold_are_refused_without_a_traceback(runner, term, number, words):
    """Such numbers would overflow decimal arithmetic (or Python's int parsing limit)."""
    others = {key: value for key, value in TERMS.items() if key != term}
    text = json.dumps(others)[:-1] + f', "{term}": {number}}}'

    assert words in assert_refused(run(runner, text))


def test_a_missing_required_term_is_named(runner):
    stderr = assert_refused(run(runner, json.dumps({**TERMS, "disbursed_on": None})))

    assert "The disbursement date (disbursed_on) is required." in stderr


@pytest.mark.parametrize(
    ("stdin", "words"),
    [
        ('{"principal": "1000000",', "not valid JSON (Expecting"),
        ('{"principal": 1e}', "not valid JSON"),
        ("", "No loan terms in standard input: it is empty."),
        ("  \n", "No loan terms in standard input: it is empty."),
        ('["principal", "1000000"]', "must be a JSON object such as"),
        ('"1000000"', "not a string"),
        ("null", "not null"),
        ('{"principal": "1", "principal": "2"}', "give 'principal' more than once"),
        ("[" * 100_000, "nested too deeply"),
    ],
)
def test_input_that_is_not_a_json_object_exits_2_with_a_message(runner, stdin, words):
    stderr = assert_refused(run(runner, stdin))

    assert words in stderr


def test_invalid_json_says_where(runner):
    stderr = assert_refused(run(runner, '{\n  "principal": "1000000"\n  "installments": 3\n}'))

    assert "(Expecting ',' delimiter at line 3, column 3)" in stderr


def test_text_that_is_not_utf8_exits_2(runner):
    result = runner.invoke(args=["schedule"], input=b'{"principal": "\xff"}')

    assert "not UTF-8 text" in assert_refused(result)


def test_a_missing_file_exits_2(runner, tmp_path):
    result = runner.invoke(args=["schedule", str(tmp_path / "nowhere.json")])

    assert result.exit_code == 2
    assert "nowhere.json" in result.stderr
    assert "Traceback" not in result.output


def test_an_unknown_format_exits_2(runner):
    result = run(runner, json.dumps(TERMS), "--format", "xlsx")

    assert result.exit_code == 2
    assert "xlsx" in result.stderr
