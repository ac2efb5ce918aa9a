"""Loan applications, from the applicant's draft to the approvers' decision (DESIGN §2).

Every status change goes through :func:`_transition`: the transition table says whether the
action is allowed, a guarded ``UPDATE … WHERE status = :seen`` makes a double click or two
people at once act only once, and one audit row records it. Eligibility is checked with fresh
figures at submission and again at every approval. Four-eyes: whoever appraised an application,
or is its officer, cannot decide it, and above the credit-council amount two different approvers
must approve.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from loanfund.domain.access import Actor, Permission, authorize
from loanfund.domain.applications import (
    OPEN_STATUSES,
    ApplicationDraft,
    ApplicationStatus,
    CashFlowLine,
    CollateralItem,
    CollateralKind,
    EligibilityFacts,
    Finding,
    GuarantorItem,
    Rule,
    check_draft,
    check_eligibility,
    next_application_status,
    submission_problems,
)
from loanfund.domain.documents import DocumentKind, missing_documents, required_kinds
from loanfund.domain.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    NotPermitted,
    RuleViolation,
)
from loanfund.domain.i18n import _
from loanfund.domain.ledger import Account
from loanfund.domain.notifications import NoticeKind
from loanfund.domain.policy import Policy
from loanfund.domain.products import (
    SCHEDULE_OPTIONS,
    ProductStatus,
    ProductTerms,
    terms_data,
)
from loanfund.domain.roles import Role
from loanfund.domain.schedule import ScheduleTerms, parse_terms
from loanfund.models import (
    ApplicationCashFlow,
    ApplicationDocument,
    ApplicationMessage,
    Appraisal,
    Collateral,
    Cooperative,
    Guarantor,
    LoanApplication,
    LoanProduct,
    RelatedBorrowers,
    User,
)
from loanfund.models.types import money_digits
from loanfund.queries.applications import exposure, related_cooperative_ids
from loanfund.queries.ledger import account_balances
from loanfund.queries.settings import fund_settings
from loanfund.services.audit import changed, record_event, snapshot
from loanfund.services.file_store import FileStore, Readable
from loanfund.services.guards import change_status
from loanfund.services.notifications import EmailRenderer, notify, users_with_role
from loanfund.services.products import product_terms

_DRAFT_FIELDS = (
    "product_id",
    "amount",
    "term_months",
    "schedule_options",
    "purpose",
    "purpose_description",
    "project_description",
    "project_cost",
    "own_equity",
    "members_benefiting",
    "jobs_created",
    "unsecured_requested",
    "priority",
)

#: Statuses in which the applicant may change the application and its documents.
EDITABLE_STATUSES = frozenset({ApplicationStatus.DRAFT, ApplicationStatus.INFO_REQUESTED})


# --- loading, transitions, notices -----------------------------------------------------------


def load_application(
    session: Session, actor: Actor, application_id: int, permission: Permission
) -> LoanApplication:
    """The application if the actor may act on it: 404 for another cooperative's, 403 for a
    role that may not."""
    application = session.get(LoanApplication, application_id)
    if application is None:
        raise NotFound(_("No such application."))
    authorize(actor, permission, cooperative_id=application.cooperative_id)
    return application


def _transition(
    session: Session,
    application: LoanApplication,
    action: str,
    *,
    actor: Actor,
    values: Mapping[str, Any] | None = None,
    note: str | None = None,
) -> ApplicationStatus:
    """Apply ``action`` once, from the status the actor saw, and audit it."""
    current = application.status
    target = next_application_status(current, action)
    changes = {"status": target, **(values or {})}
    change_status(
        session,
        LoanApplication,
        application.id,
        seen=current,
        values=changes,
        refused=_("Someone changed this application a moment ago. Please reload the page."),
    )
    session.refresh(application)
    record_event(
        session,
        actor=actor,
        action=f"application.{action}",
        entity="loan_application",
        entity_id=application.id,
        cooperative_id=application.cooperative_id,
        before={"status": current},
        after={key: value for key, value in changes.items() if key != "schedule_options"},
        note=note,
    )
    return target


def _params(application: LoanApplication, amount: Decimal | None = None) -> dict[str, Any]:
    return {
        "number": application.number,
        "cooperative": application.cooperative.name,
        "amount": str(amount if amount is not None else application.amount),
    }


def _link(application: LoanApplication) -> str:
    return f"/applications/{application.id}"


def _representatives(session: Session, application: LoanApplication) -> list[User]:
    return list(
        session.scalars(
            select(User).where(User.cooperative_id == application.cooperative_id).order_by(User.id)
        )
    )


def _tell(
    session: Session,
    application: LoanApplication,
    recipients: list[User],
    kind: NoticeKind,
    *,
    actor: Actor,
    render_email: EmailRenderer | None,
    amount: Decimal | None = None,
) -> None:
    notify(
        session,
        recipients=recipients,
        kind=kind,
        params=_params(application, amount),
        link=_link(application),
        render_email=render_email,
        skip=actor,
    )


# --- the applicant's draft -------------------------------------------------------------------


def _product(session: Session, product_id: int, *, offered: bool) -> LoanProduct:
    product = session.get(LoanProduct, product_id)
    if product is None or (offered and product.status is not ProductStatus.ACTIVE):
        raise RuleViolation(_("Choose a loan product the fund offers."))
    return product


def _option_problems(draft: ApplicationDraft) -> list[str]:
    unknown = sorted(set(draft.schedule_options) - set(SCHEDULE_OPTIONS))
    if unknown:
        return [_("Unknown schedule terms: %(names)s.", names=", ".join(unknown))]
    return []


def _next_number(session: Session, year: int) -> str:
    prefix = f"HS-{year}-"
    last = session.scalar(
        select(func.max(LoanApplication.number)).where(LoanApplication.number.like(prefix + "%"))
    )
    sequence = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{sequence:04d}"


def _apply_draft(application: LoanApplication, draft: ApplicationDraft) -> None:
    application.product_id = draft.product_id
    application.amount = draft.amount
    application.term_months = draft.term_months
    application.schedule_options = dict(draft.schedule_options)
    application.purpose = draft.purpose
    application.purpose_description = draft.purpose_description.strip()
    application.project_description = draft.project_description.strip()
    application.project_cost = draft.project_cost
    application.own_equity = draft.own_equity
    application.members_benefiting = draft.members_benefiting
    application.jobs_created = draft.jobs_created
    application.unsecured_requested = draft.unsecured_requested
    application.priority = draft.priority
    application.cash_flows = [
        ApplicationCashFlow(
            year=line.year, revenue=line.revenue, operating_costs=line.operating_costs
        )
        for line in draft.cash_flows
    ]
    application.collateral = [
        Collateral(
            kind=item.kind.value,
            description=item.description.strip(),
            owner=item.owner.strip(),
            estimated_value=item.estimated_value,
        )
        for item in draft.collateral
    ]
    application.guarantors = [
        Guarantor(
            name=item.name.strip(),
            relationship_to_borrower=item.relationship.strip(),
            contact=item.contact.strip(),
        )
        for item in draft.guarantors
    ]


def draft_of(application: LoanApplication) -> ApplicationDraft:
    """The application's editable content, as the applicant gave it."""
    return ApplicationDraft(
        product_id=application.product_id,
        amount=application.amount,
        term_months=application.term_months,
        schedule_options=dict(application.schedule_options),
        purpose=application.purpose,
        purpose_description=application.purpose_description,
        project_description=application.project_description,
        project_cost=application.project_cost,
        own_equity=application.own_equity,
        members_benefiting=application.members_benefiting,
        jobs_created=application.jobs_created,
        unsecured_requested=application.unsecured_requested,
        priority=application.priority,
        cash_flows=tuple(
            CashFlowLine(line.year, line.revenue, line.operating_costs)
            for line in application.cash_flows
        ),
        collateral=tuple(
            CollateralItem(
                CollateralKind(item.kind), item.description, item.owner, item.estimated_value
            )
            for item in application.collateral
        ),
        guarantors=tuple(
            GuarantorItem(item.name, item.relationship_to_borrower, item.contact)
            for item in application.guarantors
        ),
    )


