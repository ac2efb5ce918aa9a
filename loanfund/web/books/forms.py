"""Forms of the books area."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectChoice, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from loanfund.services.ledger import DESCRIPTION_MAX, REFERENCE_MAX
from loanfund.web.fields import MoneyField, no_control_characters, strip_filter


class CapitalContributionForm(FlaskForm):
    kind = SelectField(
        _l("Movement"),
        choices=[
            SelectChoice("contribution", _l("Capital received (contribution)")),
            SelectChoice("withdrawal", _l("Capital paid back (withdrawal)")),
        ],
        default="contribution",
    )
    amount = MoneyField(_l("Amount"), validators=[InputRequired(_l("Enter the amount."))])
    value_date = DateField(
        _l("Value date"), validators=[InputRequired(_l("Enter the date the bank received it."))]
    )
    source = TextAreaField(
        _l("From or to whom, under which decision"),
        validators=[
            DataRequired(_l("Say who contributed the capital.")),
            Length(max=DESCRIPTION_MAX),
            no_control_characters,
        ],
        filters=[strip_filter],
        render_kw={"rows": 2},
    )
    reference = StringField(
        _l("Voucher or decision number"),
        validators=[
            DataRequired(_l("Give the bank voucher or decision number.")),
            Length(max=REFERENCE_MAX),
            no_control_characters,
        ],
        filters=[strip_filter],
    )
    submit = SubmitField(_l("Record for approval"))


class CancelMovementForm(FlaskForm):
    reason = TextAreaField(
        _l("Why is it cancelled?"),
        validators=[DataRequired(_l("Say why.")), Length(max=1000), no_control_characters],
        filters=[strip_filter],
        render_kw={"rows": 2},
    )
    cancel = SubmitField(_l("Cancel"))
