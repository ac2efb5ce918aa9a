"""The fund's pages of an application: the work queues, the appraisal, the decision, the letter,
and who may open them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from loanfund.domain.access import SYSTEM
from loanfund.domain.applications import ApplicationStatus
from loanfund.domain.appraisal_checklist import AppraisalArea, FindingResult
from loanfund.domain.roles import Role
from loanfund.models import ApplicationDecision, LoanApplication, LoanProduct, User, db
from loanfund.queries.applications import appraisal_of
from loanfund.services import applications as service
from loanfund.services import appraisals
from loanfund.services.accounts import actor_for
from loanfund.web.applications import routes, staff_routes
from tests.application_data import draft_application, fund_with_product, store_at
from tests.conftest import TODAY, post_form, sign_in

STAFF_NOTE = "Chairman's brother runs the supplier; check the quote."


@pytest.fixture
def product(session: Any, monkeypatch: Any) -> LoanProduct:
    """The equipment product of a fund with 25 bn VND of capital; the pages' today is
    :data:`TODAY`."""
    for module in (routes, staff_routes):
        monkeypatch.setattr(module, "fund_today", lambda: TODAY)
    return fund_with_product(session)


def submitted(
    factory: Any,
    session: Any,
    product: LoanProduct,
    tmp_path: Any,
    *,
    on: dt.date = TODAY,
    **changes: Any,
) -> tuple[LoanApplication, User]:
    """A verified cooperative's sound application (300 m VND over 36 months, a workshop as
    collateral) with its whole dossier, submitted ``on`` that day; and its representative."""
    applicant = factory.user(Role.APPLICANT, cooperative=factory.cooperative())
    actor = actor_for(applicant)
    application = draft_application(session, actor, product, store_at(tmp_path), **changes)
    service.submit_application(session, actor=actor, application_id=application.id, today=on)
    return application, applicant


def appraised(session: Any, application: LoanApplication, officer: User) -> None:
    """The officer appraises the application through the services and recommends approval."""
    actor = actor_for(officer)
    service.start_appraisal(session, actor=actor, application_id=application.id)
    findings = {area: (FindingResult.PASS, "") for area in AppraisalArea}
    findings[AppraisalArea.COLLATERAL] = (FindingResult.CONCERN, STAFF_NOTE)
    appraisals.save_appraisal(
        session,
        actor=actor,
        application_id=application.id,
        data=appraisals.AppraisalInput(
            findings=findings,
            credit_check_on=TODAY,
            credit_check_reference="CIC-2026-1187",
            credit_check_result="clean",
            recommendation="approve",
            conditions="Insure the roasting line.",
        ),
        today=TODAY,
    )
    appraisals.complete_appraisal(session, actor=actor, application_id=application.id, today=TODAY)


def _schedule_fields(**changes: str) -> dict[str, str]:
    values = {
        "frequency": "month",
        "every": "1",
        "method": "equal_principal",
        "interest_basis": "daily",
        "days_in_year": "365",
        "principal_grace": "0",
        "interest_deferred": "0",
        "interest_free": "0",
        "principal_every": "3",
        "rounding": "half_up",
        "installment_multiple": "",
        "installment_rounding": "nearest",
    }
    return {**values, **changes}


def _appraisal_form(**changes: str) -> dict[str, str]:
    values = {f"findings-{n}-result": "pass" for n, _area in enumerate(AppraisalArea)}
    values.update({f"findings-{n}-note": "" for n, _area in enumerate(AppraisalArea)})
    values["findings-4-result"] = "concern"
    values["findings-4-note"] = STAFF_NOTE
    values.update(
        credit_check_on=TODAY.isoformat(),
        credit_check_reference="CIC-2026-1187",
        credit_check_result="clean",
        recommendation="approve",
        amount="300000000",
        term_months="36",
        conditions="Insure the roasting line.",
        **{"collateral_values-0-appraised_value": "650000000"},
        **_schedule_fields(),
    )
    return {**values, **changes}


def _decide_form(**changes: str) -> dict[str, str]:
    values = {
        "verdict": "approve",
        "amount": "300000000",
        "term_months": "36",
        "conditions": "Insure the roasting line.",
        "reason": "",
        **_schedule_fields(),
    }
    return {**values, **changes}


def _browser(client: Any, user: User) -> Any:
    browser = client.application.test_client()
    sign_in(browser, user.email)
    return browser


def _status(application_id: int) -> ApplicationStatus:
    db.session.expire_all()
    application = db.session.get(LoanApplication, application_id)
    assert application is not None
    return application.status


def _decision_count() -> int:
    return db.session.scalar(select(func.count(ApplicationDecision.id))) or 0


# --- the queue --------------------------------------------------------------------------------


def test_an_officer_finds_a_submitted_application_in_the_new_queue_with_late_ones_in_red(
    client, factory, session, product, tmp_path
):
    fresh, _applicant = submitted(factory, session, product, tmp_path)
    late, _other = submitted(factory, session, product, tmp_path, on=dt.date(2026, 10, 1))
    browser = _browser(client, factory.user(Role.OFFICER))

    page = browser.get("/applications/queue").get_data(as_text=True)

    assert 'aria-current="page" data-testid="tab-new"' in page
    assert fresh.number in page and fresh.cooperative.name in page
    assert "Equipment loan" in page and "₫300,000,000" in page
    # Complete on 23 Nov 2026, a 36-month loan: 10 working days → 7 Dec 2026.
    assert "7 Dec 2026" in page
    # Submitted on 1 Oct 2026, due 15 Oct 2026: late, and shown so.
    overdue_cell = page.split('data-testid="overdue"', 1)[1].split("</td>", 1)[0]
    assert "15 Oct 2026" in overdue_cell and "late" in overdue_cell
    assert late.number in browser.get("/applications/queue?tab=overdue").get_data(as_text=True)
    assert fresh.number not in browser.get("/applications/queue?tab=overdue").get_data(as_text=True)
    assert fresh.number not in browser.get("/applications/queue?tab=decide").get_data(as_text=True)


def test_approvers_start_on_the_decide_queue_and_see_its_count(
    client, factory, session, product, tmp_path
):
    application, _applicant = submitted(factory, session, product, tmp_path)
    appraised(session, application, factory.user(Role.OFFICER))
    browser = _browser(client, factory.user(Role.APPROVER))

    page = browser.get("/applications/queue").get_data(as_text=True)

    assert 'aria-current="page" data-testid="tab-decide"' in page
    assert application.number in page
    decide_tab = page.split('data-testid="tab-decide"', 1)[1].split("</a>", 1)[0]
    assert ">1</span>" in decide_tab
    assert browser.get("/applications/queue?tab=nonsense").status_code == 404


# --- the appraisal ----------------------------------------------------------------------------


def test_an_officer_starts_saves_and_completes_the_appraisal_through_the_pages(
    client, factory, session, product, tmp_path
):
    application, _applicant = submitted(factory, session, product, tmp_path)
    officer = factory.user(Role.OFFICER)
    browser = _browser(client, officer)
    detail = f"/applications/{application.id}"
    assert 'data-testid="start-appraisal"' in browser.get(detail).get_data(as_text=True)

    response = post_form(browser, f"{detail}/start", {}, page=detail)

    assert response.status_code == 302 and response.location.endswith(f"{detail}/appraisal")
    assert _status(application.id) is ApplicationStatus.IN_APPRAISAL
    page = browser.get(f"{detail}/appraisal").get_data(as_text=True)
    assert 'data-testid="appraisal-form"' in page
    assert 'data-testid="npv"' in page and 'data-testid="dscr-table"' in page
    assert 'data-testid="scorecard"' not in page  # no credit-bureau result yet

    response = post_form(browser, f"{detail}/appraisal", _appraisal_form())

    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    appraisal = appraisal_of(db.session, application.id)
    assert appraisal is not None
    assert appraisal.credit_check_result == "clean"
    assert len(appraisal.findings) == len(AppraisalArea)
    assert application.collateral[0].appraised_value == Decimal(650_000_000)
    page = browser.get(f"{detail}/appraisal").get_data(as_text=True)
    assert 'data-testid="scorecard"' in page and 'data-testid="grade"' in page
    assert "Collateral covers 216.67% of the loan" in page  # 650 m valued ÷ 300 m
    assert 'data-testid="schedule"' in page and "The full schedule (36 installments)" in page

    response = post_form(browser, f"{detail}/appraisal/complete", {}, page=f"{detail}/appraisal")

    assert response.status_code == 302 and response.location.endswith(detail)
    assert _status(application.id) is ApplicationStatus.APPRAISED
    page = browser.get(detail).get_data(as_text=True)
    assert "The officer recommends approving ₫300,000,000 over 36 months." in page
    assert 'data-testid="grade"' in page
    assert "Appraisal completed" in page  # the history
    frozen = browser.get(f"{detail}/appraisal").get_data(as_text=True)
    assert 'data-testid="frozen"' in frozen and 'data-testid="appraisal-form"' not in frozen


def test_a_refused_appraisal_keeps_what_was_typed_and_an_incomplete_one_cannot_be_completed(
    client, factory, session, product, tmp_path
):
    application, _applicant = submitted(factory, session, product, tmp_path)
    officer = factory.user(Role.OFFICER)
    service.start_appraisal(session, actor=actor_for(officer), application_id=application.id)
    browser = _browser(client, officer)
    url = f"/applications/{application.id}/appraisal"

    response = post_form(
        browser,
        url,
        _appraisal_form(credit_check_on="2026-12-01", credit_check_reference="CIC-TYPED-42"),
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "The credit-bureau check date 1 Dec 2026 is in the future." in page
    assert 'value="CIC-TYPED-42"' in page
    assert appraisal_of(db.session, application.id).credit_check_reference == ""

    response = post_form(browser, f"{url}/complete", {}, page=url)

    assert response.location.endswith(url)
    page = browser.get(url).get_data(as_text=True)
    assert "The appraisal was not completed:" in page
    assert "Record the credit-bureau check: its date, reference and result." in page
    assert _status(application.id) is ApplicationStatus.IN_APPRAISAL


def test_an_officer_asks_for_information_assigns_and_notes_from_the_application_page(
    client, factory, session, product, tmp_path
):
    application, _applicant = submitted(factory, session, product, tmp_path)
    officer, colleague = factory.user(Role.OFFICER), factory.user(Role.OFFICER)
    service.start_appraisal(session, actor=actor_for(officer), application_id=application.id)
    browser = _browser(client, officer)
    detail = f"/applications/{application.id}"

    post_form(browser, f"{detail}/note", {"body": STAFF_NOTE}, page=detail)
    post_form(browser, f"{detail}/assign", {"officer_id": str(colleague.id)}, page=detail)
    post_form(
        browser, f"{detail}/request-info", {"body": "Send the supplier's quote."}, page=detail
    )

    db.session.expire_all()
    assert application.officer_id == colleague.id
    assert _status(application.id) is ApplicationStatus.INFO_REQUESTED
    page = browser.get(detail).get_data(as_text=True)
    assert STAFF_NOTE.replace("'", "&#39;") in page and "Send the supplier&#39;s quote." in page
    assert "Officer assigned" in page and "Information requested" in page


# --- the decision -----------------------------------------------------------------------------


def test_an_approver_approves_through_the_decision_page(
    client, factory, session, product, tmp_path
):
    application, _applicant = submitted(factory, session, product, tmp_path)
    appraised(session, application, factory.user(Role.OFFICER))
    approver = factory.user(Role.APPROVER)
    browser = _browser(client, approver)
    detail = f"/applications/{application.id}"
    assert 'data-testid="decide-link"' in browser.get(detail).get_data(as_text=True)
    page = browser.get(f"{detail}/decide").get_data(as_text=True)
    assert 'data-testid="recommendation"' in page and 'value="300,000,000"' in page
    assert "Insure the roasting line." in page

    response = post_form(browser, f"{detail}/decide", _decide_form())

    assert response.status_code == 302 and response.location.endswith(detail)
    assert _status(application.id) is ApplicationStatus.APPROVED
    assert application.approved_amount == Decimal(300_000_000)
    assert application.approved_conditions == "Insure the roasting line."
    page = browser.get(detail).get_data(as_text=True)
    assert f"Application {application.number} is approved." in page


def test_the_appraiser_cannot_decide_and_is_told_why(client, factory, session, product, tmp_path):
    application, _applicant = submitted(factory, session, product, tmp_path)
    appraiser = factory.user(Role.OFFICER, Role.APPROVER)
    appraised(session, application, appraiser)
    browser = _browser(client, appraiser)
    detail = f"/applications/{application.id}"

    response = post_form(browser, f"{detail}/decide", _decide_form())

    assert response.status_code == 302 and response.location.endswith(detail)
    page = browser.get(detail).get_data(as_text=True)
    assert "Your decision was not recorded:" in page
    assert "someone else must decide it (four-eyes rule)" in page
    assert _status(application.id) is ApplicationStatus.APPRAISED
    assert _decision_count() == 0


def test_above_the_council_amount_two_different_approvers_must_approve(
    client, factory, session, product, tmp_path
):
    application, _applicant = submitted(
        factory,
        session,
        product,
        tmp_path,
        amount=Decimal(600_000_000),
        project_cost=Decimal(1_000_000_000),
        own_equity=Decimal(400_000_000),
    )
    appraised(session, application, factory.user(Role.OFFICER))
    first, second = factory.user(Role.APPROVER), factory.user(Role.APPROVER)
    detail = f"/applications/{application.id}"
    browser = _browser(client, first)
    form = _decide_form(amount="600000000")

    post_form(browser, f"{detail}/decide", form)

    assert _status(application.id) is ApplicationStatus.APPRAISED
    page = browser.get(detail).get_data(as_text=True)
    assert "1 of 2 approvals" in page
    post_form(browser, f"{detail}/decide", form)
    assert "a second, different approver must" in browser.get(detail).get_data(as_text=True)
    assert _decision_count() == 1

    post_form(_browser(client, second), f"{detail}/decide", form)

    assert _status(application.id) is ApplicationStatus.APPROVED


def test_a_rejection_needs_a_reason_and_the_form_keeps_what_was_typed(
    client, factory, session, product, tmp_path
):
    application, _applicant = submitted(factory, session, product, tmp_path)
    appraised(session, application, factory.user(Role.OFFICER))
    browser = _browser(client, factory.user(Role.APPROVER))
    url = f"/applications/{application.id}/decide"

    response = post_form(browser, url, _decide_form(verdict="reject", conditions="TYPED-CONDITION"))

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Give the reason; the cooperative reads it." in page and "TYPED-CONDITION" in page
    assert _status(application.id) is ApplicationStatus.APPRAISED


# --- who may open what ------------------------------------------------------------------------


def test_an_applicant_gets_404_on_another_cooperatives_staff_pages_and_403_on_its_own(
    client, factory, session, product, tmp_path
):
    own, applicant = submitted(factory, session, product, tmp_path)
    other, _other_applicant = submitted(factory, session, product, tmp_path)
    browser = _browser(client, applicant)
    page = f"/applications/{own.id}"
    assert 'data-testid="staff-panel"' not in browser.get(page).get_data(as_text=True)
    gets = ("appraisal", "decide")
    posts = {
        "start": {},
        "assign": {"officer_id": "1"},
        "request-info": {"body": "x"},
        "note": {"body": "x"},
        "appraisal": _appraisal_form(),
        "appraisal/complete": {},
        "decide": _decide_form(),
    }

    for application, expected in ((other, 404), (own, 403)):
        for path in gets:
            url = f"/applications/{application.id}/{path}"
            assert browser.get(url).status_code == expected, url
        for path, data in posts.items():
            url = f"/applications/{application.id}/{path}"
            assert post_form(browser, url, data, page=page).status_code == expected, url
        assert browser.get(f"/applications/{application.id}/letter").status_code == 404

    assert browser.get("/applications/queue").status_code == 403
    assert _status(own.id) is _status(other.id) is ApplicationStatus.SUBMITTED
    assert appraisal_of(db.session, own.id) is None


def test_staff_roles_reach_only_their_own_steps(client, factory, session, product, tmp_path):
    application, _applicant = submitted(factory, session, product, tmp_path)
    detail = f"/applications/{application.id}"
    approver = _browser(client, factory.user(Role.APPROVER))
    auditor = _browser(client, factory.user(Role.AUDITOR))
    officer = _browser(client, factory.user(Role.OFFICER))

    assert post_form(approver, f"{detail}/start", {}, page=detail).status_code == 403
    assert post_form(auditor, f"{detail}/note", {"body": "x"}, page=detail).status_code == 403
    assert officer.get(f"{detail}/decide").status_code == 403
    assert auditor.get("/applications/queue").status_code == 200
    assert _status(application.id) is ApplicationStatus.SUBMITTED

    service.start_appraisal(session, actor=SYSTEM, application_id=application.id)
    page = auditor.get(f"{detail}/appraisal").get_data(as_text=True)
    assert 'data-testid="appraisal-form"' not in page and 'data-testid="npv"' in page
    response = post_form(auditor, f"{detail}/appraisal", _appraisal_form(), page=detail)
    assert response.status_code == 403
    assert appraisal_of(db.session, application.id).credit_check_result == ""


# --- the letter -------------------------------------------------------------------------------


def test_the_letter_gives_the_amount_in_words_and_nothing_from_the_appraisal(
    client, factory, session, product, tmp_path
):
    application, applicant = submitted(factory, session, product, tmp_path)
    appraised(session, application, factory.user(Role.OFFICER))
    approver = factory.user(Role.APPROVER)
    appraisals.decide_application(
        session,
        actor=actor_for(approver),
        application_id=application.id,
        verdict="approve",
        today=TODAY,
        conditions="Insure the roasting line.",
    )
    browser = _browser(client, applicant)
    url = f"/applications/{application.id}/letter"

    page = browser.get(url).get_data(as_text=True)

    assert 'data-testid="amount-words">Three hundred million Vietnamese dong' in page
    assert application.number in page and application.cooperative.name in page
    assert "Date: 23 Nov 2026" in page and "Test Fund" in page
    assert "Insure the roasting line." in page and approver.full_name in page
    assert STAFF_NOTE not in page and "CIC-2026-1187" not in page
    assert "d-print-none" in page and "<nav" not in page

    post_form(browser, "/language", {"locale": "vi", "next": url}, page="/home")
    page = browser.get(url).get_data(as_text=True)

    assert "Ba trăm triệu" in page and "23/11/2026" in page


def test_a_rejection_letter_gives_the_reason_and_no_amount(
    client, factory, session, product, tmp_path
):
    application, applicant = submitted(factory, session, product, tmp_path)
    appraised(session, application, factory.user(Role.OFFICER))
    appraisals.decide_application(
        session,
        actor=actor_for(factory.user(Role.APPROVER)),
        application_id=application.id,
        verdict="reject",
        today=TODAY,
        reason="The market study does not show buyers for the extra output.",
    )

    page = _browser(client, applicant).get(f"/applications/{application.id}/letter")

    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "The market study does not show buyers for the extra output." in text
    assert 'data-testid="amount-words"' not in text
