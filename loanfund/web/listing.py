"""The web side of the list pages: the list's state from the URL, links that keep it (sort
headers, the pager, the export form), the filter bar's fields, and the Excel export.

A view builds a :class:`ListView` and hands it to the template, whose macros
(``templates/macros/listing.html``) draw the filter bar, the sortable headers and the pager
from it. "Export to Excel" posts to the list's export view with the page's query string; the
view reads it as the page does and queues a background export (:func:`request_list_export`)
that rebuilds exactly the rows the filter shows, in the same order, then shows its progress.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import request, url_for
from flask_babel import gettext as _

from loanfund.domain.exports import ExportKind, ExportList, list_query
from loanfund.models import db
from loanfund.queries import lists
from loanfund.queries.listing import Listing, ListState
from loanfund.web.exports.routes import queue_export
from loanfund.web.formatting import date


@dataclass(frozen=True, slots=True)
class FilterField:
    """A filter in the filter bar: its URL parameter (one of the listing's filters), its
    label, ``select`` (with ``options`` as ``(value, label)``) or ``date``."""

    name: str
    label: str
    kind: str = "select"
    options: Sequence[tuple[str, str]] = ()

    def shown(self, value: str) -> str:
        """The value as the filter bar shows it (an option's label, a date in the locale)."""
        if self.kind == "date":
            return date(value)
        return next((label for option, label in self.options if option == value), value)


def read_state(listing: Listing) -> ListState:
    """The list's state from the request's query string (never fails)."""
    return listing.read(request.args)


@dataclass(frozen=True, slots=True)
class ListView:
    """What a list template needs to draw its filter bar, headers, pager and export link.

    Attributes:
        endpoint: the page's endpoint.
        export_endpoint: the view the export form posts to (it queues the workbook).
        state: the list's state read from the URL.
        fields: the filter bar's filters.
        sorts: sort key → its label, for the filter bar's "sort by".
        fixed: arguments every link keeps (a tab).
        placeholder: the search box's hint.
    """

    endpoint: str
    export_endpoint: str
    state: ListState
    fields: Sequence[FilterField]
    sorts: Mapping[str, str]
    fixed: Mapping[str, Any] = field(default_factory=dict)
    placeholder: str = ""

    def url(self, **changes: Any) -> str:
        """The page with this state, ``changes`` applied (``page=None`` drops the page)."""
        return url_for(self.endpoint, **self.fixed, **self.state.args(**changes))

    def page_url(self, page: int) -> str:
        return self.url(page=page)

    def sort_url(self, key: str) -> str:
        """Sorted by ``key``: ascending first, the other way round when already by it."""
        direction = "asc"
        if key == self.state.sort and self.state.direction == "asc":
            direction = "desc"
        return self.url(sort=key, dir=direction, page=None)

    def aria_sort(self, key: str) -> str:
        if key != self.state.sort:
            return "none"
        return "ascending" if self.state.direction == "asc" else "descending"

    def export_url(self) -> str:
        """Where the export form posts: the workbook of every row this filter shows (the page
        and its size dropped)."""
        return url_for(
            self.export_endpoint, **self.fixed, **self.state.args(page=None, per_page=None)
        )

    def clear_url(self) -> str:
        return url_for(self.endpoint, **self.fixed)

    @property
    def hidden(self) -> dict[str, Any]:
        """What the filter form sends besides its fields: the tab and the page size."""
        values = dict(self.fixed)
        if "per_page" in self.state.args():
            values["per_page"] = self.state.per_page
        return values

    @property
    def is_filtered(self) -> bool:
        return bool(self.state.search or self.state.texts)

    def description(self) -> str:
        """The filter in words: ``Search: “dan dien” · Status: verified · Sorted by: Amount,
        descending`` (shown on top of the export)."""
        parts = []
        if self.state.search:
            parts.append(_("Search: “%(text)s”", text=self.state.search))
        for item in self.fields:
            value = self.state.texts.get(item.name)
            if value:
                parts.append(f"{item.label}: {item.shown(value)}")
        if not parts:
            parts.append(_("No filter: every row"))
        parts.append(
            _(
                "Sorted by: %(column)s, %(direction)s",
                column=self.sorts.get(self.state.sort, self.state.sort),
                direction=_("ascending") if self.state.direction == "asc" else _("descending"),
            )
        )
        return " · ".join(parts)


def request_list_export(view: ListView, name: ExportList, *, title: str, today: dt.date) -> Any:
    """Queue the workbook of every row the list's filter shows (all pages, in the page's order)
    and show its progress page.

    What the background run needs is stored now, with no request later: the list, its query
    string (read again as the page reads it), its tab, the business day ``today``, and in the
    reader's language the sheet's ``title`` and the line on top (the day and the filter in
    words). The scope (a representative's cooperative, the reader's queue, an inspector's
    visits) is the service's to take from who asks.
    """
    return queue_export(
        ExportKind.LIST,
        {
            "list": name.value,
            "tab": str(view.fixed.get("tab", "")),
            "query": list_query(view.state.args(page=None, per_page=None)),
            "title": title,
            "description": f"{date(today)} · {view.description()}",
        },
        today=today,
        back=view.url(),
    )


def product_field() -> FilterField:
    """Filter by loan product (every product, offered or not)."""
    return FilterField("product", _("Product"), options=options(lists.product_options(db.session)))


def district_field() -> FilterField:
    """Filter by the borrower's district."""
    return FilterField(
        "district", _("District"), options=options((d, d) for d in lists.districts(db.session))
    )


def options(pairs: Iterable[tuple[Any, str]]) -> list[tuple[str, str]]:
    """``(value, label)`` pairs with the values as text, as the URL carries them."""
    return [(str(value), label) for value, label in pairs]
