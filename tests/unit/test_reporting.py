"""The lending report's pure parts: reporting periods, the bad-debt ratio, the sections'
lines, money in and out by month, visits by kind and the cooperatives financed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from loanfund.domain.errors import RuleViolation
from loanfund.domain.reporting import (
    ReportLoan,
    ReportPeriod,
    Visit,
    breakdown,
    build_report,
    financed_cooperatives,
    latest_ended,
    monthly_flows,
    recent_periods,
    share_pct,
    visits_by_kind,
)

M = Decimal(1_000_000)  # a million đồng


def _loan(loan_id, group, outstanding, **changes):
    values = {
        "loan_id": loan_id,
        "cooperative_id": loan_id,
        "legal_type": "cooperative",
        "sector": "Chế biến nông sản",
        "priority": "none",
        "debt_group": group,
        "days_past_due": 0,
        "outstanding": outstanding,
        "specific_provision": Decimal(0),
        "general_provision": Decimal(0),
        "jobs_created": 0,
    }
    return ReportLoan(**{**values, **changes})


def _report(loans, **changes):
    profiles = {
        loan.cooperative_id: {
            "name": f"HTX {loan.cooperative_id}",
            "members": 10,
            "women_members": 4,
            "ethnic_minority_members": 1,
        }
        for loan in loans
    }
    arguments = {
        "loans": loans,
        "flows": [],
        "visits": [],
        "profiles": profiles,
        "legal_types": ["cooperative", "cooperative_union", "group_member"],
        "priorities": ["none", "women"],
        **changes,
    }
    return build_report(ReportPeriod(2025, 1), dt.date(2025, 6, 30), **arguments)


# --- periods -----------------------------------------------------------------------------------


def test_a_first_half_year_runs_from_january_to_june():
    period = ReportPeriod.parse("2025-H1")
    assert (period.start, period.end) == (dt.date(2025, 1, 1), dt.date(2025, 6, 30))
    assert period.label == "First half of 2025" and period.code == "2025-H1"


def test_a_second_half_year_runs_from_july_to_december_and_a_small_h_is_read_the_same():
    period = ReportPeriod.parse(" 2025-h2 ")
    assert (period.start, period.end) == (dt.date(2025, 7, 1), dt.date(2025, 12, 31))
    assert period.label == "Second half of 2025" and period.code == "2025-H2"


def test_a_year_runs_from_the_first_of_january_to_the_last_of_december():
    period = ReportPeriod.parse("2025")
    assert (period.start, period.end) == (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    assert period.label == "Year 2025" and period.code == "2025"


@pytest.mark.parametrize(
    "text", ["2025-H3", "2025-H0", "25", "2025-13", "2025-06", "H1-2025", "2025-", "", "1025"]
)
def test_anything_else_is_refused_with_the_forms_that_are_understood(text):
    with pytest.raises(RuleViolation) as refused:
        ReportPeriod.parse(text)
    message = str(refused.value)
    assert f"“{text}” is not a reporting period" in message
    assert "2025-H1" in message and "2025-H2" in message and "a year, such as 2025" in message


def test_a_period_that_has_ended_is_reported_as_of_its_last_day():
    assert ReportPeriod(2025, 1).as_of(dt.date(2026, 11, 23)) == dt.date(2025, 6, 30)


def test_a_period_still_running_is_reported_as_of_today():
    assert ReportPeriod(2026, 2).as_of(dt.date(2026, 11, 23)) == dt.date(2026, 11, 23)
    assert ReportPeriod(2026).as_of(dt.date(2026, 1, 1)) == dt.date(2026, 1, 1)


def test_a_period_that_has_not_started_is_refused_with_its_first_day():
    with pytest.raises(RuleViolation) as refused:
        ReportPeriod(2027, 1).as_of(dt.date(2026, 11, 23))
    assert str(refused.value) == (
        "First half of 2027 has not started yet: it begins on 2027-01-01 and today is 2026-11-23."
    )


def test_the_periods_offered_are_the_started_halves_and_the_years_newest_first():
    # In November 2026 the second half of 2026 has started; in March only the first.
    november = recent_periods(dt.date(2026, 11, 23))
    assert [p.code for p in november] == [
        "2026-H2",
        "2026-H1",
        "2026",
        "2025-H2",
        "2025-H1",
        "2025",
        "2024-H2",
        "2024-H1",
        "2024",
    ]
    march = recent_periods(dt.date(2026, 3, 10), years=2)
    assert [p.code for p in march] == ["2026-H1", "2026", "2025-H2", "2025-H1", "2025"]


def test_the_period_chosen_first_is_the_last_that_has_ended():
    day = dt.date(2026, 11, 23)
    assert latest_ended(recent_periods(day), day) == ReportPeriod(2026, 1)
    # On 30 June the first half has not ended yet (that day still belongs to it).
    day = dt.date(2026, 6, 30)
    assert latest_ended(recent_periods(day), day) == ReportPeriod(2025, 2)
    day = dt.date(2026, 7, 1)
    assert latest_ended(recent_periods(day), day) == ReportPeriod(2026, 1)


# --- the bad-debt ratio ------------------------------------------------------------------------


def test_the_bad_debt_ratio_is_groups_3_to_5_over_all_that_is_outstanding():
    # G1 600 m, G3 300 m, G5 100 m: bad debt 300 + 100 = 400 m of 1,000 m = 40 %.
    report = _report([_loan(1, 1, 600 * M), _loan(2, 3, 300 * M), _loan(3, 5, 100 * M)])
    assert report.summary["bad_debt"] == 400 * M
    assert report.summary["bad_debt_pct"] == Decimal("40.00")
    assert report.summary["outstanding"] == 1000 * M and report.summary["loans"] == 3


def test_the_bad_debt_ratio_is_rounded_half_up_to_two_decimals():
    # G1 100 m, G4 200 m: 200 / 300 = 66.666… % → 66.67.
    report = _report([_loan(1, 1, 100 * M), _loan(2, 4, 200 * M)])
    assert report.summary["bad_debt_pct"] == Decimal("66.67")
    # G2 is not bad debt: G2 100 m, G3 100 m, G1 200 m → 100 / 400 = 25 %.
    report = _report([_loan(1, 2, 100 * M), _loan(2, 3, 100 * M), _loan(3, 1, 200 * M)])
    assert report.summary["bad_debt_pct"] == Decimal("25.00")
    report = _report([_loan(1, 1, 200 * M), _loan(2, 4, 100 * M)])
    # 100 / 300 = 33.333… % → 33.33
    assert report.summary["bad_debt_pct"] == Decimal("33.33")


def test_without_bad_debt_or_without_a_portfolio_the_ratio_is_zero():
    assert _report([_loan(1, 2, 500 * M)]).summary["bad_debt_pct"] == Decimal(0)
    assert _report([]).summary["bad_debt_pct"] == Decimal(0)


def test_a_share_of_nothing_is_zero():
    assert share_pct(Decimal(5), Decimal(0)) == Decimal("0.00")
    assert share_pct(1, 3) == Decimal("33.33") and share_pct(2, 3) == Decimal("66.67")


# --- sections ----------------------------------------------------------------------------------


def test_every_debt_group_has_a_line_with_its_loans_outstanding_share_and_provisions():
    loans = [
        # 600 m in G1 with no specific provision and 0.5 % general = 3 m;
        _loan(1, 1, 600 * M, general_provision=3 * M),
        # 300 m in G3: 25 % specific = 75 m, 0.5 % general = 1.5 m;
        _loan(2, 3, 300 * M, specific_provision=75 * M, general_provision=Decimal(1_500_000)),
        # 100 m in G5: 100 % specific, no general provision.
        _loan(3, 5, 100 * M, specific_provision=100 * M),
    ]
    lines = _report(loans).by_group
    assert [line["key"] for line in lines] == [1, 2, 3, 4, 5]
    assert [line["loans"] for line in lines] == [1, 0, 1, 0, 1]
    assert [line["share_pct"] for line in lines] == [
        Decimal("60.00"),
        Decimal("0.00"),
        Decimal("30.00"),
        Decimal("0.00"),
        Decimal("10.00"),
    ]
    assert [line["specific_provision"] for line in lines] == [0, 0, 75 * M, 0, 100 * M]
    summary = _report(loans).summary
    # 75 + 100 = 175 m specific; 3 + 1.5 = 4.5 m general; 179.5 m in all.
    assert summary["specific_provision"] == 175 * M
    assert summary["general_provision"] == Decimal(4_500_000)
    assert summary["provisions"] == Decimal(179_500_000)


def test_listed_lines_come_first_and_the_others_follow_largest_first():
    loans = [
        _loan(1, 1, 100 * M, sector="May mặc"),
        _loan(2, 1, 250 * M, sector="Dệt thổ cẩm"),
        _loan(3, 1, 150 * M, sector="May mặc"),
    ]
    lines = breakdown(loans, lambda loan: loan.sector, listed=["Trồng bưởi"])
    # Listed with nothing; then May mặc 100 + 150 = 250 m (2 loans) and Dệt thổ cẩm 250 m
    # tie on amount and go by name; each 250 of 500 m = 50 %.
    assert [(line["key"], line["loans"], line["outstanding"]) for line in lines] == [
        ("Trồng bưởi", 0, 0),
        ("Dệt thổ cẩm", 1, 250 * M),
        ("May mặc", 2, 250 * M),
    ]
    assert [line["share_pct"] for line in lines] == [0, Decimal("50.00"), Decimal("50.00")]


def test_borrower_types_and_priorities_list_every_category():
    report = _report([_loan(1, 1, 100 * M, priority="women", legal_type="group_member")])
    assert [(line["key"], line["loans"]) for line in report.by_legal_type] == [
        ("cooperative", 0),
        ("cooperative_union", 0),
        ("group_member", 1),
    ]
    assert [(line["key"], line["loans"]) for line in report.by_priority] == [
        ("none", 0),
        ("women", 1),
    ]


def test_money_in_and_out_is_split_by_month_and_the_last_month_ends_on_the_as_of_date():
    flows = monthly_flows(
        dt.date(2026, 7, 1),
        dt.date(2026, 9, 15),
        [(dt.date(2026, 7, 10), 300 * M), (dt.date(2026, 9, 15), 100 * M)],
        [
            (dt.date(2026, 8, 23), 50 * M, Decimal(1_331_507), Decimal(0)),
            (dt.date(2026, 8, 31), Decimal(0), Decimal(100_000), Decimal(2_500)),
        ],
    )
    assert [(f["month"], f["date_from"], f["date_to"]) for f in flows] == [
        ("07/2026", dt.date(2026, 7, 1), dt.date(2026, 7, 31)),
        ("08/2026", dt.date(2026, 8, 1), dt.date(2026, 8, 31)),
        ("09/2026", dt.date(2026, 9, 1), dt.date(2026, 9, 15)),
    ]
    assert [f["disbursed"] for f in flows] == [300 * M, 0, 100 * M]
    # August: principal 50 m; interest 1,331,507 + 100,000 = 1,431,507; penalty 2,500;
    # collected 50,000,000 + 1,431,507 + 2,500 = 51,434,007.
    august = flows[1]
    assert (august["principal"], august["interest"], august["penalty"]) == (
        50 * M,
        Decimal(1_431_507),
        Decimal(2_500),
    )
    assert august["collected"] == Decimal(51_434_007)


def test_visits_count_on_time_up_to_their_due_date_and_verified_purpose_only_when_fully_used():
    due = dt.date(2026, 3, 31)
    visits = [
        Visit("periodic", due, due, "fully", "compliant", 200 * M),  # on the due date: on time
        Visit("periodic", due, dt.date(2026, 4, 1), "partly", "concerns", 100 * M),  # a day late
        Visit("periodic", due, dt.date(2026, 3, 2), "fully", "compliant", 300 * M),
        Visit("first", due, dt.date(2026, 3, 20), "not", "misuse", Decimal(0)),
    ]
    lines = {line["kind"]: line for line in visits_by_kind(visits)}
    periodic = lines["periodic"]
    assert (periodic["done"], periodic["on_time"], periodic["verified_purpose"]) == (3, 2, 2)
    # 2 of 3 = 66.666… % → 66.67.
    assert periodic["on_time_pct"] == periodic["verified_purpose_pct"] == Decimal("66.67")
    assert (periodic["compliant"], periodic["concerns"], periodic["misuse"]) == (2, 1, 0)
    assert periodic["amount_verified"] == 600 * M
    assert lines["first"]["misuse"] == 1 and lines["first"]["verified_purpose_pct"] == 0
    assert lines["ad_hoc"]["done"] == 0 and lines["ad_hoc"]["on_time_pct"] == 0
    summary = _report([], visits=visits).summary
    # Of the 4 visits: 3 on time (75 %), 2 fully used for their purpose (50 %).
    assert (summary["inspections"], summary["on_time"], summary["verified_purpose"]) == (4, 3, 2)
    assert summary["on_time_pct"] == Decimal("75.00")
    assert summary["verified_purpose_pct"] == Decimal("50.00")


def test_a_cooperative_with_two_loans_is_counted_once_and_its_projects_jobs_are_added():
    loans = [
        _loan(1, 1, 100 * M, cooperative_id=7, jobs_created=5),
        _loan(2, 1, 200 * M, cooperative_id=7, jobs_created=3),
        _loan(3, 1, 50 * M, cooperative_id=8, jobs_created=2),
    ]
    profiles = {
        7: {"name": "HTX Bảo La", "members": 45, "women_members": 20, "ethnic_minority_members": 0},
        8: {
            "name": "HTX A Lưới",
            "members": 30,
            "women_members": 25,
            "ethnic_minority_members": 17,
        },
    }
    lines = financed_cooperatives(loans, profiles)
    assert [(line["name"], line["loans"], line["outstanding"]) for line in lines] == [
        ("HTX A Lưới", 1, 50 * M),
        ("HTX Bảo La", 2, 300 * M),
    ]
    summary = _report(loans, profiles=profiles).summary
    # Members 45 + 30 = 75 (not 45 twice); women 20 + 25 = 45; ethnic minority 0 + 17 = 17;
    # jobs 5 + 3 + 2 = 10.
    assert summary["cooperatives"] == 2
    assert (summary["members"], summary["women_members"]) == (75, 45)
    assert (summary["ethnic_minority_members"], summary["jobs_created"]) == (17, 10)
