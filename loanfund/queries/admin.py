"""Lists for the administration pages: users, the audit log, the outbox."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from loanfund.models import AuditEvent, Cooperative, OutboxMessage, User
from loanfund.queries.pagination import Page, paginate


def list_users(session: Session, *, search: str = "", page: int = 1) -> Page[User]:
    query = (
        select(User)
        .options(selectinload(User.roles), selectinload(User.cooperative))
        .order_by(User.email)
    )
    needle = search.strip().lower()[:100]
    if needle:
        pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(User.email.like(pattern, escape="\\"))
    return paginate(session, query, page=page)


def cooperative_choices(session: Session) -> list[tuple[int, str]]:
    rows = session.execute(
        select(Cooperative.id, Cooperative.name).order_by(Cooperative.name_folded)
    )
    return [(cooperative_id, name) for cooperative_id, name in rows]


def list_audit_events(
    session: Session,
    *,
    action: str = "",
    actor: str = "",
    entity: str = "",
    cooperative_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    page: int = 1,
) -> Page[AuditEvent]:
    """Audit events, newest first, filtered by each given criterion."""
    query = select(AuditEvent).order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    if action:
        query = query.where(AuditEvent.action.startswith(action, autoescape=True))
    if actor:
        query = query.where(AuditEvent.actor_label.contains(actor.lower(), autoescape=True))
    if entity:
        query = query.where(AuditEvent.entity == entity)
    if cooperative_id is not None:
        query = query.where(AuditEvent.cooperative_id == cooperative_id)
    if since is not None:
        query = query.where(AuditEvent.occurred_at >= since)
    if until is not None:
        query = query.where(AuditEvent.occurred_at < until)
    return paginate(session, query, page=page)


def list_outbox(session: Session, *, page: int = 1) -> Page[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    return paginate(session, query, page=page)
