"""Cooperative lists and counts."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loanfund.domain.cooperatives import CooperativeStatus
from loanfund.domain.text import fold
from loanfund.models import Cooperative
from loanfund.queries.pagination import Page, paginate


def list_cooperatives(
    session: Session, *, search: str = "", status: CooperativeStatus | None = None, page: int = 1
) -> Page[Cooperative]:
    """Cooperatives by name, filtered by status; the search ignores case and diacritics
    and also matches tax codes and registration numbers."""
    query = select(Cooperative).order_by(Cooperative.name_folded, Cooperative.id)
    if status is not None:
        query = query.where(Cooperative.status == status)
    needle = fold(search)[:100]
    if needle:
        pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            Cooperative.name_folded.like(pattern, escape="\\")
            | Cooperative.tax_code.like(pattern, escape="\\")
            | func.lower(Cooperative.registration_no).like(pattern, escape="\\")
        )
    return paginate(session, query, page=page)


def count_by_status(session: Session) -> dict[str, int]:
    """Number of cooperatives per status value (every status present, zero if none)."""
    rows = session.execute(select(Cooperative.status, func.count()).group_by(Cooperative.status))
    counts = {status.value: 0 for status in CooperativeStatus}
    counts.update({status.value: count for status, count in rows})
    return counts
