"""Forms of the loans area."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from loanfund.web.fields import MoneyField, no_control_characters, strip_filter

_text = {"filters": [strip_filter]}


class SignForm(FlaskForm):
    signed_on = DateField(
        _l("Signed on"), validators=[InputRequired(_l("Enter the day the contract was signed."))]
    )
    sign = SubmitField(_l("Record the signing"))


class TrancheRequestForm(FlaskForm):
    #: A one-time key written into the form when it is shown: sent twice, it makes one tranche.
    idempotency_key = HiddenField(validators=[DataRequired(), Length(min=16, max=64)])
    amount = MoneyField(
        _l("Amount"), validators=[InputRequired(_l("Enter the amount."))], minimum=Decimal(1)
    )
    value_date = DateField(
        _l("Value date"), validators=[InputRequired(_l("Enter the day the money leaves."))]
    )
    payee = StringField(
        _l("Payee"),
        validators=[DataRequired(_l("Give the payee.")), Length(max=200), no_control_characters],
        **_text,
    )
    account = StringField(
        _l("Bank account"),
        validators=[
            DataRequired(_l("Give the payee's bank account.")),
            Length(max=60),
            no_control_characters,
        ],
        **_text,
    )
    reference = StringField(
        _l("Reference (payment order)"),
        validators=[Length(max=120), no_control_characters],
        **_text,
    )
    request = SubmitField(_l("Request the tranche"))


class CancelForm(FlaskForm):
    reason = TextAreaField(
        _l("Why is it cancelled?"),
        validators=[DataRequired(_l("Say why.")), Length(max=1000), no_control_characters],
        render_kw={"rows": 2},
        **_text,
    )
    cancel = SubmitField(_l("Cancel the tranche"))


class RepaymentForm(FlaskForm):
    idempotency_key = HiddenField(validators=[DataRequired(), Length(min=16, max=64)])
    received_on = DateField(
        _l("Received on"), validators=[InputRequired(_l("Enter the day the money arrived."))]
    )
    amount = MoneyField(
        _l("Amount received"),
        validators=[InputRequired(_l("Enter the amount received."))],
        minimum=Decimal(1),
    )
    channel = SelectField(
        _l("Received by"),
        choices=[SelectChoice("bank", _l("Bank transfer")), SelectChoice("cash", _l("Cash"))],
        default="bank",
    )
    reference = StringField(
        _l("Reference (bank voucher, receipt no.)"),
        validators=[Length(max=120), no_control_characters],
        **_text,
    )
    record = SubmitField(_l("Record the receipt"))


class RestructureForm(FlaskForm):
    kind = SelectField(
        _l("Kind"),
        choices=[
            SelectChoice("reschedule", _l("Rescheduling within the term")),
            SelectChoice("extension", _l("Extension beyond the maturity")),
        ],
        default="reschedule",
    )
    request_on = DateField(
        _l("Borrower's request dated"),
        validators=[InputRequired(_l("Enter the date of the borrower's written request."))],
    )
    request_reference = StringField(
        _l("Reference of the request"),
        validators=[
            DataRequired(_l("Give the reference of the borrower's written request.")),
            Length(max=120),
            no_control_characters,
        ],
        **_text,
    )
    reason = TextAreaField(
        _l("Reason"),
        validators=[
            DataRequired(_l("Say why the loan should be restructured.")),
            Length(max=4000),
            no_control_characters,
        ],
        render_kw={"rows": 3},
        **_text,
    )
    installments = IntegerField(
        _l("New installments"),
        validators=[
            InputRequired(_l("Enter how many installments the new schedule has.")),
            NumberRange(min=1, max=600, message=_l("Between 1 and 600 installments.")),
        ],
    )
    first_due_on = DateField(
        _l("First new installment due on"),
        validators=[InputRequired(_l("Enter the first new due date."))],
    )
    preview = SubmitField(_l("Show the new schedule"))
    propose = SubmitField(_l("Propose the restructuring"))
