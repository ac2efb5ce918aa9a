"""Form fields for schedule terms, shared by loan products and the loan calculator.

The words come from :mod:`loanfund.domain.schedule_text`, so forms, pages and the Excel export
name every term and choice alike. Whether a combination of terms is valid is the engine's to
say (:func:`loanfund.domain.schedule.parse_terms`); these fields only check types and ranges.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectChoice, SelectField
from wtforms.validators import InputRequired, NumberRange, Optional

from loanfund.domain.products import SCHEDULE_OPTIONS
from loanfund.domain.schedule import MAX_INSTALLMENTS
from loanfund.domain.schedule_text import option_labels, term_titles
from loanfund.web.fields import MoneyField

_SELECTS = ("frequency", "method", "interest_basis", "days_in_year", "rounding")


def title(term: str) -> LazyString:
    """The term's title, translated when the form is shown."""
    return LazyString(lambda: term_titles()[term])


def _choices(term: str) -> Any:
    return lambda: [SelectChoice(value, label) for value, label in option_labels(term).items()]


def _count(term: str, minimum: int, default: int) -> IntegerField:
    return IntegerField(
        title(term),
        default=default,
        validators=[
            InputRequired(_l("Enter a whole number.")),
            NumberRange(minimum, MAX_INSTALLMENTS),
        ],
    )


class ScheduleOptionFields:
    """Mix into a ``FlaskForm``: the schedule terms a product proposes (``SCHEDULE_OPTIONS``)."""

    frequency = SelectField(title("frequency"), choices=_choices("frequency"), default="month")
    every = _count("every", 1, 1)
    method = SelectField(title("method"), choices=_choices("method"), default="equal_principal")
    interest_basis = SelectField(
        title("interest_basis"), choices=_choices("interest_basis"), default="daily"
    )
    days_in_year = SelectField(
        title("days_in_year"), choices=_choices("days_in_year"), default="365"
    )
    principal_grace = _count("principal_grace", 0, 0)
    interest_deferred = _count("interest_deferred", 0, 0)
    interest_free = _count("interest_free", 0, 0)
    principal_every = _count("principal_every", 1, 1)
    rounding = SelectField(title("rounding"), choices=_choices("rounding"), default="half_up")
    installment_multiple = MoneyField(
        title("installment_multiple"), validators=[Optional()], minimum=Decimal(1)
    )
    installment_rounding = SelectField(
        title("installment_rounding"), choices=_choices("installment_rounding"), default="nearest"
    )

    def schedule_options(self) -> dict[str, Any]:
        """The options as the engine's JSON terms (decimals as strings)."""
        options: dict[str, Any] = {}
        for name in SCHEDULE_OPTIONS:
            value = self[name].data  # type: ignore[index]
            if name == "installment_multiple":
                if value is not None:
                    options[name] = str(value)
            else:
                options[name] = value
        return options

    def fill_schedule_options(self, options: Mapping[str, Any]) -> None:
        """Show stored options in the form (terms left out keep the engine's defaults)."""
        for name in SCHEDULE_OPTIONS:
            if name in options:
                value = options[name]
                self[name].data = (  # type: ignore[index]
                    Decimal(str(value)) if name == "installment_multiple" else value
                )
