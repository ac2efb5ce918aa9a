"""Lists people page through: sorting by a named column, filters and a search read from the
URL, pages that hold still, and every matching row streamed for an export.

Each list declares a :class:`Listing`: the columns it may be sorted by (a whitelist of keys,
each with its SQL expressions), its filters (a URL parameter each, read by a parser that
returns ``None`` for anything it does not accept) and its search fields. :meth:`Listing.read`
turns the query string into a :class:`ListState` and never raises: an unknown sort key, a
direction other than ``asc``/``desc``, a page that is not a number or a filter value the list
does not know falls back to the default. :meth:`Listing.apply` adds the filters, the search
and the order, always ending with a unique tie-breaker so that a row never appears on two
pages or on none.

The search ignores case and Vietnamese diacritics (đ/Đ included): the text typed is folded by
:func:`loanfund.domain.text.fold` and each of its words must be found in one of the fields,
which are folded already (``cooperative.name_folded``) or codes folded in SQL by
:func:`fold_code`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_
from sqlalchemy.orm import Session

from loanfund.domain.text import fold
from loanfund.queries.pagination import PAGE_SIZE, Page, count_rows

DIRECTIONS = ("asc", "desc")
#: The most rows one page may be asked to show (``?per_page=``).
MAX_PER_PAGE = 200
#: The longest search text read, and the most words of it used.
SEARCH_MAX_CHARS = 100
SEARCH_MAX_WORDS = 8
#: Rows fetched at a time when every matching row is read (exports).
STREAM_BATCH = 500

#: The query-string parameters every list reads itself (filters may not use these names).
RESERVED = frozenset({"q", "sort", "dir", "page", "per_page"})


@dataclass(frozen=True, slots=True)
class Filter:
    """A filter the URL may carry as ``name=text``.

    Attributes:
        name: the query-string parameter.
        parse: the text typed → the value to filter on, or ``None`` when the text is not one
            the filter accepts (the filter is then left out, as if absent).
        apply: adds the filter's condition to a query.
    """

    name: str
    parse: Callable[[str], Any]
    apply: Callable[[Select[Any], Any], Select[Any]]


def _where(column: Any) -> Callable[[Select[Any], Any], Select[Any]]:
    return lambda query, value: query.where(column == value)


def choice(name: str, column: Any, values: Iterable[Any]) -> Filter:
    """``column`` equals one of ``values`` (enum members or strings, compared as text)."""
    allowed = {str(value): value for value in values}
    return Filter(name, allowed.get, _where(column))


def integer(name: str, column: Any, *, low: int = 1, high: int = 2**31 - 1) -> Filter:
    """``column`` equals a whole number from ``low`` to ``high`` (ids, debt groups)."""

    def parse(text: str) -> int | None:
        text = text.strip()
        if not text.isascii() or not text.isdigit() or len(text) > 10:
            return None
        number = int(text)
        return number if low <= number <= high else None

    return Filter(name, parse, _where(column))


def text(name: str, column: Any, *, max_chars: int = 80) -> Filter:
    """``column`` equals the text exactly (a district picked from a list)."""

    def parse(value: str) -> str | None:
        value = value.strip()
        return value if 0 < len(value) <= max_chars else None

    return Filter(name, parse, _where(column))


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        return None


def on_or_after(name: str, column: Any) -> Filter:
    """``column`` is on or after an ISO date (``2026-11-23``)."""
    return Filter(name, _date, lambda query, day: query.where(column >= day))


def on_or_before(name: str, column: Any) -> Filter:
    """``column`` is on or before an ISO date."""
    return Filter(name, _date, lambda query, day: query.where(column <= day))


def fold_code(column: Any) -> ColumnElement[str]:
    """A code folded in SQL like :func:`fold` folds the search text: ``HĐ-2026-0001`` →
    ``hd-2026-0001``. Enough for numbers and codes, whose only letter with a diacritic is
    đ/Đ; names are searched through their stored folded column instead."""
    return func.lower(func.replace(func.replace(column, "Đ", "D"), "đ", "d"))


def like_pattern(word: str) -> str:
    """``%word%`` with ``\\``, ``%`` and ``_`` escaped (use ``escape="\\\\"``)."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_words(typed: str) -> list[str]:
    """The folded words of a search text (at most :data:`SEARCH_MAX_WORDS`)."""
    return fold(typed[:SEARCH_MAX_CHARS]).split()[:SEARCH_MAX_WORDS]


def search_condition(fields: Sequence[Any], typed: str) -> ColumnElement[bool] | None:
    """Every word of ``typed`` found in at least one of ``fields``; ``None`` for no words."""
    words = search_words(typed)
    if not words or not fields:
        return None
    return and_(
        *(or_(*(field.like(like_pattern(word), escape="\\") for field in fields)) for word in words)
    )


