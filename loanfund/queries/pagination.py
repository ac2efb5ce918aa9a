"""Pages of rows: every list is paginated."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")

PAGE_SIZE = 50

#: ``session.info`` key of a function ``(count statement, compute) -> int`` that may keep a
#: list's row count between requests while the database does not change (the web layer puts
#: ``web.figures.kept_count`` there); without one every count is worked out.
COUNT_KEEPER = "loanfund.count_keeper"


def count_rows(session: Session, query: Select[Any]) -> int:
    """How many rows ``query`` gives: the total a list's pages show. On a large book this is
    the costly part of a page (every matching row is counted, only a page is read)."""
    count = select(func.count()).select_from(query.order_by(None).subquery())

    def compute() -> int:
        return session.scalar(count) or 0

    keeper: Callable[[Select[Any], Callable[[], int]], int] | None = session.info.get(COUNT_KEEPER)
    return keeper(count, compute) if keeper is not None else compute()


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def paginate(session: Session, query: Select[Any], *, page: int, per_page: int = PAGE_SIZE) -> Page:
    """One page of ``query``'s rows (scalars when it selects one entity) and the total count."""
    page = max(1, page)
    total = count_rows(session, query)
    result = session.execute(query.limit(per_page).offset((page - 1) * per_page))
    rows = result.scalars().all() if len(query.column_descriptions) == 1 else result.all()
    return Page(items=rows, page=page, per_page=per_page, total=total)
