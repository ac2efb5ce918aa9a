"""Cooperatives: signing up, registering by staff, editing, verification, representatives."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loanfund.domain.access import Actor, Permission, authorize
from loanfund.domain.cooperatives import (
    COOPERATIVE_TRANSITIONS,
    CooperativeProfile,
    CooperativeStatus,
    check_profile,
)
from loanfund.domain.errors import NotFound, RuleViolation
from loanfund.domain.i18n import _
from loanfund.domain.lifecycle import next_status
from loanfund.domain.roles import Role as RoleName
from loanfund.domain.text import fold
from loanfund.models import Cooperative, User
from loanfund.models.types import utcnow
from loanfund.services.accounts import NewUser, add_user
from loanfund.services.audit import changed, record_event, snapshot
from loanfund.services.guards import change_status
from loanfund.services.outbox import Email, queue_email

_PROFILE_FIELDS = tuple(CooperativeProfile.__dataclass_fields__)
#: Fields a representative may no longer change once the fund has verified the cooperative.
IDENTITY_FIELDS = ("name", "legal_type", "registration_no", "tax_code")


def _uniqueness_problems(
    session: Session, profile: CooperativeProfile, *, except_id: int | None = None
) -> list[str]:
    problems = []
    for column, value, message in (
        (
            Cooperative.registration_no,
            profile.registration_no,
            _(
                "Another cooperative is registered with number %(value)s.",
                value=profile.registration_no,
            ),
        ),
        (
            Cooperative.tax_code,
            profile.tax_code,
            _("Another cooperative has the tax code %(value)s.", value=profile.tax_code),
        ),
    ):
        query = select(func.count()).select_from(Cooperative).where(column == value)
        if except_id is not None:
            query = query.where(Cooperative.id != except_id)
        if session.scalar(query):
            problems.append(message)
    return problems


def _apply_profile(cooperative: Cooperative, profile: CooperativeProfile) -> None:
    for name, value in asdict(profile).items():
        setattr(cooperative, name, value.strip() if isinstance(value, str) else value)
    cooperative.name_folded = fold(cooperative.name)


def _load(
    session: Session, actor: Actor, cooperative_id: int, permission: Permission
) -> Cooperative:
    authorize(actor, permission, cooperative_id=cooperative_id)
    cooperative = session.get(Cooperative, cooperative_id)
    if cooperative is None:
        raise NotFound(_("No such cooperative."))
    return cooperative


def sign_up_cooperative(
    session: Session,
    *,
    profile: CooperativeProfile,
    representative: NewUser,
    today: dt.date,
    staff_notice: Email | None = None,
    staff_emails: tuple[str, ...] = (),
) -> tuple[Cooperative, User]:
    """A representative registers their cooperative and their own account, pending verification.

    Raises:
        RuleViolation: every problem with the profile and the account, together.
    """
    problems = check_profile(profile, today=today) + _uniqueness_problems(session, profile)
    if problems:
        raise RuleViolation(problems)
    cooperative = Cooperative(status=CooperativeStatus.PENDING)
    _apply_profile(cooperative, profile)
    session.add(cooperative)
    session.flush()
    provisional = Actor(
        user_id=None,
        label=representative.email.strip().lower(),
        roles=frozenset({RoleName.APPLICANT}),
        cooperative_id=cooperative.id,
    )
    user = add_user(
        session,
        actor=provisional,
        new_user=representative,
        roles={RoleName.APPLICANT},
        cooperative_id=cooperative.id,
    )
    signer = Actor(user.id, user.email, frozenset({RoleName.APPLICANT}), cooperative.id)
    record_event(
        session,
        actor=signer,
        action="cooperative.sign_up",
        entity="cooperative",
        entity_id=cooperative.id,
        cooperative_id=cooperative.id,
        after=snapshot(cooperative, (*_PROFILE_FIELDS, "status")),
    )
    if staff_notice:
        for address in staff_emails:
            queue_email(
                session,
                kind="cooperative_signed_up",
                recipient=address,
                subject=staff_notice.subject,
                body_text=staff_notice.body_text,
            )
    session.commit()
    return cooperative, user


def create_cooperative(
    session: Session, *, actor: Actor, profile: CooperativeProfile, today: dt.date
) -> Cooperative:
    """Staff register a cooperative themselves; it starts pending like any other.

    Raises:
        NotPermitted: the actor may not create cooperatives.
        RuleViolation: every problem with the profile.
    """
    authorize(actor, Permission.CREATE_COOPERATIVE)
    problems = check_profile(profile, today=today) + _uniqueness_problems(session, profile)
    if problems:
        raise RuleViolation(problems)
    cooperative = Cooperative(status=CooperativeStatus.PENDING)
    _apply_profile(cooperative, profile)
    session.add(cooperative)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="cooperative.create",
        entity="cooperative",
        entity_id=cooperative.id,
        cooperative_id=cooperative.id,
        after=snapshot(cooperative, (*_PROFILE_FIELDS, "status")),
    )
    session.commit()
    return cooperative


def update_cooperative(
    session: Session,
    *,
    actor: Actor,
    cooperative_id: int,
    profile: CooperativeProfile,
    today: dt.date,
) -> Cooperative:
    """Change a cooperative's profile (its representative, or fund officers and admins).

    A representative cannot change the identity fields (name, legal type, registration
    number, tax code) of a verified cooperative: the fund verified those.

    Raises:
        NotFound: no such cooperative, or another cooperative's.
        NotPermitted: the actor may not edit cooperatives.
        RuleViolation: every problem with the profile.
    """
    cooperative = _load(session, actor, cooperative_id, Permission.EDIT_COOPERATIVE)
    problems = check_profile(profile, today=today) + _uniqueness_problems(
        session, profile, except_id=cooperative.id
    )
    if not actor.is_staff and cooperative.status is not CooperativeStatus.PENDING:
        locked = [
            name for name in IDENTITY_FIELDS if getattr(profile, name) != getattr(cooperative, name)
        ]
        if locked:
            problems.append(
                _(
                    "The name, legal type, registration number and tax code of a verified "
                    "cooperative can only be changed by the fund. Please contact your credit "
                    "officer."
                )
            )
    if problems:
        raise RuleViolation(problems)
    before = snapshot(cooperative, _PROFILE_FIELDS)
    _apply_profile(cooperative, profile)
    old, new = changed(before, snapshot(cooperative, _PROFILE_FIELDS))
    if new:
        record_event(
            session,
            actor=actor,
            action="cooperative.update",
            entity="cooperative",
            entity_id=cooperative.id,
            cooperative_id=cooperative.id,
            before=old,
            after=new,
        )
    session.commit()
    return cooperative


#: What each status action needs: the permission, whether a reason is required, its label.
ACTION_PERMISSIONS: dict[str, tuple[Permission, bool]] = {
    "verify": (Permission.VERIFY_COOPERATIVE, False),
    "reject": (Permission.VERIFY_COOPERATIVE, True),
    "resubmit": (Permission.EDIT_COOPERATIVE, False),
    "suspend": (Permission.SUSPEND_COOPERATIVE, True),
    "reinstate": (Permission.SUSPEND_COOPERATIVE, False),
}


def status_label(status: CooperativeStatus) -> str:
    """How users name a cooperative's status."""
    return {
        CooperativeStatus.PENDING: _("awaiting verification"),
        CooperativeStatus.VERIFIED: _("verified"),
        CooperativeStatus.REJECTED: _("changes requested"),
        CooperativeStatus.SUSPENDED: _("suspended"),
    }[status]


