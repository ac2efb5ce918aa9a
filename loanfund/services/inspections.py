"""Post-disbursement inspections: assignment, the visit form (a server-side draft, photos,
the submitted minutes), follow-ups, and recall of a misused loan (DESIGN §1–3).

Outcomes of a submitted visit: **compliant** closes it; **concerns** open its follow-up
actions and put the loan on the watch interval for its next inspection; **misuse** opens a
recall proposal, decided by an approver other than the person who proposed it. An approved
recall makes all outstanding principal due on the recall date (a new schedule version; penalty
interest runs after it), moves the loan to ``recalled`` and tells the cooperative.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from loanfund.domain.access import Actor, Permission, authorize
from loanfund.domain.documents import clean_filename
from loanfund.domain.errors import InvalidTransition, NotFound, NotPermitted, RuleViolation
from loanfund.domain.i18n import _, fmt_date
from loanfund.domain.inspections import (
    InspectionKind,
    InspectionStatus,
    Verdict,
    VisitRecord,
    visit_problems,
)
from loanfund.domain.loans import LoanStatus, next_loan_status
from loanfund.domain.notifications import NoticeKind
from loanfund.domain.roles import Role
from loanfund.models import FollowUp, Inspection, InspectionPhoto, Loan, Recall, User
from loanfund.models.types import utcnow
from loanfund.queries.loans import paid_by_loan
from loanfund.services import loan_state
from loanfund.services.applications import fund_policy
from loanfund.services.audit import record_event
from loanfund.services.file_store import FileStore
from loanfund.services.guards import change_status
from loanfund.services.loans import load_loan
from loanfund.services.notifications import EmailRenderer, notify, users_with_role
from loanfund.services.photos import process_photo

#: Fields of the visit form kept in the draft (text as typed).
DRAFT_FIELDS = (
    "visited_on",
    "people_met",
    "signatory",
    "funds_use",
    "amount_verified",
    "progress_pct",
    "business_status",
    "collateral_condition",
    "risks",
    "internal_note",
    "verdict",
    *(f"fu{n}_{part}" for n in (1, 2, 3) for part in ("action", "owner", "due")),
)
MAX_PHOTOS = 12


def _audit(session: Session, actor: Actor, loan_id: int, action: str, **kwargs: Any) -> None:
    loan = session.get(Loan, loan_id)
    record_event(
        session,
        actor=actor,
        action=action,
        entity="loan",
        entity_id=loan_id,
        cooperative_id=loan.cooperative_id if loan else None,
        **kwargs,
    )


def load_inspection(
    session: Session, actor: Actor, inspection_id: int, permission: Permission
) -> Inspection:
    """The inspection if the actor may see it: staff with the permission; a cooperative's
    representative only its own loans' visits once done (the minutes). Others get 404."""
    inspection = session.get(Inspection, inspection_id)
    if inspection is None:
        raise NotFound(_("No such inspection."))
    loan = session.get(Loan, inspection.loan_id)
    assert loan is not None
    if not actor.is_staff:
        authorize(actor, Permission.VIEW_LOAN, cooperative_id=loan.cooperative_id)
        if inspection.status != InspectionStatus.DONE or permission is not Permission.VIEW_LOAN:
            raise NotFound(_("No such inspection."))
        return inspection
    authorize(actor, permission)
    return inspection


def assign_inspection(
    session: Session, *, actor: Actor, inspection_id: int, inspector_id: int | None
) -> Inspection:
    inspection = load_inspection(session, actor, inspection_id, Permission.PLAN_INSPECTIONS)
    if inspection.status != InspectionStatus.PLANNED:
        raise InvalidTransition(_("Only a planned visit can be assigned."))
    if inspector_id is not None:
        inspector = session.get(User, inspector_id)
        if inspector is None or Role.INSPECTOR.value not in {r.name for r in inspector.roles}:
            raise RuleViolation(_("Choose one of the fund's inspectors."))
    before = inspection.inspector_id
    inspection.inspector_id = inspector_id
    _audit(
        session,
        actor,
        inspection.loan_id,
        "inspection.assign",
        before={"inspection": inspection.id, "inspector": before},
        after={"inspection": inspection.id, "inspector": inspector_id},
    )
    session.commit()
    return inspection