def _draft_snapshot(application: LoanApplication) -> dict[str, Any]:
    values = snapshot(application, _DRAFT_FIELDS)
    values["cash_flows"] = [
        [line.year, str(line.revenue), str(line.operating_costs)] for line in application.cash_flows
    ]
    values["collateral"] = [
        [item.kind, item.description, item.owner, str(item.estimated_value)]
        for item in application.collateral
    ]
    values["guarantors"] = [item.name for item in application.guarantors]
    return values


def create_application(
    session: Session,
    *,
    actor: Actor,
    cooperative_id: int,
    draft: ApplicationDraft,
    today: dt.date,
) -> LoanApplication:
    """Start a draft application for the actor's cooperative.

    Raises:
        NotFound / NotPermitted: not the actor's cooperative, or not an applicant.
        RuleViolation: the cooperative is not verified, the product is not offered, or the
            draft has problems (all listed).
    """
    authorize(actor, Permission.APPLY, cooperative_id=cooperative_id)
    cooperative = session.get(Cooperative, cooperative_id)
    if cooperative is None:
        raise NotFound(_("No such cooperative."))
    problems: list[str] = []
    if cooperative.status.value != "verified":
        problems.append(
            _("Your cooperative must be verified by the fund before it can apply for a loan.")
        )
    _product(session, draft.product_id, offered=True)
    problems += check_draft(draft) + _option_problems(draft)
    if problems:
        raise RuleViolation(problems)
    application = LoanApplication(
        number=_next_number(session, today.year),
        cooperative_id=cooperative_id,
        status=ApplicationStatus.DRAFT,
        created_by_id=actor.user_id,
    )
    _apply_draft(application, draft)
    session.add(application)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="application.create",
        entity="loan_application",
        entity_id=application.id,
        cooperative_id=cooperative_id,
        after=_draft_snapshot(application),
    )
    session.commit()
    return application


