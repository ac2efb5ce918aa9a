"""A user's notices."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loanfund.models import Notification
from loanfund.queries.pagination import Page, paginate


def unread_count(session: Session, user_id: int) -> int:
    return (
        session.scalar(
            select(func.count(Notification.id)).where(
                Notification.user_id == user_id, Notification.read_at.is_(None)
            )
        )
        or 0
    )


def notices_of(session: Session, user_id: int, *, page: int = 1) -> Page[Notification]:
    query = (
        select(Notification).where(Notification.user_id == user_id).order_by(Notification.id.desc())
    )
    return paginate(session, query, page=page)
