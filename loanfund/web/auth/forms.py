"""The cooperative sign-up form: the cooperative's profile and its representative's account."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from loanfund.web.cooperatives.forms import CooperativeProfileForm
from loanfund.web.fields import no_control_characters, strip_filter


class SignUpForm(CooperativeProfileForm):
    """A representative signs up their cooperative and themselves."""

    full_name = StringField(
        _l("Your full name"),
        validators=[
            DataRequired(_l("This field is required.")),
            Length(max=120),
            no_control_characters,
        ],
        filters=[strip_filter],
    )
    email = EmailField(
        _l("Your email (to sign in)"),
        validators=[
            DataRequired(_l("This field is required.")),
            Length(max=255),
            Email(_l("Enter an email address such as name@example.vn.")),
        ],
        filters=[strip_filter],
    )
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(_l("This field is required.")),
            Length(min=10, max=128, message=_l("The password must have 10 to 128 characters.")),
        ],
    )
    password_confirm = PasswordField(
        _l("Repeat the password"),
        validators=[EqualTo("password", message=_l("The two passwords are not the same."))],
    )
