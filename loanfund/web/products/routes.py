"""Loan products: everyone signed in sees the offers; administrators define them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from loanfund.domain.access import Permission
from loanfund.domain.documents import DEFAULT_REQUIRED_KINDS, document_kind_label
from loanfund.domain.errors import LoanFundError, NotFound
from loanfund.domain.products import ProductStatus, purpose_label
from loanfund.domain.schedule_text import option_label, term_titles
from loanfund.models import LoanProduct, db
from loanfund.queries import products as queries
from loanfund.services import products as services
from loanfund.services.products import product_terms as product_terms_of
from loanfund.web.authz import current_actor, permission_required
from loanfund.web.messages import flash_problems
from loanfund.web.products.forms import ProductForm

bp = Blueprint("products", __name__, url_prefix="/products")


def _product(product_id: int) -> LoanProduct:
    product = queries.get_product(db.session, product_id)
    if product is None:
        raise NotFound(_("No such loan product."))
    return product


@bp.get("/")
@permission_required(Permission.VIEW_PRODUCTS)
def list_products() -> Any:
    """The offers (administrators also see retired products)."""
    manager = current_actor().can(Permission.MANAGE_PRODUCTS)
    products = queries.list_products(db.session, offered_only=not manager)
    return render_template("products/list.html", products=products, purpose_label=purpose_label)


@bp.get("/<int:product_id>")
@permission_required(Permission.VIEW_PRODUCTS)
def detail(product_id: int) -> Any:
    product = _product(product_id)
    if product.status is not ProductStatus.ACTIVE and not current_actor().can(
        Permission.MANAGE_PRODUCTS
    ):
        raise NotFound(_("No such loan product."))
    return render_template(
        "products/detail.html",
        product=product,
        purpose_label=purpose_label,
        titles=term_titles(),
        option_label=option_label,
        status_label=services.status_label,
        required_documents=sorted(
            DEFAULT_REQUIRED_KINDS
            if product.required_documents is None
            else product.required_documents
        ),
        document_kind_label=document_kind_label,
    )


def _save(form: ProductForm, product_id: int | None) -> LoanProduct | None:
    try:
        if product_id is None:
            return services.create_product(db.session, actor=current_actor(), terms=form.terms())
        return services.update_product(
            db.session, actor=current_actor(), product_id=product_id, terms=form.terms()
        )
    except LoanFundError as error:
        db.session.rollback()
        flash_problems(error)
        return None


@bp.route("/new", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_PRODUCTS)
def new() -> Any:
    form = ProductForm()
    if form.validate_on_submit():
        product = _save(form, None)
        if product is not None:
            flash(_("Product %(code)s created.", code=product.code), "success")
            return redirect(url_for(".detail", product_id=product.id))
    return render_template("products/form.html", form=form, product=None)


@bp.route("/<int:product_id>/edit", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_PRODUCTS)
def edit(product_id: int) -> Any:
    product = _product(product_id)
    form = ProductForm(obj=product if request.method == "GET" else None)
    if request.method == "GET":
        form.fill_schedule_options(product.schedule_options)
        required = product_terms_of(product).required_documents
        form.required_documents.data = sorted(
            kind.value for kind in (DEFAULT_REQUIRED_KINDS if required is None else required)
        )
    if form.validate_on_submit():
        saved = _save(form, product.id)
        if saved is not None:
            flash(_("Product %(code)s saved.", code=saved.code), "success")
            return redirect(url_for(".detail", product_id=saved.id))
    return render_template("products/form.html", form=form, product=product)


@bp.post("/<int:product_id>/status")
@permission_required(Permission.MANAGE_PRODUCTS)
def change_status(product_id: int) -> Any:
    """Retire a product or offer it again."""
    try:
        status = ProductStatus(request.form.get("status", ""))
    except ValueError:
        abort(400)
    try:
        product = services.set_product_status(
            db.session, actor=current_actor(), product_id=product_id, status=status
        )
    except LoanFundError as error:
        db.session.rollback()
        flash_problems(error)
    else:
        label = services.status_label(status)
        flash(_("%(name)s is now %(status)s.", name=product.name, status=label), "success")
    return redirect(url_for(".detail", product_id=product_id))
