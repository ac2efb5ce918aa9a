"""The money column stores integer minor units and gives back Decimal, on both databases."""

from decimal import Decimal

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError

from loanfund.domain.access import SYSTEM
from loanfund.models import Cooperative
from loanfund.services.cooperatives import create_cooperative
from tests.conftest import TODAY, profile


@pytest.mark.parametrize("amount", [Decimal("999999999999999"), Decimal("0")])
def test_money_round_trips_exactly(session, amount):
    cooperative = create_cooperative(
        session, actor=SYSTEM, profile=profile(charter_capital=amount), today=TODAY
    )
    session.expire_all()
    stored = session.scalar(
        select(Cooperative.charter_capital).where(Cooperative.id == cooperative.id)
    )
    assert stored == amount and isinstance(stored, Decimal)
    # In the table it is the integer count of đồng, not a float or a string.
    raw = session.execute(
        text("SELECT charter_capital FROM cooperative WHERE id = :id"), {"id": cooperative.id}
    ).scalar()
    assert raw == int(amount) and isinstance(raw, int)


def test_a_float_is_refused_by_the_money_column(session):
    cooperative = create_cooperative(session, actor=SYSTEM, profile=profile(), today=TODAY)
    cooperative.charter_capital = 1500000000.0
    with pytest.raises(StatementError, match="exact Decimal"):
        session.flush()
    session.rollback()


def test_an_amount_with_more_decimals_than_the_currency_is_refused(session):
    cooperative = create_cooperative(session, actor=SYSTEM, profile=profile(), today=TODAY)
    cooperative.charter_capital = Decimal("100.5")
    with pytest.raises(StatementError, match="decimal place"):
        session.flush()
    session.rollback()