def update_application(
    session: Session, *, actor: Actor, application_id: int, draft: ApplicationDraft
) -> LoanApplication:
    """Change a draft (or an application the fund asked questions about).

    Raises:
        InvalidTransition: the application is no longer the applicant's to change.
        RuleViolation: every problem with the draft.
    """
    application = load_application(session, actor, application_id, Permission.APPLY)
    if application.status not in EDITABLE_STATUSES:
        raise InvalidTransition(
            _("This application can no longer be changed: the fund is working on it.")
        )
    if draft.product_id != application.product_id:
        if application.status is not ApplicationStatus.DRAFT:
            raise RuleViolation(_("The product cannot be changed after submission."))
        _product(session, draft.product_id, offered=True)
    problems = check_draft(draft) + _option_problems(draft)
    if problems:
        raise RuleViolation(problems)
    before = _draft_snapshot(application)
    _apply_draft(application, draft)
    session.flush()
    old, new = changed(before, _draft_snapshot(application))
    if new:
        record_event(
            session,
            actor=actor,
            action="application.update",
            entity="loan_application",
            entity_id=application.id,
            cooperative_id=application.cooperative_id,
            before=old,
            after=new,
        )
    session.commit()
    return application


# --- eligibility -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Terms:
    """Loan terms to check or decide on: amount, term and schedule options."""

    amount: Decimal
    term_months: int
    schedule_options: Mapping[str, Any]


def requested_terms(application: LoanApplication) -> Terms:
    return Terms(application.amount, application.term_months, application.schedule_options)


def schedule_terms(product: ProductTerms, terms: Terms, *, disbursed_on: dt.date) -> ScheduleTerms:
    """The engine's terms for a loan of ``product`` on ``terms`` disbursed on that day.

    Raises:
        RuleViolation: the schedule options do not make a schedule.
    """
    data = terms_data(
        ProductTerms(**{**_fields(product), "schedule_options": dict(terms.schedule_options)}),
        principal=terms.amount,
        months=terms.term_months,
        disbursed_on=disbursed_on,
    )
    return parse_terms(data, default_currency_digits=money_digits())


def _fields(product: ProductTerms) -> dict[str, Any]:
    return {name: getattr(product, name) for name in ProductTerms.__dataclass_fields__}


def fund_policy(session: Session) -> Policy:
    return fund_settings(session, currency_digits=money_digits()).policy


