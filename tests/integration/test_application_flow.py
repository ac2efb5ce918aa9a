"""An application from draft to decision through the services: rules, four-eyes, audit."""

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import select

from loanfund.domain.access import SYSTEM
from loanfund.domain.applications import ApplicationStatus
from loanfund.domain.appraisal_checklist import AppraisalArea, FindingResult
from loanfund.domain.errors import InvalidTransition, NotPermitted, RuleViolation
from loanfund.domain.roles import Role
from loanfund.models import AuditEvent, LoanApplication, Notification, OutboxMessage
from loanfund.queries.applications import appraisal_of
from loanfund.services import applications as service
from loanfund.services.accounts import actor_for
from loanfund.services.appraisals import (
    AppraisalInput,
    complete_appraisal,
    decide_application,
    save_appraisal,
)
from loanfund.services.products import create_product
from loanfund.services.settings import update_fund_settings
from tests.application_data import draft_application
from tests.conftest import TODAY
from tests.integration.conftest import appraised, submitted
from tests.unit.test_products import EQUIPMENT

D = Decimal


def test_submission_reports_every_missing_thing_at_once_and_changes_nothing(session, world):
    # No dossier, own equity 50 m of a 500 m project (10 %), and 1.2 bn asked of a product
    # lending at most 1 bn: three rules broken, and six documents missing.
    application = draft_application(
        session,
        world["rep"],
        world["product"],
        None,
        own_equity=D(50_000_000),
        amount=D(400_000_000),
    )
    with pytest.raises(RuleViolation) as caught:
        service.submit_application(
            session, actor=world["rep"], application_id=application.id, today=TODAY
        )
    problems = caught.value.problems
    assert any("Own equity is 10 % of the project cost" in p and "20 %" in p for p in problems)
    assert sum("Missing document" in p for p in problems) == 7  # six + collateral papers
    session.expire_all()
    assert session.get(LoanApplication, application.id).status is ApplicationStatus.DRAFT


def test_a_complete_application_is_submitted_audited_and_officers_are_told(session, world):
    application = submitted(session, world)
    assert application.status is ApplicationStatus.SUBMITTED
    assert application.submitted_on == application.complete_on == TODAY
    notices = session.scalars(select(Notification)).all()
    assert [n.user_id for n in notices] == [world["officer"].user_id]
    assert notices[0].params["number"] == application.number
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.entity == "loan_application")
    ).all()
    assert actions == ["application.create", "application.submit"]


def test_information_requested_stops_the_clock_and_the_answer_restarts_it(session, world):
    application = submitted(session, world)
    service.start_appraisal(session, actor=world["officer"], application_id=application.id)
    service.request_information(
        session,
        actor=world["officer"],
        application_id=application.id,
        body="Send the machine's quotation.",
    )
    assert application.status is ApplicationStatus.INFO_REQUESTED
    assert application.complete_on is None
    assert session.scalar(select(OutboxMessage.id)) is None  # no email renderer given
    service.answer_information_request(
        session,
        actor=world["rep"],
        application_id=application.id,
        body="Quotation uploaded.",
        today=TODAY,
    )
    assert application.status is ApplicationStatus.IN_APPRAISAL and application.complete_on == TODAY


def test_the_appraisal_cannot_be_completed_half_done(session, world):
    application = submitted(session, world)
    service.start_appraisal(session, actor=world["officer"], application_id=application.id)
    with pytest.raises(RuleViolation) as caught:
        complete_appraisal(
            session, actor=world["officer"], application_id=application.id, today=TODAY
        )
    # Six areas not judged, no credit check, no recommendation.
    assert len(caught.value.problems) == 8


def test_the_appraisal_freezes_its_figures_for_the_approver(session, world):
    application = appraised(session, world)
    assert application.status is ApplicationStatus.APPRAISED
    assert application.appraiser_id == world["officer"].user_id
    appraisal = appraisal_of(session, application.id)
    # 300 m at 5.4 %, equity 200 m of 500 m = 40 %.
    assert appraisal.analysis["equity_ratio_pct"] == "40.00"
    assert appraisal.analysis["amount"] == "300000000"
    assert appraisal.risk_grade in {"A", "B", "C", "D", "E"}