def action_label(action: str) -> str:
    """How users name a status action (for buttons and messages)."""
    return {
        "verify": _("verify this cooperative"),
        "reject": _("reject this cooperative's registration"),
        "resubmit": _("send the registration for verification again"),
        "suspend": _("suspend this cooperative"),
        "reinstate": _("reinstate this cooperative"),
    }[action]


def change_cooperative_status(
    session: Session,
    *,
    actor: Actor,
    cooperative_id: int,
    action: str,
    reason: str = "",
    expected_status: CooperativeStatus | None = None,
    notice: Callable[[Cooperative], Email] | None = None,
) -> Cooperative:
    """Verify, reject, resubmit, suspend or reinstate a cooperative.

    The change is guarded: if ``expected_status`` is given and someone changed the status
    in between (two officers clicking at once), the second click is refused.

    Args:
        notice: builds the email sent to the cooperative's representatives, if any.

    Raises:
        NotFound, NotPermitted, InvalidTransition, RuleViolation.
    """
    if action not in ACTION_PERMISSIONS:
        raise RuleViolation(_("Unknown action."))
    permission, needs_reason = ACTION_PERMISSIONS[action]
    cooperative = _load(session, actor, cooperative_id, permission)
    current = expected_status or cooperative.status
    target = next_status(
        COOPERATIVE_TRANSITIONS,
        current,
        action,
        label=action_label(action),
        describe=status_label,
    )
    reason = reason.strip()
    if needs_reason and not reason:
        raise RuleViolation(_("Please give the reason; the cooperative will read it."))
    before = {"status": current.value, "status_reason": cooperative.status_reason}
    values: dict[str, object] = {"status": target, "status_reason": reason or None}
    if action == "verify":
        values.update(verified_at=utcnow(), verified_by_id=actor.user_id)
    # Guarded change: only from the status the actor saw, so two clicks act once.
    change_status(
        session,
        Cooperative,
        cooperative.id,
        seen=current,
        values=values,
        refused=_(
            "Someone changed this cooperative's status a moment ago. Please reload the page."
        ),
    )
    session.refresh(cooperative)
    record_event(
        session,
        actor=actor,
        action=f"cooperative.{action}",
        entity="cooperative",
        entity_id=cooperative.id,
        cooperative_id=cooperative.id,
        before=before,
        after={"status": target.value, "status_reason": cooperative.status_reason},
        note=reason or None,
    )
    if notice:
        email = notice(cooperative)
        for user in cooperative.representatives:
            if user.active:
                queue_email(
                    session,
                    kind=f"cooperative_{action}",
                    recipient=user.email,
                    subject=email.subject,
                    body_text=email.body_text,
                    user_id=user.id,
                )
    session.commit()
    return cooperative


def invite_representative(
    session: Session,
    *,
    actor: Actor,
    cooperative_id: int,
    email: str,
    full_name: str,
    invitation: Callable[[User], Email],
) -> User:
    """Create a representative account without a password and send an invitation to set one.

    Args:
        invitation: builds the invitation (with its set-password link) for the new user.

    Raises:
        NotFound, NotPermitted, RuleViolation.
    """
    cooperative = _load(session, actor, cooperative_id, Permission.INVITE_REPRESENTATIVE)
    user = add_user(
        session,
        actor=actor,
        new_user=NewUser(email=email, full_name=full_name, password_hash=None),
        roles={RoleName.APPLICANT},
        cooperative_id=cooperative.id,
    )
    message = invitation(user)
    queue_email(
        session,
        kind="representative_invitation",
        recipient=user.email,
        subject=message.subject,
        body_text=message.body_text,
        user_id=user.id,
    )
    session.commit()
    return user