def eligibility(
    session: Session,
    application: LoanApplication,
    *,
    today: dt.date,
    terms: Terms | None = None,
) -> list[Finding]:
    """Every eligibility finding for the application on ``terms`` (the requested ones by
    default), with today's figures: the fund's capital, the borrower's exposure, the dossier."""
    product = product_terms(application.product)
    terms = terms or requested_terms(application)
    try:
        schedule = schedule_terms(product, terms, disbursed_on=today)
    except RuleViolation as error:
        return [Finding(Rule.WITHIN_PRODUCT, problem) for problem in error.problems]
    cooperative = session.get(Cooperative, application.cooperative_id)
    assert cooperative is not None
    policy = fund_policy(session)
    present = {document.kind for document in application.documents}
    required = required_kinds(
        product.required_documents, secured=not application.unsecured_requested
    )
    related = related_cooperative_ids(session, cooperative.id)
    facts = EligibilityFacts(
        cooperative_status=cooperative.status,
        product=product,
        terms=schedule,
        purpose=application.purpose,
        project_cost=application.project_cost,
        own_equity=application.own_equity,
        missing_documents=tuple(missing_documents(required, frozenset(present))),
        borrower_exposure=exposure(
            session, {cooperative.id}, exclude_application_id=application.id
        ),
        related_exposure=exposure(session, related, exclude_application_id=application.id),
        fund_capital=account_balances(session)[Account.FUND_CAPITAL],
    )
    return check_eligibility(
        facts,
        own_equity_min_pct=policy.own_equity_min_pct,
        single_borrower_max_pct=policy.single_borrower_max_pct,
        related_borrowers_max_pct=policy.related_borrowers_max_pct,
    )


def missing_documents_of(application: LoanApplication) -> list[str]:
    """Sentences naming each required document the dossier lacks."""
    present = frozenset(document.kind for document in application.documents)
    product = product_terms(application.product)
    required = required_kinds(
        product.required_documents, secured=not application.unsecured_requested
    )
    return missing_documents(required, present)


# --- the applicant's steps -------------------------------------------------------------------


def submit_application(
    session: Session,
    *,
    actor: Actor,
    application_id: int,
    today: dt.date,
    render_email: EmailRenderer | None = None,
) -> LoanApplication:
    """Send a draft to the fund. Every problem is reported at once and nothing changes until
    there are none; the fund's decision clock starts (the dossier is complete).

    Raises:
        RuleViolation: what is missing or breaks a rule, each in a sentence with the numbers.
    """
    application = load_application(session, actor, application_id, Permission.APPLY)
    next_application_status(application.status, "submit")  # a clear 409 before the checks
    problems = submission_problems(draft_of(application)) + [
        finding.message for finding in eligibility(session, application, today=today)
    ]
    if problems:
        raise RuleViolation(problems)
    _transition(
        session,
        application,
        "submit",
        actor=actor,
        values={"submitted_on": today, "complete_on": today},
    )
    _tell(
        session,
        application,
        users_with_role(session, Role.OFFICER.value),
        NoticeKind.APPLICATION_SUBMITTED,
        actor=actor,
        render_email=render_email,
    )
    session.commit()
    return application


def withdraw_application(
    session: Session,
    *,
    actor: Actor,
    application_id: int,
    reason: str,
    render_email: EmailRenderer | None = None,
) -> LoanApplication:
    """The cooperative takes its application back (any time before the decision)."""
    application = load_application(session, actor, application_id, Permission.APPLY)
    _transition(
        session,
        application,
        "withdraw",
        actor=actor,
        values={"closing_reason": reason.strip()},
        note=reason.strip() or None,
    )
    if application.officer_id:
        officer = session.get(User, application.officer_id)
        _tell(
            session,
            application,
            [officer] if officer else [],
            NoticeKind.APPLICATION_WITHDRAWN,
            actor=actor,
            render_email=render_email,
        )
    session.commit()
    return application


def _message(
    session: Session,
    application: LoanApplication,
    *,
    actor: Actor,
    kind: str,
    body: str,
    internal: bool = False,
) -> ApplicationMessage:
    message = ApplicationMessage(
        application_id=application.id,
        kind=kind,
        internal=internal,
        body=body,
        author_id=actor.user_id,
        author_label=actor.label,
    )
    session.add(message)
    session.flush()
    return message


def _require_text(text: str, message: str, limit: int = 5000) -> str:
    text = text.strip()
    if not text:
        raise RuleViolation(message)
    if len(text) > limit:
        raise RuleViolation(
            _("The text is %(n)s characters long; at most %(max)s.", n=len(text), max=limit)
        )
    return text


def answer_information_request(
    session: Session,
    *,
    actor: Actor,
    application_id: int,
    body: str,
    today: dt.date,
    render_email: EmailRenderer | None = None,
) -> LoanApplication:
    """The applicant answers the fund's questions; the application returns to appraisal and
    the dossier counts as complete again from today."""
    application = load_application(session, actor, application_id, Permission.APPLY)
    body = _require_text(body, _("Write your answer to the fund's request."))
    _transition(session, application, "answer", actor=actor, values={"complete_on": today})
    _message(session, application, actor=actor, kind="answer", body=body)
    officer = session.get(User, application.officer_id) if application.officer_id else None
    _tell(
        session,
        application,
        [officer] if officer else users_with_role(session, Role.OFFICER.value),
        NoticeKind.INFO_ANSWERED,
        actor=actor,
        render_email=render_email,
    )
    session.commit()
    return application


