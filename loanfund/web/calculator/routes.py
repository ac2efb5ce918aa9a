"""The loan calculator, open to everyone: the same engine the fund's loans use.

The form is sent by GET, so a result can be bookmarked or shared, and the Excel download is the
same link with ``.xlsx``. Choosing a product fills in its rate and proposed terms; terms outside
the product's limits still give a schedule, with a warning that says what the product allows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from wtforms import SelectChoice

from loanfund.domain.errors import RuleViolation
from loanfund.domain.products import check_within_product, installments_for
from loanfund.domain.schedule import (
    Schedule,
    ScheduleTerms,
    build_schedule,
    explain_installment,
    parse_terms,
)
from loanfund.domain.schedule_text import option_label, term_titles
from loanfund.exports.schedule_xlsx import schedule_workbook
from loanfund.models import LoanProduct, db
from loanfund.queries.products import list_products
from loanfund.services.products import product_terms
from loanfund.web.calculator.forms import CalculatorForm
from loanfund.web.clock import fund_today
from loanfund.web.fund import current_fund, fund_digits

bp = Blueprint("calculator", __name__, url_prefix="/calculator")


def _offered(products: list[LoanProduct], product_id: int | None) -> LoanProduct | None:
    return next((p for p in products if p.id == product_id), None)


def _prefill(form: CalculatorForm, product: LoanProduct, today: dt.date) -> None:
    """Start from the product: its usual loan (smallest amount, usual term), disbursed today."""
    form.product.data = product.id
    form.principal.data = product.min_amount
    form.annual_rate_pct.data = product.annual_rate_pct
    form.fill_schedule_options(product.schedule_options)
    form.installments.data = installments_for(
        product.default_term_months, form.frequency.data, form.every.data
    )
    form.disbursed_on.data = today


def _compute(
    form: CalculatorForm, product: LoanProduct | None, *, submitted: bool
) -> tuple[ScheduleTerms | None, Schedule | None, list[str], list[str]]:
    """The terms, the schedule, the problems that prevent it, and the product's warnings.

    A submitted form is validated first; a form prefilled from a product holds sound values.
    """
    if submitted and not form.validate():
        return None, None, [], []
    try:
        terms = parse_terms(form.terms_data(), default_currency_digits=fund_digits())
    except RuleViolation as error:
        return None, None, list(error.problems), []
    schedule = build_schedule(terms)
    warnings = check_within_product(product_terms(product), terms) if product else []
    return terms, schedule, [], warnings


def _form(
    products: list[LoanProduct],
) -> tuple[CalculatorForm, LoanProduct | None, bool, bool]:
    """The form, the chosen product, whether to read the form as sent, and whether to compute.

    The first visit starts from the first product offered. Choosing another product refills
    the form with that product's terms (``terms_of`` says which product the values came from);
    any other change is read as typed.
    """
    args = request.args
    sent = "principal" in args
    if "product" in args:
        product = _offered(products, args.get("product", type=int))
    else:
        product = products[0] if products and not sent else None
    switched = sent and product is not None and args.get("terms_of", type=int) != product.id
    submitted = sent and not switched
    form = CalculatorForm(formdata=args if submitted else None)
    form.product.choices = [SelectChoice(0, _("None: enter every term"))] + [
        SelectChoice(product.id, f"{product.name} ({product.code})") for product in products
    ]
    if not submitted:
        if product is not None:
            _prefill(form, product, fund_today())
        else:
            form.disbursed_on.data = fund_today()
    form.terms_of.data = product.id if product is not None else 0
    return form, product, submitted, submitted or product is not None


def _as_query(form: CalculatorForm) -> dict[str, str]:
    """The form's values as the reader typed them (or as their locale writes them), for the
    explain and download links. Locale-formatted numbers read back the same way in that locale,
    where a plain ``5.125`` would read as five thousand in Vietnamese."""
    query: dict[str, str] = {}
    for field in form:
        if hasattr(field, "_value"):
            value = field._value()
        else:
            value = "" if field.data is None else str(field.data)
        if value != "":
            query[field.name] = value
    return query


@bp.get("/")
def calculator() -> Any:
    products = list_products(db.session, offered_only=True)
    form, product, submitted, ready = _form(products)
    terms = schedule = None
    problems: list[str] = []
    warnings: list[str] = []
    explanation: list[str] = []
    explain_n = request.args.get("explain", type=int)
    if ready:
        terms, schedule, problems, warnings = _compute(form, product, submitted=submitted)
        if terms and schedule and explain_n and 1 <= explain_n <= len(schedule.installments):
            explanation = explain_installment(terms, schedule, explain_n)
    query = _as_query(form) if terms else {}
    return render_template(
        "calculator/calculator.html",
        form=form,
        product=product,
        terms=terms,
        schedule=schedule,
        problems=problems,
        warnings=warnings,
        explanation=explanation,
        explain_n=explain_n if explanation else None,
        query=query,
        titles=term_titles(),
        option_label=option_label,
    )


@bp.get("/schedule.xlsx")
def download() -> Any:
    """The same schedule as an Excel workbook; with bad terms, back to the form that says why."""
    products = list_products(db.session, offered_only=True)
    form, product, submitted, ready = _form(products)
    terms, schedule = None, None
    if ready:
        terms, schedule, _problems, _warnings = _compute(form, product, submitted=submitted)
    if terms is None or schedule is None:
        return redirect(url_for(".calculator", **request.args))
    fund = current_fund()
    workbook = schedule_workbook(
        terms, schedule, currency=fund.currency, digits=fund_digits(), date_format="dd/mm/yyyy"
    )
    name = f"schedule-{terms.principal}-{terms.disbursed_on.isoformat()}.xlsx"
    return Response(
        workbook,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
