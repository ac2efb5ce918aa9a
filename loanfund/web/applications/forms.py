"""The applicant's forms: the application itself, documents, answers, withdrawal."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    Form,
    FormField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields import FieldList
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from loanfund.domain.applications import (
    MAX_PROJECT_YEARS,
    ApplicationDraft,
    CashFlowLine,
    CollateralItem,
    CollateralKind,
    GuarantorItem,
    PriorityCategory,
    collateral_kind_label,
    priority_label,
)
from loanfund.domain.documents import DocumentKind, document_kind_label
from loanfund.domain.products import MAX_TERM_MONTHS, PurposeCategory, purpose_label
from loanfund.web.fields import MoneyField, no_control_characters, strip_filter
from loanfund.web.schedule_fields import ScheduleOptionFields

_text = {"filters": [strip_filter]}

#: Rows shown for repeated parts of the form (empty rows are ignored).
CASH_FLOW_ROWS = 10
COLLATERAL_ROWS = 3
GUARANTOR_ROWS = 2


def _choices(enum_class: Any, label: Any) -> Any:
    return lambda: [SelectChoice(item.value, LazyString(label, item)) for item in enum_class]


class CashFlowForm(Form):
    revenue = MoneyField(_l("Revenue"), validators=[Optional()])
    operating_costs = MoneyField(_l("Operating costs"), validators=[Optional()])


class CollateralForm(Form):
    kind = SelectField(
        _l("Kind"), choices=_choices(CollateralKind, collateral_kind_label), default="building"
    )
    description = StringField(
        _l("Description"), validators=[Length(max=500), no_control_characters], **_text
    )
    owner = StringField(_l("Owner"), validators=[Length(max=200), no_control_characters], **_text)
    estimated_value = MoneyField(_l("Estimated value"), validators=[Optional()])

    def is_blank(self) -> bool:
        return not (self.description.data or self.owner.data or self.estimated_value.data)


class GuarantorForm(Form):
    name = StringField(_l("Name"), validators=[Length(max=200), no_control_characters], **_text)
    relationship = StringField(
        _l("Relationship to the cooperative"),
        validators=[Length(max=200), no_control_characters],
        **_text,
    )
    contact = StringField(
        _l("Address or phone"), validators=[Length(max=200), no_control_characters], **_text
    )


class ApplicationForm(FlaskForm, ScheduleOptionFields):
    product_id = SelectField(_l("Loan product"), coerce=int)
    amount = MoneyField(
        _l("Amount asked for"),
        validators=[InputRequired(_l("Enter the amount you ask for."))],
        minimum=Decimal(1),
    )
    term_months = IntegerField(
        _l("Term (months)"),
        validators=[
            InputRequired(_l("Enter the term in months.")),
            NumberRange(1, MAX_TERM_MONTHS),
        ],
    )
    purpose = SelectField(
        _l("Purpose"), choices=_choices(PurposeCategory, purpose_label), default="equipment"
    )
    priority = SelectField(
        _l("Priority category"),
        choices=_choices(PriorityCategory, priority_label),
        default="none",
        description=_l("The fund lends first to these; the appraisal checks the claim."),
    )
    purpose_description = TextAreaField(
        _l("What the loan will pay for"),
        validators=[Length(max=2000), no_control_characters],
        render_kw={"rows": 3},
        **_text,
    )
    project_description = TextAreaField(
        _l("The project"),
        validators=[Length(max=5000), no_control_characters],
        render_kw={"rows": 5},
        description=_l("What you will produce or sell, for whom, with which equipment and people."),
        **_text,
    )
    project_cost = MoneyField(
        _l("Total project cost"), validators=[InputRequired(_l("Enter the project's total cost."))]
    )
    own_equity = MoneyField(
        _l("Own equity in the project"),
        validators=[InputRequired(_l("Enter the cooperative's own contribution."))],
    )
    members_benefiting = IntegerField(
        _l("Members benefiting"), default=0, validators=[Optional(), NumberRange(0, 1_000_000)]
    )
    jobs_created = IntegerField(
        _l("Jobs created"), default=0, validators=[Optional(), NumberRange(0, 1_000_000)]
    )
    cash_flows = FieldList(
        FormField(CashFlowForm), min_entries=CASH_FLOW_ROWS, max_entries=MAX_PROJECT_YEARS
    )
    collateral = FieldList(FormField(CollateralForm), min_entries=COLLATERAL_ROWS, max_entries=10)
    unsecured_requested = BooleanField(_l("We ask for an unsecured loan (no collateral)"))
    guarantors = FieldList(FormField(GuarantorForm), min_entries=GUARANTOR_ROWS, max_entries=5)
    submit = SubmitField(_l("Save the draft"))

    def draft(self) -> ApplicationDraft:
        """The form's content; empty rows are left out."""
        lines = []
        for number, row in enumerate(self.cash_flows, start=1):
            revenue, costs = row.form.revenue.data, row.form.operating_costs.data
            if revenue is None and costs is None:
                continue
            lines.append(CashFlowLine(number, revenue or Decimal(0), costs or Decimal(0)))
        collateral = tuple(
            CollateralItem(
                CollateralKind(row.form.kind.data),
                row.form.description.data or "",
                row.form.owner.data or "",
                row.form.estimated_value.data or Decimal(0),
            )
            for row in self.collateral
            if not row.form.is_blank()
        )
        guarantors = tuple(
            GuarantorItem(
                row.form.name.data or "",
                row.form.relationship.data or "",
                row.form.contact.data or "",
            )
            for row in self.guarantors
            if row.form.name.data or row.form.relationship.data or row.form.contact.data
        )
        return ApplicationDraft(
            product_id=self.product_id.data,
            amount=self.amount.data,
            term_months=self.term_months.data,
            schedule_options=self.schedule_options(),
            purpose=PurposeCategory(self.purpose.data),
            purpose_description=self.purpose_description.data or "",
            project_description=self.project_description.data or "",
            project_cost=self.project_cost.data,
            own_equity=self.own_equity.data,
            members_benefiting=self.members_benefiting.data or 0,
            jobs_created=self.jobs_created.data or 0,
            cash_flows=tuple(lines),
            collateral=collateral,
            guarantors=guarantors,
            unsecured_requested=bool(self.unsecured_requested.data),
            priority=PriorityCategory(self.priority.data),
        )

    def fill(self, draft: ApplicationDraft) -> None:
        """Show a saved application in the form."""
        self.product_id.data = draft.product_id
        self.amount.data = draft.amount
        self.term_months.data = draft.term_months
        self.fill_schedule_options(draft.schedule_options)
        self.purpose.data = draft.purpose.value
        self.purpose_description.data = draft.purpose_description
        self.project_description.data = draft.project_description
        self.project_cost.data = draft.project_cost
        self.own_equity.data = draft.own_equity
        self.members_benefiting.data = draft.members_benefiting
        self.jobs_created.data = draft.jobs_created
        self.unsecured_requested.data = draft.unsecured_requested
        self.priority.data = draft.priority.value
        for row, line in zip(self.cash_flows, draft.cash_flows, strict=False):
            row.form.revenue.data = line.revenue
            row.form.operating_costs.data = line.operating_costs
        while len(self.collateral) < len(draft.collateral):
            self.collateral.append_entry()
        for row, item in zip(self.collateral, draft.collateral, strict=False):
            row.form.kind.data = item.kind.value
            row.form.description.data = item.description
            row.form.owner.data = item.owner
            row.form.estimated_value.data = item.estimated_value
        while len(self.guarantors) < len(draft.guarantors):
            self.guarantors.append_entry()
        for row, guarantor in zip(self.guarantors, draft.guarantors, strict=False):
            row.form.name.data = guarantor.name
            row.form.relationship.data = guarantor.relationship
            row.form.contact.data = guarantor.contact


class DocumentForm(FlaskForm):
    kind = SelectField(
        _l("Document"), choices=_choices(DocumentKind, document_kind_label), default="other"
    )
    file = FileField(
        _l("File (PDF, JPEG or PNG)"), validators=[FileRequired(_l("Choose a file to upload."))]
    )
    upload = SubmitField(_l("Upload"))


class MessageForm(FlaskForm):
    body = TextAreaField(
        _l("Message"),
        validators=[
            DataRequired(_l("Write the message.")),
            Length(max=5000),
            no_control_characters,
        ],
        render_kw={"rows": 4},
        **_text,
    )
    send = SubmitField(_l("Send"))


class WithdrawForm(FlaskForm):
    reason = TextAreaField(
        _l("Why do you withdraw the application? (optional)"),
        validators=[Length(max=2000), no_control_characters],
        render_kw={"rows": 2},
        **_text,
    )
    withdraw = SubmitField(_l("Withdraw the application"))


class ConfirmForm(FlaskForm):
    """A button that only needs the CSRF token (submit, start appraisal…)."""

    confirm = SubmitField(_l("Confirm"))
