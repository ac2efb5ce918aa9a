"""Forms of the administration area."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional

from loanfund.domain.policy import PARAMETERS, Kind, choice_label, parameter_label
from loanfund.domain.roles import Role
from loanfund.web.fields import (
    DecimalTextField,
    MoneyField,
    MultiCheckboxField,
    no_control_characters,
    strip_filter,
)


def role_label(role: str) -> str:
    return {
        Role.APPLICANT.value: _l("Cooperative representative"),
        Role.OFFICER.value: _l("Credit officer"),
        Role.APPROVER.value: _l("Approver"),
        Role.INSPECTOR.value: _l("Inspector"),
        Role.ADMIN.value: _l("Administrator"),
        Role.AUDITOR.value: _l("Controller"),
    }[role]


def _role_choices() -> list[SelectChoice]:
    return [SelectChoice(role.value, role_label(role.value)) for role in Role]


class EditUserForm(FlaskForm):
    """An administrator changes a user's name, roles and access."""

    full_name = StringField(
        _l("Full name"),
        validators=[
            DataRequired(_l("This field is required.")),
            Length(max=120),
            no_control_characters,
        ],
        filters=[strip_filter],
    )
    roles = MultiCheckboxField(_l("Roles"), choices=_role_choices)
    active = BooleanField(_l("May sign in"), default=True)
    submit = SubmitField(_l("Save"))


class NewUserForm(EditUserForm):
    """An administrator creates an account; without a password the user is invited by email."""

    email = EmailField(
        _l("Email"),
        validators=[
            DataRequired(_l("This field is required.")),
            Length(max=255),
            Email(_l("Enter an email address such as name@example.vn.")),
        ],
        filters=[strip_filter],
    )
    cooperative_id = SelectField(_l("Cooperative (representatives only)"), coerce=int, default=0)
    password = PasswordField(
        _l("Password (leave empty to send an invitation)"),
        validators=[
            Optional(),
            Length(min=10, max=128, message=_l("The password must have 10 to 128 characters.")),
        ],
    )


class AuditFilterForm(FlaskForm):
    """Filters of the audit log (a GET form: no CSRF needed, nothing changes)."""

    class Meta:
        csrf = False

    action = StringField(_l("Action"), validators=[Optional(), Length(max=64)])
    actor = StringField(_l("By (email)"), validators=[Optional(), Length(max=255)])
    entity = StringField(_l("Object"), validators=[Optional(), Length(max=40)])
    cooperative_id = StringField(_l("Cooperative no."), validators=[Optional(), Length(max=12)])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])


def settings_form_class() -> type[FlaskForm]:
    """The settings form, one field per policy parameter declared in ``domain.policy``."""

    class SettingsForm(FlaskForm):
        fund_name = StringField(
            _l("Fund name"),
            validators=[
                DataRequired(_l("This field is required.")),
                Length(max=200),
                no_control_characters,
            ],
            filters=[strip_filter],
        )
        fund_timezone = StringField(
            _l("Time zone"), validators=[DataRequired(), Length(max=60)], filters=[strip_filter]
        )
        submit = SubmitField(_l("Save settings"))

    for spec in PARAMETERS:
        label = parameter_label(spec.key)
        if spec.kind is Kind.CHOICE:
            field = SelectField(
                label, choices=[SelectChoice(c, choice_label(c)) for c in spec.choices]
            )
        elif spec.kind is Kind.MONEY:
            field = MoneyField(label, validators=[InputRequired(_l("This field is required."))])
        elif spec.kind is Kind.CODE:
            field = StringField(
                label,
                validators=[InputRequired(_l("This field is required.")), Length(max=20)],
                filters=[strip_filter],
            )
        else:
            field = DecimalTextField(
                label, validators=[InputRequired(_l("This field is required."))]
            )
        setattr(SettingsForm, spec.key, field)
    return SettingsForm