# --- documents -------------------------------------------------------------------------------


def _may_upload(actor: Actor, application: LoanApplication) -> None:
    if actor.can(Permission.APPRAISE):
        if application.status not in OPEN_STATUSES:
            raise InvalidTransition(_("The application is closed; its dossier is final."))
        return
    authorize(actor, Permission.APPLY, cooperative_id=application.cooperative_id)
    if application.status not in EDITABLE_STATUSES:
        raise InvalidTransition(
            _(
                "Documents can be added while the application is a draft or when the fund "
                "asks for information."
            )
        )


def upload_document(
    session: Session,
    *,
    actor: Actor,
    application_id: int,
    kind: DocumentKind,
    filename: str,
    source: Readable | bytes,
    store: FileStore,
    max_bytes: int,
) -> ApplicationDocument:
    """Add a file to the dossier: its type read from its content, stored under a random key.

    The upload is streamed to disk and stops at ``max_bytes``; a refused file leaves nothing.

    Raises:
        RuleViolation: empty, too large, not a PDF/JPEG/PNG, or a bad file name (all listed).
    """
    application = load_application(session, actor, application_id, Permission.VIEW_APPLICATION)
    _may_upload(actor, application)
    upload = store.save_upload(source, filename=filename, max_bytes=max_bytes)
    stored = upload.file
    try:
        document = ApplicationDocument(
            application_id=application.id,
            kind=kind,
            original_name=upload.filename[:255],
            store_key=stored.key,
            mime=upload.file_type.mime,
            size=stored.size,
            sha256=stored.sha256,
            uploaded_by_id=actor.user_id,
        )
        session.add(document)
        session.flush()
        record_event(
            session,
            actor=actor,
            action="application.document_add",
            entity="application_document",
            entity_id=document.id,
            cooperative_id=application.cooperative_id,
            after={
                "application": application.number,
                "kind": kind,
                "name": document.original_name,
                "size": stored.size,
                "sha256": stored.sha256,
            },
        )
        session.commit()
    except Exception:
        session.rollback()
        store.delete(stored.key)
        raise
    return document


def remove_document(session: Session, *, actor: Actor, document_id: int, store: FileStore) -> None:
    """The applicant removes a file uploaded by mistake (only while they may still edit)."""
    document = session.get(ApplicationDocument, document_id)
    if document is None:
        raise NotFound(_("No such document."))
    application = load_application(session, actor, document.application_id, Permission.APPLY)
    if application.status not in EDITABLE_STATUSES:
        raise InvalidTransition(_("Documents of a submitted application cannot be removed."))
    key = document.store_key
    record_event(
        session,
        actor=actor,
        action="application.document_remove",
        entity="application_document",
        entity_id=document.id,
        cooperative_id=application.cooperative_id,
        before={"kind": document.kind, "name": document.original_name, "sha256": document.sha256},
    )
    session.delete(document)
    session.commit()
    store.delete(key)


def document_for(session: Session, *, actor: Actor, document_id: int) -> ApplicationDocument:
    """A document the actor may read (its cooperative's representatives and staff)."""
    document = session.get(ApplicationDocument, document_id)
    if document is None:
        raise NotFound(_("No such document."))
    load_application(session, actor, document.application_id, Permission.VIEW_APPLICATION)
    return document


# --- the officer's steps ---------------------------------------------------------------------


def start_appraisal(session: Session, *, actor: Actor, application_id: int) -> LoanApplication:
    """An officer takes a submitted application (it is assigned to them if nobody has it)."""
    application = load_application(session, actor, application_id, Permission.APPRAISE)
    officer_id = application.officer_id or actor.user_id
    _transition(
        session, application, "start_appraisal", actor=actor, values={"officer_id": officer_id}
    )
    if (
        session.scalar(select(Appraisal.id).where(Appraisal.application_id == application.id))
        is None
    ):
        session.add(Appraisal(application_id=application.id))
    session.commit()
    return application