def test_the_appraiser_cannot_approve_even_when_also_an_approver(session, world, factory):
    both = actor_for(factory.user(Role.OFFICER, Role.APPROVER))
    world["officer"] = both
    application = appraised(session, world)
    with pytest.raises(NotPermitted, match="four-eyes"):
        decide_application(
            session, actor=both, application_id=application.id, verdict="approve", today=TODAY
        )
    assert application.status is ApplicationStatus.APPRAISED


def test_one_approver_approves_below_the_credit_council_amount(session, world):
    application = appraised(session, world)
    decide_application(
        session,
        actor=world["approver"],
        application_id=application.id,
        verdict="approve",
        today=TODAY,
        conditions="Insure the machine.",
    )
    assert application.status is ApplicationStatus.APPROVED
    assert application.approved_amount == D(300_000_000) and application.decided_on == TODAY
    assert application.approved_conditions == "Insure the machine."


def test_above_the_council_amount_two_different_approvers_must_approve(session, world):
    update_fund_settings(
        session,
        actor=world["approver"].__class__(None, "system", frozenset({Role.ADMIN})),
        fund_name="Test Fund",
        timezone="Asia/Ho_Chi_Minh",
        policy_values={"credit_council_amount": "200000000"},
        currency_digits=0,
    )
    application = appraised(session, world)  # 300 m > 200 m
    decide_application(
        session,
        actor=world["approver"],
        application_id=application.id,
        verdict="approve",
        today=TODAY,
    )
    assert application.status is ApplicationStatus.APPRAISED  # one of two
    with pytest.raises(NotPermitted, match="second, different approver"):
        decide_application(
            session,
            actor=world["approver"],
            application_id=application.id,
            verdict="approve",
            today=TODAY,
        )
    decide_application(
        session,
        actor=world["approver2"],
        application_id=application.id,
        verdict="approve",
        today=TODAY,
    )
    assert application.status is ApplicationStatus.APPROVED


def test_a_rejection_needs_a_reason_and_closes_the_application(session, world):
    application = appraised(session, world, recommendation="reject")
    with pytest.raises(RuleViolation, match="reason"):
        decide_application(
            session,
            actor=world["approver"],
            application_id=application.id,
            verdict="reject",
            today=TODAY,
        )
    decide_application(
        session,
        actor=world["approver"],
        application_id=application.id,
        verdict="reject",
        reason="The market study is too thin.",
        today=TODAY,
    )
    assert application.status is ApplicationStatus.REJECTED
    with pytest.raises(InvalidTransition, match="withdraw"):
        service.withdraw_application(
            session, actor=world["rep"], application_id=application.id, reason=""
        )


def test_approval_rechecks_the_single_borrower_limit_with_fresh_figures(session, world):
    # 15 % of 25 bn = 3.75 bn. Two applications of one cooperative are appraised while it owes
    # nothing: 1 bn and 3 bn, each within the limit alone. The 1 bn one is approved (by two
    # approvers: it is above the 500 m council amount); then approving the 3 bn one would make
    # 1 + 3 = 4 bn > 3.75 bn, and is refused with the figures.
    big = create_product(
        session, actor=SYSTEM, terms=replace(EQUIPMENT, code="BIG-1", max_amount=D(5 * 10**9))
    )
    world["product"] = big
    first = appraised(
        session, world, amount=D(10**9), project_cost=D(2 * 10**9), own_equity=D(10**9)
    )
    second = appraised(
        session, world, amount=D(3 * 10**9), project_cost=D(6 * 10**9), own_equity=D(3 * 10**9)
    )
    for approver in ("approver", "approver2"):
        decide_application(
            session, actor=world[approver], application_id=first.id, verdict="approve", today=TODAY
        )
    assert first.status is ApplicationStatus.APPROVED
    with pytest.raises(RuleViolation) as caught:
        decide_application(
            session,
            actor=world["approver"],
            application_id=second.id,
            verdict="approve",
            today=TODAY,
        )
    assert any("4,000,000,000" in p and "3,750,000,000" in p for p in caught.value.problems)
    assert second.status is ApplicationStatus.APPRAISED


