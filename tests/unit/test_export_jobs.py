"""The rules of background exports that need no database: what may be asked for, how far a
job is, when a silent job counts as dead, who sees it, and how rows are counted for progress."""

import datetime as dt

import pytest

from loanfund.domain.access import Actor, Permission
from loanfund.domain.errors import NotPermitted, RuleViolation
from loanfund.domain.exports import (
    ExportKind,
    ExportList,
    ExportStatus,
    ListExport,
    check_export_params,
    download_name,
    export_permission,
    is_stale,
    list_query,
    list_scope,
    may_see_export,
    percent_done,
    shown_status,
)
from loanfund.domain.roles import Role
from loanfund.exports.progress import RowCounter, Steps

TODAY = dt.date(2026, 11, 23)


def test_a_period_is_stored_as_iso_dates_and_an_empty_ledger_date_means_today():
    assert check_export_params(
        "journal", {"from": " 2026-11-01 ", "to": "2026-11-30"}, today=TODAY
    ) == (ExportKind.JOURNAL, {"from": "2026-11-01", "to": "2026-11-30"})
    assert check_export_params("portfolio", {"as_of": ""}, today=TODAY) == (
        ExportKind.PORTFOLIO,
        {"as_of": "2026-11-23"},
    )


def test_every_problem_with_a_period_is_reported_at_once():
    with pytest.raises(RuleViolation) as refused:
        check_export_params("repayments", {"from": "soon", "to": ""}, today=TODAY)
    assert refused.value.problems == (
        "The first day of the period must be a date like 2026-11-01, not “soon”.",
        "Give the last day of the period.",
    )


def test_a_long_bad_date_is_shortened_in_the_message():
    with pytest.raises(RuleViolation) as refused:
        check_export_params("portfolio", {"as_of": "x" * 100}, today=TODAY)
    # 39 characters and an ellipsis: the message stays readable.
    assert refused.value.problems == (
        f"The ledger date must be a date like 2026-11-23, not “{'x' * 39}…”.",
    )


@pytest.mark.parametrize(
    ("status", "done", "total", "percent"),
    [
        (ExportStatus.QUEUED, 0, 0, 0),  # nothing counted yet
        (ExportStatus.RUNNING, 250, 1000, 25),  # 250 / 1000
        (ExportStatus.RUNNING, 999, 1000, 99),  # rounded down: 100 % only once done
        (ExportStatus.RUNNING, 1200, 1000, 100),  # the count was low: never past the end
        (ExportStatus.DONE, 0, 0, 100),  # an empty register is complete too
    ],
)
def test_how_far_a_job_is(status, done, total, percent):
    assert percent_done(status, done, total) == percent


def test_a_job_is_dead_after_thirty_minutes_without_a_sign_of_life():
    last = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)
    thirty = last + dt.timedelta(minutes=30)
    assert not is_stale(ExportStatus.RUNNING, last, thirty)  # exactly 30 minutes: alive
    assert is_stale(ExportStatus.RUNNING, last, thirty + dt.timedelta(seconds=1))
    assert is_stale(ExportStatus.QUEUED, last, thirty + dt.timedelta(seconds=1))
    assert shown_status(ExportStatus.RUNNING, last, thirty + dt.timedelta(seconds=1)) == "failed"
    # A finished job stays as it ended, however old.
    assert shown_status(ExportStatus.DONE, last, last + dt.timedelta(days=30)) == "done"


def test_only_the_person_who_asked_and_administrators_see_an_export():
    def actor(user_id, *roles):
        return Actor(user_id=user_id, label=f"u{user_id}", roles=frozenset(roles))

    assert may_see_export(actor(7, Role.APPROVER), 7)
    assert not may_see_export(actor(8, Role.APPROVER, Role.AUDITOR), 7)
    assert may_see_export(actor(9, Role.ADMIN), 7)
    assert not may_see_export(actor(None, Role.AUDITOR), None)


def test_download_names_say_what_and_when():
    assert download_name(ExportKind.PORTFOLIO, {"as_of": "2026-11-23"}) == (
        "portfolio-2026-11-23.xlsx"
    )
    assert download_name(ExportKind.INSPECTIONS, {"from": "2026-01-01", "to": "2026-06-30"}) == (
        "inspections-2026-01-01-2026-06-30.xlsx"
    )


def test_rows_are_reported_every_few_rows_and_once_more_at_the_end():
    heard: list[int] = []
    counter = RowCounter(heard.append, every=2)
    seen = []
    for row in counter.rows(["a", "b", "c"]):
        seen.append(row)
    for row in counter.rows(["d", "e"]):  # a second sheet of the same workbook
        seen.append(row)
    assert counter.finish() == 5
    # Rows 2 and 4 are reports of the running count; 5 is the end.
    assert seen == ["a", "b", "c", "d", "e"] and heard == [2, 4, 5]