def assign_officer(
    session: Session,
    *,
    actor: Actor,
    application_id: int,
    officer_id: int,
    render_email: EmailRenderer | None = None,
) -> LoanApplication:
    """Make an officer responsible for the application."""
    application = load_application(session, actor, application_id, Permission.APPRAISE)
    if application.status not in OPEN_STATUSES or application.status is ApplicationStatus.DRAFT:
        raise InvalidTransition(_("Only a submitted, undecided application can be assigned."))
    officer = session.get(User, officer_id)
    if officer is None or not officer.active or Role.OFFICER.value not in officer.role_names:
        raise RuleViolation(_("Choose an active credit officer."))
    before = application.officer_id
    application.officer_id = officer.id
    record_event(
        session,
        actor=actor,
        action="application.assign",
        entity="loan_application",
        entity_id=application.id,
        cooperative_id=application.cooperative_id,
        before={"officer_id": before},
        after={"officer_id": officer.id},
    )
    _tell(
        session,
        application,
        [officer],
        NoticeKind.APPLICATION_ASSIGNED,
        actor=actor,
        render_email=render_email,
    )
    session.commit()
    return application


def request_information(
    session: Session,
    *,
    actor: Actor,
    application_id: int,
    body: str,
    render_email: EmailRenderer | None = None,
) -> LoanApplication:
    """Ask the applicant for information or documents; the decision clock stops until they
    answer."""
    application = load_application(session, actor, application_id, Permission.APPRAISE)
    body = _require_text(body, _("Write what the applicant should send or explain."))
    _transition(session, application, "request_info", actor=actor, values={"complete_on": None})
    _message(session, application, actor=actor, kind="request", body=body)
    _tell(
        session,
        application,
        _representatives(session, application),
        NoticeKind.INFO_REQUESTED,
        actor=actor,
        render_email=render_email,
    )
    session.commit()
    return application


def add_internal_note(
    session: Session, *, actor: Actor, application_id: int, body: str
) -> ApplicationMessage:
    """A note for the fund's staff only (never shown to the applicant)."""
    application = load_application(session, actor, application_id, Permission.LIST_APPLICATIONS)
    if not (actor.can(Permission.APPRAISE) or actor.can(Permission.DECIDE_APPLICATION)):
        raise NotPermitted(_("Only officers and approvers write notes on applications."))
    body = _require_text(body, _("Write the note."))
    message = _message(session, application, actor=actor, kind="note", body=body, internal=True)
    record_event(
        session,
        actor=actor,
        action="application.note",
        entity="loan_application",
        entity_id=application.id,
        cooperative_id=application.cooperative_id,
        note=body[:500],
    )
    session.commit()
    return message


def link_related_borrowers(
    session: Session, *, actor: Actor, cooperative_id: int, related_id: int, reason: str
) -> RelatedBorrowers:
    """Record that two cooperatives are related borrowers (their exposures count together)."""
    authorize(actor, Permission.APPRAISE)
    if cooperative_id == related_id:
        raise RuleViolation(_("Choose another cooperative."))
    first, second = sorted((cooperative_id, related_id))
    for cid in (first, second):
        if session.get(Cooperative, cid) is None:
            raise NotFound(_("No such cooperative."))
    reason = _require_text(reason, _("Say why they are related (owners, managers, money)."))
    link = RelatedBorrowers(cooperative_id=first, related_id=second, reason=reason)
    session.add(link)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict(_("These cooperatives are already linked.")) from None
    record_event(
        session,
        actor=actor,
        action="cooperative.link_related",
        entity="related_borrowers",
        entity_id=link.id,
        cooperative_id=first,
        after={"cooperative_id": first, "related_id": second, "reason": reason},
    )
    session.commit()
    return link


def unlink_related_borrowers(
    session: Session, *, actor: Actor, link_id: int, cooperative_id: int | None = None
) -> None:
    """Remove a related-borrowers link recorded by mistake (audited with its reason); with
    ``cooperative_id``, only a link of that cooperative (another's is not found)."""
    authorize(actor, Permission.APPRAISE)
    link = session.get(RelatedBorrowers, link_id)
    if link is None or cooperative_id not in (None, link.cooperative_id, link.related_id):
        raise NotFound(_("No such link."))
    record_event(
        session,
        actor=actor,
        action="cooperative.unlink_related",
        entity="related_borrowers",
        entity_id=link.id,
        cooperative_id=link.cooperative_id,
        before={
            "cooperative_id": link.cooperative_id,
            "related_id": link.related_id,
            "reason": link.reason,
        },
    )
    session.delete(link)
    session.commit()
