"""Telling people what happened and what they must do: in the app, and by email."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from loanfund.domain.access import Actor
from loanfund.domain.notifications import NoticeKind
from loanfund.models import Notification, Role, User
from loanfund.models.types import utcnow
from loanfund.services.outbox import Email, queue_email

#: Renders the email of a notice for one recipient (in their language); ``None`` for no email.
#: The web layer provides it: services do not render templates.
EmailRenderer = Callable[[User, NoticeKind, Mapping[str, Any], str], "Email | None"]


def notify(
    session: Session,
    *,
    recipients: Iterable[User],
    kind: NoticeKind,
    params: Mapping[str, Any],
    link: str,
    render_email: EmailRenderer | None = None,
    skip: Actor | None = None,
) -> int:
    """Add an in-app notice (and, with ``render_email``, an email) for each active recipient
    other than ``skip`` (nobody is told what they did themselves). Returns how many."""
    count = 0
    seen: set[int] = set()
    for user in recipients:
        if not user.active or user.id in seen or (skip and user.id == skip.user_id):
            continue
        seen.add(user.id)
        session.add(Notification(user_id=user.id, kind=kind.value, params=dict(params), link=link))
        if render_email is not None:
            email = render_email(user, kind, params, link)
            if email is not None:
                queue_email(
                    session,
                    kind=kind.value,
                    recipient=user.email,
                    subject=email.subject,
                    body_text=email.body_text,
                    user_id=user.id,
                )
        count += 1
    return count


def users_with_role(session: Session, role: str) -> list[User]:
    """Active users holding ``role``."""
    query = select(User).join(User.roles).where(Role.name == role, User.active.is_(True))
    return list(session.scalars(query.order_by(User.id)))


def mark_read(session: Session, *, actor: Actor, notification_ids: Iterable[int] | None) -> int:
    """Mark the actor's notices read (all of them when ``notification_ids`` is None)."""
    query = update(Notification).where(
        Notification.user_id == actor.user_id, Notification.read_at.is_(None)
    )
    if notification_ids is not None:
        query = query.where(Notification.id.in_(list(notification_ids)))
    result = session.execute(query.values(read_at=utcnow()))
    session.commit()
    return result.rowcount or 0
