"""The fund's forms on an application: assignment, requests, notes, appraisal, decision."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    Form,
    FormField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields import FieldList
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from loanfund.domain.appraisal import CreditBureauResult, Factor
from loanfund.domain.appraisal_checklist import AppraisalArea, FindingResult, result_label
from loanfund.domain.products import MAX_TERM_MONTHS
from loanfund.services.applications import Terms
from loanfund.services.appraisals import AppraisalInput
from loanfund.web.fields import MoneyField, no_control_characters, strip_filter
from loanfund.web.schedule_fields import ScheduleOptionFields

if TYPE_CHECKING:
    from loanfund.models import Appraisal, Collateral

_text = {"filters": [strip_filter]}


# --- words for values the services store as codes --------------------------------------------


def credit_bureau_label(result: str) -> str:
    return {
        CreditBureauResult.CLEAN: _("Clean: no debt overdue anywhere"),
        CreditBureauResult.MINOR: _("Minor delays, since regularised"),
        CreditBureauResult.BAD: _("Bad debt at another lender"),
    }.get(result, result)


def recommendation_label(recommendation: str) -> str:
    return {"approve": _("approve"), "reject": _("reject")}.get(recommendation, recommendation)


def verdict_label(verdict: str) -> str:
    return {
        "approve": _("approved"),
        "reject": _("rejected"),
        "return": _("returned to appraisal"),
    }.get(verdict, verdict)


def factor_label(factor: str) -> str:
    return {
        Factor.EQUITY_RATIO: _("Own equity"),
        Factor.DSCR: _("Debt-service coverage"),
        Factor.COLLATERAL: _("Collateral coverage"),
        Factor.IRR: _("Internal rate of return"),
        Factor.FINDINGS: _("Checklist findings"),
        Factor.YEARS_OPERATING: _("Years operating"),
        Factor.CREDIT_BUREAU: _("Credit-bureau check"),
    }.get(factor, factor)


def _lazy_choices(pairs: Any) -> Any:
    """Choices whose labels are translated when the form is shown."""
    return lambda: [SelectChoice(value, label) for value, label in pairs()]


# --- small forms on the application page ------------------------------------------------------


class AssignForm(FlaskForm):
    officer_id = SelectField(_l("Credit officer"), coerce=int)
    assign = SubmitField(_l("Assign"))


class RequestInfoForm(FlaskForm):
    body = TextAreaField(
        _l("What the applicant should send or explain"),
        validators=[
            DataRequired(_l("Write what the applicant should send or explain.")),
            Length(max=5000),
            no_control_characters,
        ],
        render_kw={"rows": 3},
        description=_l("The cooperative reads this message."),
        **_text,
    )
    send = SubmitField(_l("Ask the applicant"))


class NoteForm(FlaskForm):
    body = TextAreaField(
        _l("Internal note"),
        validators=[
            DataRequired(_l("Write the note.")),
            Length(max=5000),
            no_control_characters,
        ],
        render_kw={"rows": 2},
        description=_l("Only the fund's staff see notes."),
        **_text,
    )
    save = SubmitField(_l("Add the note"))


# --- the appraisal ----------------------------------------------------------------------------


class FindingForm(Form):
    """One area of the checklist (``result`` empty: not judged yet)."""

    result = SelectField(
        _l("Result"),
        choices=_lazy_choices(
            lambda: (
                [("", _("— not judged yet —"))]
                + [(result.value, result_label(result)) for result in FindingResult]
            )
        ),
        default="",
    )
    note = TextAreaField(
        _l("Note"),
        validators=[Length(max=2000), no_control_characters],
        render_kw={"rows": 2},
        **_text,
    )


class ValuationForm(Form):
    """The officer's valuation of one collateral item (empty: not valued yet)."""

    appraised_value = MoneyField(_l("Officer's valuation"), validators=[Optional()])