def plan_ad_hoc(
    session: Session,
    *,
    actor: Actor,
    loan_id: int,
    due_on: dt.date,
    inspector_id: int | None,
    today: dt.date,
) -> Inspection:
    """An inspection staff decide on, at any time while the loan is out."""
    authorize(actor, Permission.PLAN_INSPECTIONS)
    loan = load_loan(session, actor, loan_id, Permission.VIEW_LOAN)
    if loan.status not in (LoanStatus.ACTIVE, LoanStatus.RECALLED):
        raise InvalidTransition(_("Inspections are planned for loans that have been paid out."))
    if due_on < today:
        raise RuleViolation(
            _(
                "The visit cannot be planned in the past (today is %(today)s).",
                today=fmt_date(today),
            )
        )
    if inspector_id is not None:
        inspector = session.get(User, inspector_id)
        if inspector is None or Role.INSPECTOR.value not in {r.name for r in inspector.roles}:
            raise RuleViolation(_("Choose one of the fund's inspectors."))
    inspection = Inspection(
        loan_id=loan.id,
        kind=InspectionKind.AD_HOC,
        status=InspectionStatus.PLANNED,
        due_on=due_on,
        inspector_id=inspector_id,
        draft={},
    )
    session.add(inspection)
    session.flush()
    _audit(
        session,
        actor,
        loan.id,
        "inspection.plan",
        after={"inspection": inspection.id, "kind": "ad_hoc", "due_on": due_on},
    )
    session.commit()
    return inspection


def _may_record(actor: Actor, inspection: Inspection) -> None:
    if inspection.status != InspectionStatus.PLANNED:
        raise InvalidTransition(_("This visit was already recorded or cancelled."))
    if inspection.inspector_id not in (None, actor.user_id):
        raise NotPermitted(_("This visit is assigned to another inspector."))


def save_draft(
    session: Session, *, actor: Actor, inspection_id: int, fields: dict[str, str]
) -> Inspection:
    """Keep what the inspector typed, exactly, so a lost connection or a closed tab loses
    nothing. Nothing is checked until the visit is submitted."""
    inspection = load_inspection(session, actor, inspection_id, Permission.INSPECT)
    _may_record(actor, inspection)
    inspection.draft = {key: str(fields.get(key, ""))[:10_000] for key in DRAFT_FIELDS}
    if inspection.inspector_id is None:
        inspection.inspector_id = actor.user_id
    session.commit()
    return inspection


def _photo_label(filename: str) -> str:
    """A photo's name as kept and shown: its last path part, without control or invisible
    characters (PostgreSQL stores no NUL; a right-to-left mark would disguise the name)."""
    name = clean_filename(filename)
    kept = (char for char in name if unicodedata.category(char) not in ("Cc", "Cf", "Cs"))
    return "".join(kept)[:200]


def add_photos(
    session: Session,
    *,
    actor: Actor,
    inspection_id: int,
    photos: list[tuple[str, bytes]],
    store: FileStore,
) -> list[InspectionPhoto]:
    """Add photos to a visit being recorded; every photo refused says why (the others are
    kept)."""
    inspection = load_inspection(session, actor, inspection_id, Permission.INSPECT)
    _may_record(actor, inspection)
    kept: list[InspectionPhoto] = []
    problems: list[str] = []
    for filename, data in photos:
        if len(inspection.photos) + len(kept) >= MAX_PHOTOS:
            problems.append(_("A visit has at most %(count)s photos.", count=MAX_PHOTOS))
            break
        label = _photo_label(filename)
        try:
            photo = process_photo(data, filename=label, store=store)
        except RuleViolation as error:
            problems.extend(error.problems)
            continue
        row = InspectionPhoto(
            inspection_id=inspection.id,
            store_key=photo.stored.key,
            content_type="image/jpeg",
            width=photo.width,
            height=photo.height,
            size_bytes=photo.stored.size,
            original_name=label,
            taken_at=photo.taken_at,
            gps_latitude=photo.latitude,
            gps_longitude=photo.longitude,
            uploaded_by_id=actor.user_id,
        )
        session.add(row)
        kept.append(row)
    if kept:
        session.flush()
        _audit(
            session,
            actor,
            inspection.loan_id,
            "inspection.photo_add",
            after={"inspection": inspection.id, "photos": [row.id for row in kept]},
        )
    session.commit()
    if problems:
        raise RuleViolation(problems)
    return kept


