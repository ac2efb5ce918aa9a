"""Forms of the cooperatives area."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    EmailField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

from loanfund.domain.cooperatives import CooperativeProfile, LegalType
from loanfund.web.fields import MoneyField, no_control_characters, strip_filter

_text = {"filters": [strip_filter]}


def legal_type_choices() -> list[SelectChoice]:
    return [
        SelectChoice(LegalType.COOPERATIVE.value, _l("Cooperative")),
        SelectChoice(LegalType.COOPERATIVE_UNION.value, _l("Cooperative union")),
        SelectChoice(LegalType.GROUP_MEMBER.value, _l("Member of a cooperative group")),
    ]


def _required(max_length: int) -> list:
    return [
        DataRequired(_l("This field is required.")),
        Length(max=max_length),
        no_control_characters,
    ]


class CooperativeProfileForm(FlaskForm):
    """The cooperative's profile, as entered by its representative or by staff."""

    name = StringField(_l("Name of the cooperative"), _required(200), **_text)
    legal_type = SelectField(
        _l("Legal type"), choices=legal_type_choices, validators=[InputRequired()]
    )
    registration_no = StringField(_l("Registration certificate number"), _required(30), **_text)
    tax_code = StringField(_l("Tax code"), _required(14), **_text)
    province = StringField(_l("Province"), _required(80), **_text)
    district = StringField(_l("District"), _required(80), **_text)
    address = StringField(_l("Address"), _required(255), **_text)
    sector = StringField(_l("Sector and main products"), _required(200), **_text)
    founded_on = DateField(
        _l("Founding date"),
        validators=[InputRequired(_l("Enter the founding date."))],
    )
    members_count = IntegerField(
        _l("Members"),
        validators=[InputRequired(_l("Enter the number of members.")), NumberRange(1, 1_000_000)],
    )
    women_members = IntegerField(
        _l("Women members"), default=0, validators=[InputRequired(), NumberRange(0, 1_000_000)]
    )
    ethnic_minority_members = IntegerField(
        _l("Ethnic-minority members"),
        default=0,
        validators=[InputRequired(), NumberRange(0, 1_000_000)],
    )
    charter_capital = MoneyField(
        _l("Charter capital"), validators=[InputRequired(_l("Enter the charter capital."))]
    )
    contact_name = StringField(_l("Contact person"), _required(120), **_text)
    contact_phone = StringField(_l("Contact phone"), _required(20), **_text)
    contact_email = EmailField(
        _l("Contact email"),
        validators=[
            DataRequired(_l("This field is required.")),
            Length(max=255),
            Email(_l("Enter an email address such as name@example.vn.")),
        ],
        **_text,
    )
    submit = SubmitField(_l("Save"))

    def to_profile(self) -> CooperativeProfile:
        return CooperativeProfile(
            name=self.name.data,
            legal_type=LegalType(self.legal_type.data),
            registration_no=self.registration_no.data,
            tax_code=self.tax_code.data,
            province=self.province.data,
            district=self.district.data,
            address=self.address.data,
            sector=self.sector.data,
            founded_on=self.founded_on.data,
            members_count=self.members_count.data,
            women_members=self.women_members.data,
            ethnic_minority_members=self.ethnic_minority_members.data,
            charter_capital=self.charter_capital.data,
            contact_name=self.contact_name.data,
            contact_phone=self.contact_phone.data,
            contact_email=self.contact_email.data.lower(),
        )


class StatusActionForm(FlaskForm):
    """A verification decision on a cooperative, with the reason the cooperative will read."""

    action = StringField(validators=[DataRequired(), Length(max=20)])
    expected_status = StringField(validators=[DataRequired(), Length(max=20)])
    reason = TextAreaField(
        _l("Reason (shown to the cooperative)"),
        validators=[Optional(), Length(max=2000), no_control_characters],
        **_text,
    )


class InviteRepresentativeForm(FlaskForm):
    """Invite a cooperative's representative to create their password."""

    full_name = StringField(_l("Full name"), _required(120), **_text)
    email = EmailField(
        _l("Email"),
        validators=[
            DataRequired(_l("This field is required.")),
            Length(max=255),
            Email(_l("Enter an email address such as name@example.vn.")),
        ],
        **_text,
    )
    submit = SubmitField(_l("Send invitation"))


class RelatedBorrowerForm(FlaskForm):
    """Link another cooperative as a related borrower (their exposures count together)."""

    related_id = SelectField(_l("Related cooperative"), coerce=int)
    reason = TextAreaField(
        _l("Why they are related (common owners, managers or money)"),
        validators=[
            DataRequired(_l("Say why they are related.")),
            Length(max=1000),
            no_control_characters,
        ],
        filters=[strip_filter],
        render_kw={"rows": 2},
    )
    link = SubmitField(_l("Link as related borrowers"))
