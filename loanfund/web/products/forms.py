"""The loan product form."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectChoice, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from loanfund.domain.documents import DEFAULT_REQUIRED_KINDS, DocumentKind, document_kind_label
from loanfund.domain.products import MAX_TERM_MONTHS, ProductTerms, PurposeCategory, purpose_label
from loanfund.web.fields import (
    DecimalTextField,
    MoneyField,
    MultiCheckboxField,
    no_control_characters,
    strip_filter,
)
from loanfund.web.schedule_fields import ScheduleOptionFields


def _purpose_choices() -> list[SelectChoice]:
    return [
        SelectChoice(purpose.value, LazyString(purpose_label, purpose))
        for purpose in PurposeCategory
    ]


#: Documents a product may require (collateral papers follow the collateral offered).
_DOCUMENT_CHOICES = tuple(
    kind
    for kind in DocumentKind
    if kind
    not in (DocumentKind.COLLATERAL_PAPERS, DocumentKind.INFORMATION_REPLY, DocumentKind.OTHER)
)


def _document_choices() -> list[SelectChoice]:
    return [
        SelectChoice(kind.value, LazyString(document_kind_label, kind))
        for kind in _DOCUMENT_CHOICES
    ]


def _months(label: LazyString) -> IntegerField:
    return IntegerField(
        label,
        validators=[
            InputRequired(_l("Enter a number of months.")),
            NumberRange(1, MAX_TERM_MONTHS),
        ],
    )


class ProductForm(FlaskForm, ScheduleOptionFields):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(_l("Give the product a code.")), Length(max=20)],
        filters=[strip_filter, lambda value: value.upper() if isinstance(value, str) else value],
        description=_l("Printed on contracts, e.g. VUD-2026."),
    )
    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Give the product a name.")), Length(max=200)],
        filters=[strip_filter],
    )
    description = TextAreaField(
        _l("Who it is for and what it finances"),
        validators=[Length(max=2000), no_control_characters],
        filters=[strip_filter],
        render_kw={"rows": 3},
    )
    purposes = MultiCheckboxField(_l("Purposes it finances"), choices=_purpose_choices)
    min_amount = MoneyField(
        _l("Smallest loan"), validators=[InputRequired(_l("Enter the smallest loan."))]
    )
    max_amount = MoneyField(
        _l("Largest loan"), validators=[InputRequired(_l("Enter the largest loan."))]
    )
    min_term_months = _months(_l("Shortest term (months)"))
    max_term_months = _months(_l("Longest term (months)"))
    default_term_months = _months(_l("Usual term (months)"))
    annual_rate_pct = DecimalTextField(
        _l("Annual interest rate (%)"),
        validators=[InputRequired(_l("Enter the annual rate."))],
    )
    overdue_rate_pct_of_rate = DecimalTextField(
        _l("Overdue interest (percent of the rate)"),
        validators=[InputRequired(_l("Enter the overdue rate."))],
        default=Decimal(150),
        description=_l("At most 150 %: overdue principal bears up to 1.5 times the rate."),
    )
    required_documents = MultiCheckboxField(
        _l("Documents every application needs"),
        choices=_document_choices,
        default=sorted(kind.value for kind in DEFAULT_REQUIRED_KINDS),
        description=_l("Collateral papers are required whenever collateral is offered."),
    )
    submit = SubmitField(_l("Save the product"))

    def terms(self) -> ProductTerms:
        return ProductTerms(
            code=self.code.data or "",
            name=self.name.data or "",
            description=self.description.data or "",
            purposes=frozenset(PurposeCategory(value) for value in self.purposes.data or ()),
            min_amount=self.min_amount.data,
            max_amount=self.max_amount.data,
            min_term_months=self.min_term_months.data,
            max_term_months=self.max_term_months.data,
            default_term_months=self.default_term_months.data,
            annual_rate_pct=self.annual_rate_pct.data,
            overdue_rate_pct_of_rate=self.overdue_rate_pct_of_rate.data,
            schedule_options=self.schedule_options(),
            required_documents=frozenset(
                DocumentKind(value) for value in self.required_documents.data or ()
            ),
        )
