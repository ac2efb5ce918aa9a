"""User accounts: creating users, changing their roles, their language."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loanfund.domain.access import Actor, Permission, authorize
from loanfund.domain.errors import NotFound, NotPermitted, RuleViolation
from loanfund.domain.i18n import _
from loanfund.domain.roles import Role as RoleName
from loanfund.domain.roles import check_role_combination
from loanfund.models import Cooperative, Role, User
from loanfund.services.audit import changed, record_event, snapshot

_USER_FIELDS = ("email", "full_name", "active", "roles", "cooperative_id")


@dataclass(frozen=True, slots=True)
class NewUser:
    """What is needed to create an account. ``password_hash`` is made by the caller (the web
    or CLI layer hashes with Flask-Security); ``None`` invites the user to choose one."""

    email: str
    full_name: str
    password_hash: str | None
    phone: str | None = None
    locale: str | None = None


def actor_for(user: User) -> Actor:
    """The services' view of a signed-in user."""
    return Actor(
        user_id=user.id,
        label=user.email,
        roles=frozenset(RoleName(name) for name in user.role_names),
        cooperative_id=user.cooperative_id,
    )


def _user_snapshot(user: User) -> dict:
    data = snapshot(user, ("email", "full_name", "active", "cooperative_id"))
    data["roles"] = sorted(user.role_names)
    return data


def email_taken(session: Session, email: str, *, except_user_id: int | None = None) -> bool:
    query = select(func.count()).select_from(User).where(func.lower(User.email) == email.lower())
    if except_user_id is not None:
        query = query.where(User.id != except_user_id)
    return bool(session.scalar(query))


def add_user(
    session: Session,
    *,
    actor: Actor,
    new_user: NewUser,
    roles: Iterable[RoleName],
    cooperative_id: int | None = None,
) -> User:
    """Add a user to the caller's transaction after checking every rule (no commit).

    Raises:
        RuleViolation: listing every problem (email taken, impossible role combination).
    """
    wanted = frozenset(roles)
    problems = check_role_combination(wanted, has_cooperative=cooperative_id is not None)
    email = new_user.email.strip().lower()
    if email_taken(session, email):
        problems.append(_("An account with the email %(email)s already exists.", email=email))
    if problems:
        raise RuleViolation(problems)
    role_rows = list(session.scalars(select(Role).where(Role.name.in_([r.value for r in wanted]))))
    user = User(
        email=email,
        full_name=new_user.full_name.strip(),
        password=new_user.password_hash,
        active=True,
        fs_uniquifier=uuid.uuid4().hex,
        cooperative_id=cooperative_id,
        phone=new_user.phone,
        locale=new_user.locale,
        roles=role_rows,
    )
    session.add(user)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="user.create",
        entity="user",
        entity_id=user.id,
        cooperative_id=cooperative_id,
        after=_user_snapshot(user),
    )
    return user


def create_user(
    session: Session,
    *,
    actor: Actor,
    new_user: NewUser,
    roles: Iterable[RoleName],
    cooperative_id: int | None = None,
) -> User:
    """Create an account (administrators; or the system for the CLI and the demo).

    Raises:
        NotPermitted: the actor may not manage users.
        NotFound: the cooperative does not exist.
        RuleViolation: listing every problem.
    """
    authorize(actor, Permission.MANAGE_USERS)
    if cooperative_id is not None and session.get(Cooperative, cooperative_id) is None:
        raise NotFound(_("No such cooperative."))
    user = add_user(
        session, actor=actor, new_user=new_user, roles=roles, cooperative_id=cooperative_id
    )
    session.commit()
    return user


def update_user(
    session: Session,
    *,
    actor: Actor,
    user_id: int,
    full_name: str,
    roles: Iterable[RoleName],
    active: bool,
) -> User:
    """Change a user's name, roles and whether they may sign in (administrators).

    Administrators cannot remove their own administrator role or deactivate themselves, so
    the fund is never left without one by accident.

    Raises:
        NotPermitted: not an administrator.
        NotFound: no such user.
        RuleViolation: listing every problem.
    """
    authorize(actor, Permission.MANAGE_USERS)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    wanted = frozenset(roles)
    problems = check_role_combination(wanted, has_cooperative=user.cooperative_id is not None)
    if user.id == actor.user_id:
        if RoleName.ADMIN not in wanted:
            problems.append(_("You cannot remove your own administrator role."))
        if not active:
            problems.append(_("You cannot deactivate your own account."))
    if problems:
        raise RuleViolation(problems)
    before = _user_snapshot(user)
    user.full_name = full_name.strip()
    user.active = active
    user.roles = list(session.scalars(select(Role).where(Role.name.in_([r.value for r in wanted]))))
    if not active:
        # Signs the user out of every session they have.
        user.fs_uniquifier = uuid.uuid4().hex
    old, new = changed(before, _user_snapshot(user))
    if new:
        record_event(
            session,
            actor=actor,
            action="user.update",
            entity="user",
            entity_id=user.id,
            cooperative_id=user.cooperative_id,
            before=old,
            after=new,
        )
    session.commit()
    return user


def set_user_locale(
    session: Session, *, actor: Actor, locale: str, languages: Iterable[str]
) -> None:
    """Remember the language a signed-in user chose."""
    if actor.user_id is None:
        raise NotPermitted(_("Sign in to save a language preference."))
    if locale not in set(languages):
        raise RuleViolation(_("That language is not offered."))
    user = session.get(User, actor.user_id)
    if user is None:
        raise NotFound(_("No such user."))
    if user.locale != locale:
        record_event(
            session,
            actor=actor,
            action="user.set_locale",
            entity="user",
            entity_id=user.id,
            before={"locale": user.locale},
            after={"locale": locale},
        )
        user.locale = locale
        session.commit()


def set_quiet_emails(session: Session, *, actor: Actor, quiet: bool) -> None:
    """Turn the user's non-critical emails (reminders ahead of due dates) off or on; in-app
    notices are kept either way."""
    if actor.user_id is None:
        raise NotPermitted(_("Sign in to change your email preferences."))
    user = session.get(User, actor.user_id)
    if user is None:
        raise NotFound(_("No such user."))
    if user.quiet_emails != quiet:
        record_event(
            session,
            actor=actor,
            action="user.set_quiet_emails",
            entity="user",
            entity_id=user.id,
            before={"quiet_emails": user.quiet_emails},
            after={"quiet_emails": quiet},
        )
        user.quiet_emails = quiet
        session.commit()
