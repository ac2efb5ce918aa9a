"""The calculator's form: the schedule engine's terms (sent by GET, so a result is a link)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField
from wtforms.validators import InputRequired, NumberRange, Optional

from loanfund.domain.schedule import MAX_INSTALLMENTS
from loanfund.web.fields import DecimalTextField, MoneyField
from loanfund.web.schedule_fields import ScheduleOptionFields, title


class CalculatorForm(FlaskForm, ScheduleOptionFields):
    class Meta:
        csrf = False  # a GET form that changes nothing

    product = SelectField(_l("Loan product"), coerce=int, validators=[Optional()], default=0)
    #: The product whose terms fill the form: choosing another one refills it.
    terms_of = HiddenField(default="0")
    principal = MoneyField(
        title("principal"),
        validators=[InputRequired(_l("Enter the amount to borrow."))],
        minimum=Decimal(1),
    )
    annual_rate_pct = DecimalTextField(
        title("annual_rate_pct"), validators=[InputRequired(_l("Enter the annual rate."))]
    )
    installments = IntegerField(
        title("installments"),
        validators=[
            InputRequired(_l("Enter the number of installments.")),
            NumberRange(1, MAX_INSTALLMENTS),
        ],
    )
    disbursed_on = DateField(
        title("disbursed_on"), validators=[InputRequired(_l("Enter the disbursement date."))]
    )
    first_due_on = DateField(title("first_due_on"), validators=[Optional()])

    def terms_data(self) -> dict[str, Any]:
        """The engine's JSON terms (the engine checks how they fit together)."""
        data: dict[str, Any] = {
            "principal": str(self.principal.data),
            "annual_rate_pct": str(self.annual_rate_pct.data),
            "installments": self.installments.data,
            "disbursed_on": self.disbursed_on.data.isoformat(),
            **self.schedule_options(),
        }
        if self.first_due_on.data:
            data["first_due_on"] = self.first_due_on.data.isoformat()
        return data
