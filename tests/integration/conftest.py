"""Fixtures for integration tests: a fund with capital, a product, a cooperative and its
people, and applications brought to a given state through the services."""

import pytest

from loanfund.domain.appraisal_checklist import AppraisalArea, FindingResult
from loanfund.domain.roles import Role
from loanfund.services import applications as service
from loanfund.services.accounts import actor_for
from loanfund.services.appraisals import AppraisalInput, complete_appraisal, save_appraisal
from tests.application_data import draft_application, fund_with_product, store_at
from tests.conftest import TODAY


@pytest.fixture
def world(session, factory, tmp_path):
    product = fund_with_product(session)
    cooperative = factory.cooperative()
    people = {
        "rep": actor_for(factory.user(Role.APPLICANT, cooperative=cooperative)),
        "officer": actor_for(factory.user(Role.OFFICER)),
        "approver": actor_for(factory.user(Role.APPROVER)),
        "approver2": actor_for(factory.user(Role.APPROVER)),
    }
    return {"product": product, "cooperative": cooperative, "store": store_at(tmp_path), **people}


def submitted(session, world, **changes):
    application = draft_application(
        session, world["rep"], world["product"], world["store"], **changes
    )
    service.submit_application(
        session, actor=world["rep"], application_id=application.id, today=TODAY
    )
    return application


def appraised(session, world, recommendation="approve", **changes):
    application = submitted(session, world, **changes)
    officer = world["officer"]
    service.start_appraisal(session, actor=officer, application_id=application.id)
    save_appraisal(
        session,
        actor=officer,
        application_id=application.id,
        data=AppraisalInput(
            findings={area: (FindingResult.PASS, "checked") for area in AppraisalArea},
            credit_check_on=TODAY,
            credit_check_reference="CIC-2026-118",
            credit_check_result="clean",
            recommendation=recommendation,
        ),
        today=TODAY,
    )
    complete_appraisal(session, actor=officer, application_id=application.id, today=TODAY)
    return application


def disbursed_loan(session, world, *, amount, key):
    """An approved application made into a signed loan with one tranche of ``amount`` paid
    on TODAY (requested by the officer, approved by the approver)."""
    from loanfund.services import loans as loan_service
    from loanfund.services.appraisals import decide_application

    application = appraised(session, world)
    decide_application(
        session,
        actor=world["approver"],
        application_id=application.id,
        verdict="approve",
        today=TODAY,
    )
    loan = loan_service.make_loan(
        session, actor=world["officer"], application_id=application.id, today=TODAY
    )
    loan_service.sign_contract(
        session, actor=world["officer"], loan_id=loan.id, signed_on=TODAY, today=TODAY
    )
    tranche = loan_service.request_tranche(
        session,
        actor=world["officer"],
        loan_id=loan.id,
        amount=amount,
        value_date=TODAY,
        payee="HTX",
        account="0001",
        reference="",
        idempotency_key=key,
    )
    loan_service.approve_tranche(session, actor=world["approver"], tranche_id=tranche.id)
    loan_service.pay_tranche(session, actor=world["officer"], tranche_id=tranche.id, today=TODAY)
    return loan
