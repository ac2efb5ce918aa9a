"""Reading loan products."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from loanfund.domain.products import ProductStatus
from loanfund.models import LoanProduct


def list_products(session: Session, *, offered_only: bool = False) -> list[LoanProduct]:
    """Products by name (offered ones first); a fund has a handful, so no paging."""
    query = select(LoanProduct).order_by(LoanProduct.status, LoanProduct.name)
    if offered_only:
        query = query.where(LoanProduct.status == ProductStatus.ACTIVE)
    return list(session.scalars(query))


def get_product(session: Session, product_id: int) -> LoanProduct | None:
    return session.get(LoanProduct, product_id)