def remove_photo(session: Session, *, actor: Actor, photo_id: int) -> None:
    photo = session.get(InspectionPhoto, photo_id)
    if photo is None:
        raise NotFound(_("No such photo."))
    inspection = load_inspection(session, actor, photo.inspection_id, Permission.INSPECT)
    _may_record(actor, inspection)
    _audit(
        session,
        actor,
        inspection.loan_id,
        "inspection.photo_remove",
        before={"inspection": inspection.id, "photo": photo.id, "name": photo.original_name},
    )
    session.delete(photo)
    session.commit()


def submit_inspection(
    session: Session,
    *,
    actor: Actor,
    inspection_id: int,
    record: VisitRecord,
    internal_note: str,
    today: dt.date,
    render_email: EmailRenderer | None = None,
) -> Inspection:
    """Record the visit's minutes and act on its verdict.

    Raises:
        RuleViolation: every problem with the record (the draft keeps what was typed).
    """
    inspection = load_inspection(session, actor, inspection_id, Permission.INSPECT)
    _may_record(actor, inspection)
    loan = session.get(Loan, inspection.loan_id)
    assert loan is not None
    disbursed = paid_by_loan(session, [loan.id]).get(loan.id, Decimal(0))
    problems = visit_problems(record, disbursed=disbursed, today=today)
    if problems:
        raise RuleViolation(problems)
    change_status(
        session,
        Inspection,
        inspection.id,
        seen=InspectionStatus.PLANNED.value,
        values={
            "status": InspectionStatus.DONE.value,
            "visited_on": record.visited_on,
            "people_met": record.people_met.strip(),
            "signatory": record.signatory.strip(),
            "funds_use": record.funds_use,
            "amount_verified": record.amount_verified,
            "progress_pct": record.progress_pct,
            "business_status": record.business_status.strip(),
            "collateral_condition": record.collateral_condition.strip(),
            "risks": record.risks.strip(),
            "internal_note": internal_note.strip(),
            "verdict": record.verdict,
            "inspector_id": inspection.inspector_id or actor.user_id,
            "submitted_by_id": actor.user_id,
            "submitted_at": utcnow(),
            "draft": {},
        },
        refused=_("This visit was recorded a moment ago. Please reload the page."),
    )
    for action, owner, due_on in record.follow_ups:
        session.add(
            FollowUp(
                inspection_id=inspection.id,
                loan_id=loan.id,
                action=action.strip(),
                owner=owner.strip(),
                due_on=due_on,
            )
        )
    _audit(
        session,
        actor,
        loan.id,
        "inspection.submit",
        after={
            "inspection": inspection.id,
            "verdict": record.verdict,
            "funds_use": record.funds_use,
            "amount_verified": record.amount_verified,
        },
    )
    if record.verdict == Verdict.MISUSE and loan.status is LoanStatus.ACTIVE:
        recall = Recall(
            loan_id=loan.id,
            inspection_id=inspection.id,
            status="proposed",
            reason=record.risks.strip() or record.business_status.strip(),
            proposed_by_id=actor.user_id,
        )
        session.add(recall)
        session.flush()
        _audit(session, actor, loan.id, "loan.recall_propose", after={"recall": recall.id})
        officer = session.get(User, loan.application.officer_id or 0)
        notify(
            session,
            recipients=[*users_with_role(session, "approver"), *([officer] if officer else [])],
            kind=NoticeKind.RECALL_PROPOSED,
            params={"number": loan.contract_no, "cooperative": loan.cooperative.name},
            link=f"/loans/{loan.id}",
            render_email=render_email,
            skip=actor,
        )
    session.commit()
    session.refresh(inspection)
    return inspection