@dataclass(frozen=True, slots=True)
class ListState:
    """What the URL asks of a list, cleaned: only accepted values are kept.

    Attributes:
        sort, direction: a key of the listing's sorts and ``asc``/``desc``.
        search: the search text as typed (trimmed).
        filters: the parsed value of each filter present, by name.
        texts: the same filters as typed, for links and for the filter form.
        page, per_page: the page asked for (1-based) and its size.
    """

    sort: str
    direction: str
    search: str = ""
    filters: Mapping[str, Any] = field(default_factory=dict)
    texts: Mapping[str, str] = field(default_factory=dict)
    page: int = 1
    per_page: int = PAGE_SIZE

    def args(self, **changes: Any) -> dict[str, Any]:
        """Query-string arguments that give this state back, with ``changes`` applied (a value
        of ``None`` or ``""`` leaves that argument out). Page 1 and the default page size are
        left out."""
        values: dict[str, Any] = {"q": self.search, **self.texts}
        values.update(sort=self.sort, dir=self.direction)
        if self.per_page != PAGE_SIZE:
            values["per_page"] = self.per_page
        if self.page > 1:
            values["page"] = self.page
        values.update(changes)
        return {
            key: value
            for key, value in values.items()
            if value not in (None, "") and not (key == "page" and value == 1)
        }


def _positive(text: str | None, default: int, high: int) -> int:
    text = (text or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        return default
    number = int(text)
    return number if 1 <= number <= high else default


@dataclass(frozen=True, slots=True)
class Listing:
    """How one list may be sorted, filtered and searched.

    Attributes:
        sorts: sort key → the expressions it orders by (``name`` → ``name_folded``).
        default_sort, default_direction: the order with nothing asked.
        tie_breaker: a unique column (the id) ordered last, in the same direction.
        filters: the filters the URL may carry.
        search: the fields a search looks in, already folded (lower case, no diacritics).
    """

    sorts: Mapping[str, Sequence[Any]]
    default_sort: str
    default_direction: str
    tie_breaker: Any
    filters: Sequence[Filter] = ()
    search: Sequence[Any] = ()

    def __post_init__(self) -> None:
        if self.default_sort not in self.sorts or self.default_direction not in DIRECTIONS:
            raise ValueError("The default order must be one of the list's own.")
        names = [item.name for item in self.filters]
        if len(set(names)) != len(names) or RESERVED & set(names):
            raise ValueError(f"Filter names must be unique and not reserved: {names}")

    def read(self, args: Mapping[str, str]) -> ListState:
        """The state the query-string ``args`` ask for; anything not accepted is ignored."""
        sort = args.get("sort", "")
        if sort not in self.sorts:
            sort = self.default_sort
        direction = args.get("dir", "")
        if direction not in DIRECTIONS:
            direction = self.default_direction
        filters: dict[str, Any] = {}
        texts: dict[str, str] = {}
        for item in self.filters:
            typed = args.get(item.name, "")
            if not typed or len(typed) > 200:
                continue
            value = item.parse(typed)
            if value is not None:
                filters[item.name] = value
                texts[item.name] = typed.strip()
        return ListState(
            sort=sort,
            direction=direction,
            search=" ".join(args.get("q", "")[:SEARCH_MAX_CHARS].split()),
            filters=filters,
            texts=texts,
            page=_positive(args.get("page"), 1, 10**9),
            per_page=_positive(args.get("per_page"), PAGE_SIZE, MAX_PER_PAGE),
        )

    def apply(self, query: Select[Any], state: ListState) -> Select[Any]:
        """``query`` narrowed by the state's filters and search, in its order."""
        for item in self.filters:
            if item.name in state.filters:
                query = item.apply(query, state.filters[item.name])
        condition = search_condition(self.search, state.search)
        if condition is not None:
            query = query.where(condition)
        descending = state.direction == "desc"
        order = []
        for expression in self.sorts[state.sort]:
            ordered = expression.desc() if descending else expression.asc()
            # Empty values last; said only of a column that may be empty: PostgreSQL reads a
            # NOT NULL column's index backwards for DESC, but not for DESC NULLS LAST.
            order.append(ordered.nulls_last() if _may_be_empty(expression) else ordered)
        tie = self.tie_breaker.desc() if descending else self.tie_breaker.asc()
        return query.order_by(None).order_by(*order, tie)


def _may_be_empty(expression: Any) -> bool:
    """Whether a sort expression may be NULL (a column not declared NOT NULL, or anything
    else)."""
    return bool(getattr(getattr(expression, "expression", expression), "nullable", True))


def page_of(session: Session, query: Select[Any], state: ListState) -> Page[Any]:
    """One page of an ordered query's rows (scalars when it selects one entity) and the total
    count; a page past the end shows the last one."""
    total = count_rows(session, query)
    pages = max(1, -(-total // state.per_page))
    page = min(state.page, pages)
    result = session.execute(query.limit(state.per_page).offset((page - 1) * state.per_page))
    items = result.scalars().all() if len(query.column_descriptions) == 1 else result.all()
    return Page(items=items, page=page, per_page=state.per_page, total=total)


def stream(session: Session, query: Select[Any], *, batch: int = STREAM_BATCH) -> Iterator[Any]:
    """Every row of ``query`` (scalars for one entity), fetched ``batch`` at a time."""
    result = session.execute(query.execution_options(yield_per=batch))
    yield from result.scalars() if len(query.column_descriptions) == 1 else result
