"""Figures a page works out from many rows (the dashboard, the fund's position, the inspection
figures), kept until the database changes: the key holds the database's version
(``queries.freshness``), read before the figures are, so a change committed by anyone is seen
by the next page; many readers of unchanged data share one computation."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Select

from loanfund.extensions import cache
from loanfund.models import db
from loanfund.queries.freshness import data_version
from loanfund.queries.pagination import COUNT_KEEPER

T = TypeVar("T")
log = logging.getLogger(__name__)


def kept(name: str, *key: object, compute: Callable[[], T]) -> T:
    """``compute()``, or what it gave for the same ``name`` and ``key`` while the database has
    not changed since. ``key`` holds everything else the figures depend on (the day, a
    setting): plain values whose ``repr`` tells them apart."""
    version = data_version(db.session)
    if version is None:
        return compute()
    cache_key = f"{name}|{key!r}|{version}"
    try:
        found = cache.get(cache_key)
    except Exception:  # a shared cache out of reach: the page is worked out, not refused
        log.warning("figures cache unreachable; %s worked out", name, exc_info=True)
        return compute()
    if found is None:
        found = compute()
        try:
            cache.set(cache_key, found)
        except Exception:
            log.warning("figures cache unreachable; %s not kept", name, exc_info=True)
    return found


def kept_count(statement: Select[Any], compute: Callable[[], int]) -> int:
    """A list's row count, kept like the figures: the statement's SQL and values are its key
    (the same filters, search and scope count once until the database changes)."""
    compiled = statement.compile(db.session.get_bind())
    return kept("count", str(compiled), sorted(compiled.params.items()), compute=compute)


def keep_counts() -> None:
    """Before each request: the lists' counts of this request's session go through
    :func:`kept_count` (``queries.pagination.count_rows``)."""
    db.session.info[COUNT_KEEPER] = kept_count
