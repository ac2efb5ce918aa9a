"""The web side of the list pages: the list's state from the URL, links that keep it (sort
headers, the pager, the export), the filter bar's fields, and the Excel download.

A view builds a :class:`ListView` and hands it to the template, whose macros
(``templates/macros/listing.html``) draw the filter bar, the sortable headers and the pager
from it. The export view reads the same query string, so the workbook holds exactly the rows
the filter shows, in the same order.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from flask import request, send_file, url_for
from flask_babel import gettext as _

from loanfund.exports.lists import ListSheet, write_list
from loanfund.models import db
from loanfund.queries import lists
from loanfund.queries.listing import Listing, ListState
from loanfund.web.formatting import date
from loanfund.web.fund import current_fund, fund_digits

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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
        endpoint, export_endpoint: the page's and the workbook's endpoints.
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
        """The workbook of every row this filter shows (the page and its size dropped)."""
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


def xlsx_download(write: Callable[[IO[bytes]], Any], name: str) -> Any:
    """Send the workbook ``write`` makes as a download called ``name``."""
    out = io.BytesIO()
    write(out)
    out.seek(0)
    return send_file(out, mimetype=XLSX, as_attachment=True, download_name=name, max_age=0)


def export_list(
    view: ListView,
    sheet: ListSheet,
    rows: Iterable[Mapping[str, Any]],
    *,
    today: dt.date,
    name: str,
) -> Any:
    """The workbook of the list's rows (all those the filter shows), dated ``today``, with
    the filter in words on top, downloaded as ``name-YYYY-MM-DD.xlsx``."""
    return xlsx_download(
        lambda out: write_list(
            out,
            sheet,
            rows,
            fund_name=current_fund().name,
            description=f"{date(today)} · {view.description()}",
            digits=fund_digits(),
        ),
        f"{name}-{today.isoformat()}.xlsx",
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
