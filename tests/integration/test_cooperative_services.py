"""Cooperatives: sign-up, verification (guarded, audited, notified), profile rules."""

import datetime as dt

import pytest
from sqlalchemy import select

from loanfund.domain.access import SYSTEM, Actor
from loanfund.domain.cooperatives import CooperativeStatus
from loanfund.domain.errors import InvalidTransition, NotFound, NotPermitted, RuleViolation
from loanfund.domain.roles import Role
from loanfund.models import AuditEvent, Cooperative, OutboxMessage, User
from loanfund.services.accounts import NewUser, actor_for
from loanfund.services.cooperatives import (
    Email,
    change_cooperative_status,
    sign_up_cooperative,
    update_cooperative,
)
from tests.conftest import TODAY, profile


def test_sign_up_creates_a_pending_cooperative_its_representative_and_notifies_staff(session):
    cooperative, user = sign_up_cooperative(
        session,
        profile=profile(name="HTX Mây tre đan Bao La"),
        representative=NewUser(
            email="Rep@Example.vn", full_name="Trần Hữu Bình", password_hash="x"
        ),
        today=TODAY,
        staff_notice=Email("New cooperative", "Please verify."),
        staff_emails=("officer@fund.vn",),
    )
    assert cooperative.status is CooperativeStatus.PENDING
    assert cooperative.name_folded == "htx may tre dan bao la"
    assert user.email == "rep@example.vn" and user.cooperative_id == cooperative.id
    assert user.role_names == {"applicant"}
    assert session.scalar(select(OutboxMessage.recipient)) == "officer@fund.vn"
    actions = set(session.scalars(select(AuditEvent.action)))
    assert {"cooperative.sign_up", "user.create"} <= actions


def test_every_profile_problem_is_reported_at_once_with_the_numbers(session):
    bad = profile(
        tax_code="12345", members_count=10, women_members=12, founded_on=dt.date(2027, 1, 1)
    )
    with pytest.raises(RuleViolation) as caught:
        sign_up_cooperative(
            session,
            profile=bad,
            representative=NewUser(email="a@b.vn", full_name="A", password_hash="x"),
            today=TODAY,
        )
    text = " | ".join(caught.value.problems)
    assert "tax code" in text
    assert "Women members (12) cannot exceed the number of members (10)" in text
    assert "2027-01-01 is in the future" in text
    assert session.scalar(select(Cooperative.id)) is None  # nothing half-written


def test_a_taken_tax_code_is_refused(session, factory):
    first = factory.cooperative()
    with pytest.raises(RuleViolation, match=first.tax_code):
        sign_up_cooperative(
            session,
            profile=profile(tax_code=first.tax_code),
            representative=NewUser(email="b@b.vn", full_name="B", password_hash="x"),
            today=TODAY,
        )


def test_verifying_twice_acts_once(session, factory):
    cooperative = factory.cooperative(verified=False)
    officer = actor_for(factory.user(Role.OFFICER))
    change_cooperative_status(
        session,
        actor=officer,
        cooperative_id=cooperative.id,
        action="verify",
        expected_status=CooperativeStatus.PENDING,
    )
    with pytest.raises(InvalidTransition):
        change_cooperative_status(
            session, actor=officer, cooperative_id=cooperative.id, action="verify"
        )
    verifications = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "cooperative.verify", AuditEvent.cooperative_id == cooperative.id
        )
    ).all()
    assert len(verifications) == 1 and verifications[0].actor_id == officer.user_id


def test_a_stale_decision_is_refused_when_someone_else_decided_first(session, factory):
    cooperative = factory.cooperative(verified=False)
    officer = actor_for(factory.user(Role.OFFICER))
    change_cooperative_status(
        session,
        actor=officer,
        cooperative_id=cooperative.id,
        action="reject",
        reason="Missing charter",
    )
    # A second officer's page still showed "pending" and they click "verify".
    with pytest.raises(Exception) as caught:
        change_cooperative_status(
            session,
            actor=officer,
            cooperative_id=cooperative.id,
            action="verify",
            expected_status=CooperativeStatus.PENDING,
        )
    assert caught.value.http_status == 409
    assert session.get(Cooperative, cooperative.id).status is CooperativeStatus.REJECTED


def test_rejecting_needs_a_reason_and_the_representative_is_told(session, factory):
    cooperative = factory.cooperative(verified=False)
    representative = factory.user(Role.APPLICANT, cooperative=cooperative)
    officer = actor_for(factory.user(Role.OFFICER))
    with pytest.raises(RuleViolation, match="reason"):
        change_cooperative_status(
            session, actor=officer, cooperative_id=cooperative.id, action="reject"
        )
    change_cooperative_status(
        session,
        actor=officer,
        cooperative_id=cooperative.id,
        action="reject",
        reason="Charter missing",
        notice=lambda c: Email("Changes needed", c.status_reason or ""),
    )
    message = session.scalars(
        select(OutboxMessage).where(OutboxMessage.recipient == representative.email)
    ).one()
    assert message.body_text == "Charter missing"


def test_a_representative_cannot_change_a_verified_cooperatives_identity(session, factory):
    cooperative = factory.cooperative()
    rep = actor_for(factory.user(Role.APPLICANT, cooperative=cooperative))
    current = profile(
        registration_no=cooperative.registration_no,
        tax_code=cooperative.tax_code,
        name=cooperative.name,
    )
    with pytest.raises(RuleViolation, match="can only be changed by the fund"):
        update_cooperative(
            session,
            actor=rep,
            cooperative_id=cooperative.id,
            profile=profile(tax_code="3301999999"),
            today=TODAY,
        )
    updated = update_cooperative(
        session, actor=rep, cooperative_id=cooperative.id, profile=current, today=TODAY
    )
    assert updated.contact_email == current.contact_email


def test_a_representative_of_another_cooperative_is_told_it_does_not_exist(session, factory):
    mine, theirs = factory.cooperative(), factory.cooperative()
    rep = actor_for(factory.user(Role.APPLICANT, cooperative=mine))
    with pytest.raises(NotFound):
        update_cooperative(
            session, actor=rep, cooperative_id=theirs.id, profile=profile(), today=TODAY
        )
    with pytest.raises(NotPermitted):
        change_cooperative_status(
            session, actor=rep, cooperative_id=mine.id, action="suspend", reason="x"
        )


def test_an_administrator_cannot_lock_themselves_out(session, factory):
    from loanfund.services.accounts import update_user

    admin = factory.user(Role.ADMIN)
    with pytest.raises(RuleViolation) as caught:
        update_user(
            session,
            actor=actor_for(admin),
            user_id=admin.id,
            full_name="Me",
            roles={Role.OFFICER},
            active=False,
        )
    assert len(caught.value.problems) == 2
    assert session.get(User, admin.id).active


def test_the_system_actor_is_audited_as_system(session, factory):
    cooperative = factory.cooperative()
    labels = set(
        session.scalars(
            select(AuditEvent.actor_label).where(AuditEvent.cooperative_id == cooperative.id)
        )
    )
    assert labels == {SYSTEM.label}
    assert isinstance(SYSTEM, Actor)
