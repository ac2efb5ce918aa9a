"""Creating, changing and retiring loan products (administrators only; every change audited)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loanfund.domain.access import Actor, Permission, authorize
from loanfund.domain.documents import DocumentKind
from loanfund.domain.errors import InvalidTransition, NotFound, RuleViolation
from loanfund.domain.i18n import _
from loanfund.domain.products import ProductStatus, ProductTerms, PurposeCategory, check_product
from loanfund.models import LoanProduct
from loanfund.models.types import money_digits
from loanfund.services.audit import changed, record_event, snapshot

_FIELDS = (
    "code",
    "name",
    "description",
    "purposes",
    "min_amount",
    "max_amount",
    "min_term_months",
    "max_term_months",
    "default_term_months",
    "annual_rate_pct",
    "overdue_rate_pct_of_rate",
    "schedule_options",
    "required_documents",
)


def product_terms(product: LoanProduct) -> ProductTerms:
    """The domain's view of a stored product."""
    return ProductTerms(
        code=product.code,
        name=product.name,
        description=product.description,
        purposes=frozenset(PurposeCategory(value) for value in product.purposes),
        min_amount=product.min_amount,
        max_amount=product.max_amount,
        min_term_months=product.min_term_months,
        max_term_months=product.max_term_months,
        default_term_months=product.default_term_months,
        annual_rate_pct=product.annual_rate_pct,
        overdue_rate_pct_of_rate=product.overdue_rate_pct_of_rate,
        schedule_options=dict(product.schedule_options),
        required_documents=None
        if product.required_documents is None
        else frozenset(DocumentKind(kind) for kind in product.required_documents),
    )


def _problems(session: Session, terms: ProductTerms, except_id: int | None = None) -> list[str]:
    problems = check_product(terms, currency_digits=money_digits())
    taken = select(LoanProduct.id).where(func.upper(LoanProduct.code) == terms.code.upper())
    if except_id is not None:
        taken = taken.where(LoanProduct.id != except_id)
    if session.scalar(taken) is not None:
        problems.append(_("Another product already has the code %(code)s.", code=terms.code))
    return problems


def _apply(product: LoanProduct, terms: ProductTerms) -> None:
    product.code = terms.code
    product.name = terms.name.strip()
    product.description = terms.description.strip()
    product.purposes = sorted(purpose.value for purpose in terms.purposes)
    product.min_amount = terms.min_amount
    product.max_amount = terms.max_amount
    product.min_term_months = terms.min_term_months
    product.max_term_months = terms.max_term_months
    product.default_term_months = terms.default_term_months
    product.annual_rate_pct = terms.annual_rate_pct
    product.overdue_rate_pct_of_rate = terms.overdue_rate_pct_of_rate
    product.schedule_options = dict(terms.schedule_options)
    product.required_documents = (
        None
        if terms.required_documents is None
        else sorted(kind.value for kind in terms.required_documents)
    )


def create_product(session: Session, *, actor: Actor, terms: ProductTerms) -> LoanProduct:
    """Add a product, offered at once.

    Raises:
        NotPermitted: the actor may not manage products.
        RuleViolation: every problem with the definition.
    """
    authorize(actor, Permission.MANAGE_PRODUCTS)
    problems = _problems(session, terms)
    if problems:
        raise RuleViolation(problems)
    product = LoanProduct(status=ProductStatus.ACTIVE)
    _apply(product, terms)
    session.add(product)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="product.create",
        entity="loan_product",
        entity_id=product.id,
        after=snapshot(product, _FIELDS),
    )
    session.commit()
    return product


def _load(session: Session, product_id: int) -> LoanProduct:
    product = session.get(LoanProduct, product_id)
    if product is None:
        raise NotFound(_("No such loan product."))
    return product


def update_product(
    session: Session, *, actor: Actor, product_id: int, terms: ProductTerms
) -> LoanProduct:
    """Change a product. Loans already made keep the terms of their contract.

    Raises:
        NotFound, NotPermitted, RuleViolation.
    """
    authorize(actor, Permission.MANAGE_PRODUCTS)
    product = _load(session, product_id)
    problems = _problems(session, terms, except_id=product.id)
    if problems:
        raise RuleViolation(problems)
    before = snapshot(product, _FIELDS)
    _apply(product, terms)
    old, new = changed(before, snapshot(product, _FIELDS))
    if new:
        record_event(
            session,
            actor=actor,
            action="product.update",
            entity="loan_product",
            entity_id=product.id,
            before=old,
            after=new,
        )
    session.commit()
    return product


def set_product_status(
    session: Session, *, actor: Actor, product_id: int, status: ProductStatus
) -> LoanProduct:
    """Retire a product (no new applications) or offer it again.

    Raises:
        InvalidTransition: the product already has that status.
    """
    authorize(actor, Permission.MANAGE_PRODUCTS)
    product = _load(session, product_id)
    if product.status is status:
        raise InvalidTransition(
            _("%(name)s is already %(status)s.", name=product.name, status=status_label(status))
        )
    before = product.status
    product.status = status
    record_event(
        session,
        actor=actor,
        action="product.retire" if status is ProductStatus.RETIRED else "product.reoffer",
        entity="loan_product",
        entity_id=product.id,
        before={"status": before},
        after={"status": status},
    )
    session.commit()
    return product


def status_label(status: ProductStatus) -> str:
    return {ProductStatus.ACTIVE: _("offered"), ProductStatus.RETIRED: _("retired")}[status]