def test_related_borrowers_count_together_once_an_officer_links_them(session, world, factory):
    # Related limit 25 % of 25 bn = 6.25 bn. A sister cooperative was approved for 6 bn; this
    # cooperative asks 300 m: alone fine (300 m ≤ 3.75 bn), together 6.3 bn > 6.25 bn.
    sister = factory.cooperative()
    big = create_product(
        session, actor=SYSTEM, terms=replace(EQUIPMENT, code="BIG-2", max_amount=D(10**10))
    )
    sister_rep = actor_for(factory.user(Role.APPLICANT, cooperative=sister))
    update_fund_settings(
        session,
        actor=SYSTEM,
        fund_name="Test Fund",
        timezone="Asia/Ho_Chi_Minh",
        policy_values={"single_borrower_max_pct": "25"},
        currency_digits=0,
    )
    sister_world = {**world, "rep": sister_rep, "product": big}
    sisters = appraised(
        session,
        sister_world,
        amount=D(6 * 10**9),
        project_cost=D(9 * 10**9),
        own_equity=D(3 * 10**9),
    )
    for approver in ("approver", "approver2"):
        decide_application(
            session,
            actor=world[approver],
            application_id=sisters.id,
            verdict="approve",
            today=TODAY,
        )
    ours = draft_application(session, world["rep"], world["product"], world["store"])
    assert service.eligibility(session, ours, today=TODAY) == []
    service.link_related_borrowers(
        session,
        actor=world["officer"],
        cooperative_id=world["cooperative"].id,
        related_id=sister.id,
        reason="Same chair and shared bank account.",
    )
    findings = service.eligibility(session, ours, today=TODAY)
    assert [f.rule.value for f in findings] == ["related_borrowers"]
    assert "6,300,000,000" in findings[0].message and "6,250,000,000" in findings[0].message


def test_a_completed_appraisal_replays_to_the_same_figures_in_any_language(
    session, world, monkeypatch
):
    from loanfund.domain import i18n
    from loanfund.services.appraisals import replay

    application = appraised(session, world)
    appraisal = appraisal_of(session, application.id)
    replayed = replay(appraisal)
    assert str(replayed.analysis.npv) == appraisal.analysis["npv"]
    assert str(replayed.scorecard.total) == appraisal.analysis["score"]
    assert [f.reason for f in replayed.scorecard.factors] == [
        reason for _f, _p, _w, reason in appraisal.analysis["factors"]
    ]
    # In another language the numbers are the same and only the words change.
    monkeypatch.setattr(i18n, "_translate", lambda message: "¶" + message)
    again = replay(appraisal)
    assert again.analysis.npv == replayed.analysis.npv
    assert all(line.startswith("¶") for line in again.explanation)


def test_a_product_decides_which_documents_the_dossier_needs(session, world):
    from loanfund.domain.documents import DocumentKind

    light = create_product(
        session,
        actor=SYSTEM,
        terms=replace(
            EQUIPMENT, code="LIGHT-1", required_documents=frozenset({DocumentKind.BUSINESS_PLAN})
        ),
    )
    application = draft_application(session, world["rep"], light, None)
    # The business plan, and collateral papers because a workshop is offered as collateral.
    assert service.missing_documents_of(application) == [
        "Missing document: Business plan.",
        "Missing document: Collateral papers.",
    ]


def test_decision_times_count_working_days_from_submission(session, world):
    from loanfund.queries.applications import decision_times

    # Submitted Friday 20 Nov 2026 … decided Monday 23 Nov (TODAY): one working day.
    application = draft_application(session, world["rep"], world["product"], world["store"])
    service.submit_application(
        session, actor=world["rep"], application_id=application.id, today=TODAY - dt.timedelta(3)
    )
    officer = world["officer"]
    service.start_appraisal(session, actor=officer, application_id=application.id)
    save_appraisal(
        session,
        actor=officer,
        application_id=application.id,
        data=AppraisalInput(
            findings={area: (FindingResult.PASS, "") for area in AppraisalArea},
            credit_check_on=TODAY,
            credit_check_reference="CIC-1",
            credit_check_result="clean",
            recommendation="approve",
        ),
        today=TODAY,
    )
    complete_appraisal(session, actor=officer, application_id=application.id, today=TODAY)
    decide_application(
        session,
        actor=world["approver"],
        application_id=application.id,
        verdict="approve",
        today=TODAY,
    )
    times = decision_times(session, today=TODAY, policy=service.fund_policy(session))
    assert (times.decided, times.average_working_days, times.longest_working_days) == (
        1,
        Decimal("1.0"),
        1,
    )