def complete_follow_up(
    session: Session, *, actor: Actor, follow_up_id: int, note: str, today: dt.date
) -> FollowUp:
    follow_up = session.get(FollowUp, follow_up_id)
    if follow_up is None:
        raise NotFound(_("No such follow-up."))
    authorize(actor, Permission.VIEW_INSPECTIONS)
    if not (actor.can(Permission.INSPECT) or actor.can(Permission.MANAGE_LOANS)):
        raise NotPermitted(_("Your role does not allow this action."))
    if follow_up.done_on is not None:
        raise InvalidTransition(_("This follow-up is already done."))
    follow_up.done_on = today
    follow_up.done_note = note.strip()[:2000]
    _audit(
        session,
        actor,
        follow_up.loan_id,
        "inspection.follow_up_done",
        after={"follow_up": follow_up.id},
    )
    session.commit()
    return follow_up


def decide_recall(
    session: Session,
    *,
    actor: Actor,
    recall_id: int,
    verdict: str,
    note: str,
    today: dt.date,
    render_email: EmailRenderer | None = None,
) -> Recall:
    """An approver, not the one who proposed it, decides a recall.

    Raises:
        NotPermitted: the actor proposed it (four-eyes) or may not approve.
        RuleViolation: a rejection without a reason.
    """
    recall = session.get(Recall, recall_id)
    if recall is None:
        raise NotFound(_("No such recall."))
    loan = load_loan(session, actor, recall.loan_id, Permission.APPROVE_DISBURSEMENT)
    if recall.status != "proposed":
        raise InvalidTransition(_("This recall was already decided."))
    if actor.user_id is None or actor.user_id == recall.proposed_by_id:
        raise NotPermitted(
            _("You proposed this recall: someone else must decide it (four-eyes rule).")
        )
    if verdict not in ("approve", "reject"):
        raise RuleViolation(_("Approve or reject the recall."))
    if verdict == "reject" and not note.strip():
        raise RuleViolation(_("Say why the recall is rejected."))
    values: dict[str, Any] = {
        "status": "approved" if verdict == "approve" else "rejected",
        "decided_by_id": actor.user_id,
        "decided_on": today,
        "decision_note": note.strip()[:4000],
    }
    if verdict == "approve":
        next_loan_status(loan.status, "recall")
        basis, version = loan_state.recall_version(session, loan, day=today)
        values.update(
            recall_on=today,
            deadline_on=today + dt.timedelta(days=fund_policy(session).recall_deadline_days),
            principal_recalled=basis.principal,
            interest_recalled=basis.interest,
            schedule_version_id=version.id,
        )
        change_status(
            session,
            Loan,
            loan.id,
            seen=LoanStatus.ACTIVE,
            values={"status": LoanStatus.RECALLED},
            refused=_("Someone changed this loan a moment ago. Please reload the page."),
        )
    change_status(
        session,
        Recall,
        recall.id,
        seen="proposed",
        values=values,
        refused=_("Someone decided this recall a moment ago. Please reload the page."),
    )
    _audit(
        session,
        actor,
        loan.id,
        "loan.recall" if verdict == "approve" else "loan.recall_reject",
        after={"recall": recall.id, **{k: v for k, v in values.items() if k != "status"}},
        note=note.strip(),
    )
    if verdict == "approve":
        notify(
            session,
            recipients=session.scalars(
                select(User).where(User.cooperative_id == loan.cooperative_id)
            ),
            kind=NoticeKind.LOAN_RECALLED,
            params={
                "number": loan.contract_no,
                "cooperative": loan.cooperative.name,
                "amount": str(values["principal_recalled"]),
                "date": values["deadline_on"].isoformat(),
            },
            link=f"/loans/{loan.id}/recall-notice",
            render_email=render_email,
            skip=actor,
        )
    session.commit()
    session.refresh(recall)
    session.refresh(loan)
    return recall
