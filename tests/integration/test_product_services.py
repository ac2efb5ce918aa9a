"""Loan products: administrators define them; every change is audited; codes are unique."""

from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import select

from loanfund.domain.errors import InvalidTransition, NotPermitted, RuleViolation
from loanfund.domain.products import ProductStatus
from loanfund.domain.roles import Role
from loanfund.models import AuditEvent
from loanfund.queries.products import list_products
from loanfund.services.accounts import actor_for
from loanfund.services.products import (
    create_product,
    product_terms,
    set_product_status,
    update_product,
)
from tests.unit.test_products import EQUIPMENT


def test_a_product_is_created_read_back_exactly_and_audited(session, factory):
    admin = actor_for(factory.user(Role.ADMIN))
    product = create_product(session, actor=admin, terms=EQUIPMENT)
    session.expire_all()
    assert product_terms(product) == EQUIPMENT  # amounts, rate 5.4 and options survive storage
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "product.create"))
    assert event.after["annual_rate_pct"] == "5.4" and event.actor_label == admin.label


def test_codes_are_unique_whatever_their_case(session, factory):
    admin = actor_for(factory.user(Role.ADMIN))
    create_product(session, actor=admin, terms=EQUIPMENT)
    with pytest.raises(RuleViolation, match="already has the code"):
        create_product(session, actor=admin, terms=replace(EQUIPMENT, code="TB-2026"))


def test_an_update_records_only_what_changed(session, factory):
    admin = actor_for(factory.user(Role.ADMIN))
    product = create_product(session, actor=admin, terms=EQUIPMENT)
    update_product(
        session,
        actor=admin,
        product_id=product.id,
        terms=replace(EQUIPMENT, annual_rate_pct=Decimal("5.1")),
    )
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "product.update"))
    assert event.before == {"annual_rate_pct": "5.4"} and event.after == {"annual_rate_pct": "5.1"}


def test_a_retired_product_is_no_longer_offered_and_can_be_offered_again(session, factory):
    admin = actor_for(factory.user(Role.ADMIN))
    product = create_product(session, actor=admin, terms=EQUIPMENT)
    set_product_status(session, actor=admin, product_id=product.id, status=ProductStatus.RETIRED)
    assert list_products(session, offered_only=True) == []
    with pytest.raises(InvalidTransition):
        set_product_status(
            session, actor=admin, product_id=product.id, status=ProductStatus.RETIRED
        )
    set_product_status(session, actor=admin, product_id=product.id, status=ProductStatus.ACTIVE)
    assert list_products(session, offered_only=True) == [product]


def test_officers_may_not_define_products(session, factory):
    officer = actor_for(factory.user(Role.OFFICER))
    with pytest.raises(NotPermitted):
        create_product(session, actor=officer, terms=EQUIPMENT)