def test_a_row_is_counted_only_once_it_has_been_taken_and_written():
    heard: list[int] = []
    counter = RowCounter(heard.append, every=1)
    rows = counter.rows(["a", "b"])
    assert next(rows) == "a" and heard == []  # being written: not counted yet
    assert next(rows) == "b" and heard == [1]


def test_a_list_export_stores_its_query_its_tab_its_day_and_the_words_on_top():
    query = list_query({"q": "đan điền", "sort": "amount", "dir": "desc", "district": "Phong Điền"})
    export, stored = check_export_params(
        "list",
        {
            "list": "applications",
            "tab": "mine",
            "query": query,
            "title": "Loan applications: Assigned to me",
            "description": "23 Nov 2026 · Search: “đan điền”",
            "cooperative_id": "7",  # not taken from the request: the scope is who asks
        },
        today=TODAY,
    )
    assert export is ExportKind.LIST and "cooperative_id" not in stored
    read = ListExport.from_params({**stored, "user_id": "12"})
    assert read.name is ExportList.APPLICATIONS and read.tab == "mine" and read.user_id == 12
    assert read.today == TODAY and read.cooperative_id is None
    # The query string comes back as the page read it.
    assert read.args == {"q": "đan điền", "sort": "amount", "dir": "desc", "district": "Phong Điền"}
    assert read.title == "Loan applications: Assigned to me"
    assert download_name(ExportKind.LIST, stored) == "applications-mine-2026-11-23.xlsx"


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ({"list": "payroll"}, "There is no list called “payroll”."),
        (
            {"list": "applications", "tab": "someone"},
            "There is no list called “applications: someone”.",
        ),
        ({"list": "applications"}, "There is no list called “applications: ”."),
        ({"list": "loans", "tab": "due"}, "There is no list called “loans: due”."),
    ],
)
def test_a_list_or_a_tab_that_does_not_exist_is_refused(given, problem):
    with pytest.raises(RuleViolation) as refused:
        check_export_params("list", given, today=TODAY)
    assert refused.value.problems == (problem,)


def test_a_list_is_exported_with_the_permission_of_its_page():
    assert export_permission("list", {"list": "cooperatives"}) is Permission.LIST_COOPERATIVES
    assert export_permission("list", {"list": "applications"}) is Permission.LIST_APPLICATIONS
    assert export_permission("list", {"list": "loans"}) is Permission.VIEW_LOAN
    assert export_permission("list", {"list": "receipts"}) is Permission.VIEW_LOAN
    assert export_permission("list", {"list": "inspections"}) is Permission.VIEW_INSPECTIONS
    assert export_permission("journal", {}) is Permission.VIEW_BOOKS
    with pytest.raises(RuleViolation):
        export_permission("list", {"list": "users"})


def test_a_lists_scope_is_taken_from_who_asks():
    def actor(user_id, *roles, cooperative_id=None):
        return Actor(user_id, f"u{user_id}", frozenset(roles), cooperative_id)

    representative = actor(3, Role.APPLICANT, cooperative_id=41)
    assert list_scope(representative, ExportList.LOANS) == {"cooperative_id": "41"}
    assert list_scope(representative, ExportList.RECEIPTS) == {"cooperative_id": "41"}
    assert list_scope(actor(4, Role.OFFICER), ExportList.LOANS) == {"cooperative_id": ""}
    assert list_scope(actor(4, Role.OFFICER), ExportList.APPLICATIONS) == {"user_id": "4"}
    # An inspector who does not plan visits exports theirs; one who plans, every visit.
    assert list_scope(actor(5, Role.INSPECTOR), ExportList.INSPECTIONS) == {"inspector_id": "5"}
    planner = actor(6, Role.INSPECTOR, Role.OFFICER)
    assert list_scope(planner, ExportList.INSPECTIONS) == {"inspector_id": ""}
    assert list_scope(actor(4, Role.OFFICER), ExportList.COOPERATIVES) == {}
    # Neither staff nor a cooperative's: a list limited to no cooperative would hold them all.
    with pytest.raises(NotPermitted):
        list_scope(actor(7, Role.APPLICANT), ExportList.LOANS)


def test_steps_are_counted_across_the_functions_that_do_them():
    heard: list[int] = []
    steps = Steps(heard.append)
    for _figures in range(3):
        steps.step()
    steps.step()
    assert heard == [1, 2, 3, 4] and steps.done == 4
    Steps(None).step()  # nobody listening: nothing to report