class AppraisalForm(FlaskForm, ScheduleOptionFields):
    findings = FieldList(
        FormField(FindingForm), min_entries=len(AppraisalArea), max_entries=len(AppraisalArea)
    )
    credit_check_on = DateField(_l("Date of the credit-bureau check"), validators=[Optional()])
    credit_check_reference = StringField(
        _l("Reference of the credit-bureau report"),
        validators=[Length(max=120), no_control_characters],
        **_text,
    )
    credit_check_result = SelectField(
        _l("Credit-bureau result"),
        choices=_lazy_choices(
            lambda: (
                [("", _("— not checked yet —"))]
                + [(result.value, credit_bureau_label(result)) for result in CreditBureauResult]
            )
        ),
        default="",
    )
    collateral_values = FieldList(FormField(ValuationForm), max_entries=50)
    recommendation = SelectField(
        _l("Recommendation"),
        choices=_lazy_choices(
            lambda: [
                ("", _("— not decided yet —")),
                ("approve", _("Approve")),
                ("reject", _("Reject")),
            ]
        ),
        default="",
    )
    amount = MoneyField(_l("Recommended amount"), validators=[Optional()], minimum=Decimal(1))
    term_months = IntegerField(
        _l("Recommended term (months)"),
        validators=[Optional(), NumberRange(1, MAX_TERM_MONTHS)],
    )
    conditions = TextAreaField(
        _l("Conditions recommended"),
        validators=[Length(max=2000), no_control_characters],
        render_kw={"rows": 3},
        description=_l("If the approver adopts them, the cooperative reads them in the letter."),
        **_text,
    )
    save = SubmitField(_l("Save the appraisal"))

    def fill(
        self, appraisal: Appraisal | None, collateral: Sequence[Collateral], asked: Terms
    ) -> None:
        """Show the saved appraisal; the recommendation starts from what was asked for."""
        saved = {finding.area: finding for finding in appraisal.findings} if appraisal else {}
        for area, row in zip(AppraisalArea, self.findings, strict=True):
            finding = saved.get(area)
            row.form.result.data = finding.result.value if finding else ""
            row.form.note.data = finding.note if finding else ""
        while len(self.collateral_values) < len(collateral):
            self.collateral_values.append_entry()
        for row, item in zip(self.collateral_values, collateral, strict=False):
            row.form.appraised_value.data = item.appraised_value
        self.amount.data = asked.amount
        self.term_months.data = asked.term_months
        self.fill_schedule_options(asked.schedule_options)
        if appraisal is None:
            return
        self.credit_check_on.data = appraisal.credit_check_on
        self.credit_check_reference.data = appraisal.credit_check_reference
        self.credit_check_result.data = appraisal.credit_check_result
        self.recommendation.data = appraisal.recommendation
        self.conditions.data = appraisal.conditions

    def appraisal_input(self, collateral: Sequence[Collateral]) -> AppraisalInput:
        """What the officer entered; collateral rows are matched to the items in page order."""
        findings = {
            area: (FindingResult(row.form.result.data), row.form.note.data or "")
            for area, row in zip(AppraisalArea, self.findings, strict=True)
            if row.form.result.data
        }
        values: dict[int, Decimal | None] = {
            item.id: row.form.appraised_value.data
            for row, item in zip(self.collateral_values, collateral, strict=False)
        }
        return AppraisalInput(
            findings=findings,
            credit_check_on=self.credit_check_on.data,
            credit_check_reference=self.credit_check_reference.data or "",
            credit_check_result=self.credit_check_result.data or "",
            recommendation=self.recommendation.data or "",
            amount=self.amount.data,
            term_months=self.term_months.data,
            schedule_options=self.schedule_options(),
            conditions=self.conditions.data or "",
            collateral_values=values,
        )


# --- the decision -----------------------------------------------------------------------------


class DecideForm(FlaskForm, ScheduleOptionFields):
    verdict = RadioField(
        _l("Decision"),
        choices=[
            ("approve", LazyString(lambda: _("Approve"))),
            ("reject", LazyString(lambda: _("Reject"))),
            ("return", LazyString(lambda: _("Return to appraisal"))),
        ],
        validators=[DataRequired(_l("Choose approve, reject or return to appraisal."))],
    )
    amount = MoneyField(_l("Amount granted"), minimum=Decimal(1))
    term_months = IntegerField(
        _l("Term (months)"), validators=[Optional(), NumberRange(1, MAX_TERM_MONTHS)]
    )
    conditions = TextAreaField(
        _l("Conditions"),
        validators=[Length(max=2000), no_control_characters],
        render_kw={"rows": 3},
        description=_l("The cooperative reads them in the decision letter."),
        **_text,
    )
    reason = TextAreaField(
        _l("Reason"),
        validators=[Length(max=2000), no_control_characters],
        render_kw={"rows": 3},
        description=_l(
            "Required to reject (the cooperative reads it) or to return the application "
            "(the officer reads it)."
        ),
        **_text,
    )
    decide = SubmitField(_l("Record my decision"))

    def validate(self, extra_validators: Any = None) -> bool:
        """The amount and term are needed only to approve."""
        valid = super().validate(extra_validators)
        if self.verdict.data == "approve":
            for field, message in (
                (self.amount, _l("Enter the amount granted.")),
                (self.term_months, _l("Enter the term in months.")),
            ):
                if field.data is None and not field.errors:
                    field.errors = [message]
                    valid = False
        return valid

    def fill(self, terms: Terms, conditions: str) -> None:
        self.amount.data = terms.amount
        self.term_months.data = terms.term_months
        self.fill_schedule_options(terms.schedule_options)
        self.conditions.data = conditions

    def terms(self) -> Terms | None:
        """The terms granted (``None`` unless approving)."""
        if self.verdict.data != "approve":
            return None
        return Terms(self.amount.data, self.term_months.data, self.schedule_options())
