"""What the system tells people, and the words it uses (made in the reader's language)."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from loanfund.domain.i18n import _, fmt_date, fmt_money


class NoticeKind(enum.StrEnum):
    APPLICATION_SUBMITTED = "application_submitted"
    APPLICATION_ASSIGNED = "application_assigned"
    INFO_REQUESTED = "info_requested"
    INFO_ANSWERED = "info_answered"
    APPRAISAL_COMPLETED = "appraisal_completed"
    FIRST_APPROVAL = "first_approval"
    RETURNED_TO_APPRAISAL = "returned_to_appraisal"
    APPLICATION_APPROVED = "application_approved"
    APPLICATION_REJECTED = "application_rejected"
    APPLICATION_WITHDRAWN = "application_withdrawn"
    RESTRUCTURING_PROPOSED = "restructuring_proposed"
    RESTRUCTURING_APPROVED = "restructuring_approved"
    RESTRUCTURING_REJECTED = "restructuring_rejected"
    INSTALLMENT_DUE_SOON = "installment_due_soon"
    INSTALLMENT_OVERDUE = "installment_overdue"
    DECISION_DUE_SOON = "decision_due_soon"
    DECISION_LATE = "decision_late"
    AWAITING_APPROVAL = "awaiting_approval"
    RECALL_PROPOSED = "recall_proposed"
    LOAN_RECALLED = "loan_recalled"
    INSPECTION_DUE = "inspection_due"
    INSPECTION_OVERDUE = "inspection_overdue"


#: Reminders a user may choose not to receive by email (they stay in the notification centre).
NON_CRITICAL: frozenset[NoticeKind] = frozenset({NoticeKind.INSTALLMENT_DUE_SOON})


def notice_text(kind: str, params: Mapping[str, Any]) -> str:
    """The sentence for a notice; ``params`` hold ``number``, ``cooperative``, ``amount``."""
    values = dict(params)
    if "amount" in values:
        values["amount"] = fmt_money(Decimal(str(values["amount"])))
    if "date" in values:
        values["date"] = fmt_date(dt.date.fromisoformat(str(values["date"])))
    if "what" in values:
        values["what"] = {
            "tranche": _("a tranche"),
            "reversal": _("the reversal of a receipt"),
            "restructuring": _("a restructuring"),
            "recall": _("the recall of a misused loan"),
        }.get(str(values["what"]), str(values["what"]))
    texts = {
        NoticeKind.APPLICATION_SUBMITTED: _(
            "%(cooperative)s submitted application %(number)s for %(amount)s."
        ),
        NoticeKind.APPLICATION_ASSIGNED: _(
            "Application %(number)s of %(cooperative)s was assigned to you."
        ),
        NoticeKind.INFO_REQUESTED: _(
            "The fund asks for more information on application %(number)s."
        ),
        NoticeKind.INFO_ANSWERED: _("%(cooperative)s answered on application %(number)s."),
        NoticeKind.APPRAISAL_COMPLETED: _(
            "Application %(number)s of %(cooperative)s is appraised and awaits a decision."
        ),
        NoticeKind.FIRST_APPROVAL: _(
            "Application %(number)s has one approval and needs a second approver."
        ),
        NoticeKind.RETURNED_TO_APPRAISAL: _(
            "Application %(number)s was returned to appraisal by the approver."
        ),
        NoticeKind.APPLICATION_APPROVED: _("Application %(number)s was approved for %(amount)s."),
        NoticeKind.APPLICATION_REJECTED: _("Application %(number)s was rejected."),
        NoticeKind.APPLICATION_WITHDRAWN: _("%(cooperative)s withdrew application %(number)s."),
        NoticeKind.RESTRUCTURING_PROPOSED: _(
            "A restructuring of loan %(number)s of %(cooperative)s awaits your decision."
        ),
        NoticeKind.RESTRUCTURING_APPROVED: _(
            "The restructuring of loan %(number)s was approved: see its new schedule."
        ),
        NoticeKind.RESTRUCTURING_REJECTED: _("The restructuring of loan %(number)s was rejected."),
        NoticeKind.INSTALLMENT_DUE_SOON: _(
            "Loan %(number)s: an installment of %(amount)s is due on %(date)s."
        ),
        NoticeKind.INSTALLMENT_OVERDUE: _(
            "Loan %(number)s of %(cooperative)s is %(days)s days overdue: %(amount)s is owed "
            "now, and penalty interest runs every day."
        ),
        NoticeKind.DECISION_DUE_SOON: _(
            "Application %(number)s of %(cooperative)s must be decided by %(date)s."
        ),
        NoticeKind.DECISION_LATE: _(
            "Application %(number)s of %(cooperative)s is past its decision date, %(date)s."
        ),
        NoticeKind.RECALL_PROPOSED: _(
            "An inspection found loan %(number)s of %(cooperative)s misused: a recall awaits "
            "a decision."
        ),
        NoticeKind.LOAN_RECALLED: _(
            "Loan %(number)s is recalled: %(amount)s of principal is due now, to be repaid by "
            "%(date)s; penalty interest runs until it is."
        ),
        NoticeKind.INSPECTION_DUE: _(
            "An inspection of loan %(number)s of %(cooperative)s is due on %(date)s."
        ),
        NoticeKind.INSPECTION_OVERDUE: _(
            "The inspection of loan %(number)s of %(cooperative)s was due on %(date)s and is "
            "overdue."
        ),
        NoticeKind.AWAITING_APPROVAL: _(
            "Loan %(number)s of %(cooperative)s: %(what)s awaits your approval."
        ),
    }
    template = texts.get(kind)  # type: ignore[call-overload]
    if template is None:
        return str(kind)
    return template % values
