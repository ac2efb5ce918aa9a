"""Figures kept between pages until the database changes (``web.figures``,
``queries.freshness``): a change committed by anyone shows on the next page, and unchanged
data is worked out once."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from loanfund.extensions import cache
from loanfund.models import Cooperative, Loan, Setting, User, db
from loanfund.queries.freshness import data_version
from loanfund.services.accounts import actor_for
from loanfund.services.repayments import record_repayment
from loanfund.web.main import routes as main_routes
from tests.conftest import TODAY
from tests.web.test_dashboard import _figures


def _statements(app, client, url):
    """The page, and the SQL statements it ran."""
    seen = []

    def count(*_args):
        seen.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return response.get_data(as_text=True), len(seen)


def test_unchanged_figures_are_read_once_and_a_receipt_shows_on_the_next_page(
    app, client, session, demo_admin, monkeypatch
):
    monkeypatch.setattr(main_routes, "fund_today", lambda: TODAY)
    first, worked_out = _statements(app, client, "/dashboard")
    again, kept = _statements(app, client, "/dashboard")
    assert again == first
    # The dashboard's figures take some 25 statements; kept, the page runs only its own few
    # (the user, the settings, the version).
    assert worked_out - kept >= 15, (worked_out, kept)

    officer = actor_for(session.scalar(select(User).where(User.email.like("officer@%"))))
    loan = session.scalar(select(Loan).where(Loan.principal_outstanding > 0).order_by(Loan.id))
    record_repayment(
        session,
        actor=officer,
        loan_id=loan.id,
        received_on=TODAY,
        amount=Decimal(1_234_567),
        channel="bank",
        reference="kept-figures",
        idempotency_key="kept-figures-1",
        today=TODAY,
    )
    session.commit()
    after, _count = _statements(app, client, "/dashboard")
    # The receipt came into the fund's cash, to the đồng.
    assert _figures(after)["cash"] - _figures(first)["cash"] == Decimal(1_234_567)


def test_a_list_count_follows_a_new_row(app, client, session, demo_admin):
    def shown_total():
        page = client.get("/cooperatives/").get_data(as_text=True)
        return int(re.search(r"Rows \d+–\d+ of (\d+)", page).group(1))

    before = session.scalar(select(func.count()).select_from(Cooperative))
    assert shown_total() == before == shown_total()
    model = session.scalar(select(Cooperative))
    session.add(
        Cooperative(
            **{
                column.key: getattr(model, column.key)
                for column in Cooperative.__table__.columns
                if column.key
                not in ("id", "registration_no", "tax_code", "name", "name_folded", "created_at")
            },
            name="HTX Thử Đếm",
            name_folded="htx thu dem",
            registration_no="COUNT-0001",
            tax_code="9999999999",
        )
    )
    session.commit()
    assert shown_total() == before + 1


def test_the_version_moves_with_a_commit_and_not_with_a_read(app, session):
    version = data_version(session)
    assert version is not None
    session.scalar(select(Cooperative.id))
    session.commit()
    assert data_version(session) == version
    # Another session commits a change.
    with Session(db.engine) as other:
        other.add(Setting(key="kept-figures-test", value="1"))
        other.commit()
    moved = data_version(session)
    assert moved is not None and moved != version
    # A change of this session's own, not yet committed: no version (nothing is kept).
    session.add(Setting(key="kept-figures-mine", value="1"))
    assert data_version(session) is None
    session.flush()
    assert data_version(session) is None
    session.commit()
    assert data_version(session) not in (None, moved)


@pytest.mark.parametrize("days", [0, 1])
def test_figures_of_another_day_are_not_given_for_today(
    app, client, session, demo_admin, monkeypatch, days
):
    monkeypatch.setattr(main_routes, "fund_today", lambda: TODAY)
    client.get("/dashboard")
    monkeypatch.setattr(main_routes, "fund_today", lambda: TODAY + dt.timedelta(days=days))
    _page, count = _statements(app, client, "/dashboard")
    assert (count > 15) == bool(days)


def test_an_unreachable_cache_gives_the_page_worked_out(
    app, client, session, demo_admin, monkeypatch
):
    """A shared cache (redis) out of reach costs time, never the page."""

    def unreachable(*_args, **_kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(main_routes, "fund_today", lambda: TODAY)
    expected = client.get("/dashboard").get_data(as_text=True)
    monkeypatch.setattr(cache, "get", unreachable)
    monkeypatch.setattr(cache, "set", unreachable)
    response = client.get("/dashboard")
    assert response.status_code == 200
    assert _figures(response.get_data(as_text=True)) == _figures(expected)
