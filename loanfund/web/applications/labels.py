"""Words for an application's history, shared by the staff and the applicant pages."""

from __future__ import annotations

from flask_babel import gettext as _

#: The steps an applicant sees on its timeline (the fund's internal steps are left out).
PUBLIC_ACTIONS = frozenset(
    {
        "application.create",
        "application.submit",
        "application.start_appraisal",
        "application.request_info",
        "application.answer",
        "application.complete_appraisal",
        "application.return_to_appraisal",
        "application.approve",
        "application.reject",
        "application.withdraw",
    }
)


def history_label(action: str) -> str:
    """An audit action of an application in words."""
    return {
        "application.create": _("Draft created"),
        "application.update": _("Application changed"),
        "application.submit": _("Submitted to the fund"),
        "application.withdraw": _("Withdrawn by the cooperative"),
        "application.answer": _("The applicant answered"),
        "application.document_add": _("Document added"),
        "application.document_remove": _("Document removed"),
        "application.start_appraisal": _("Appraisal started"),
        "application.assign": _("Officer assigned"),
        "application.request_info": _("Information requested"),
        "application.note": _("Internal note"),
        "application.appraisal_save": _("Appraisal saved"),
        "application.complete_appraisal": _("Appraisal completed"),
        "application.first_approval": _("First approval (credit council)"),
        "application.approve": _("Approved"),
        "application.reject": _("Rejected"),
        "application.return_to_appraisal": _("Returned to appraisal"),
    }.get(action, action)
