"""Hostile input, continued: every POST route the forms of ``test_hostile_input`` leave out.

That module posts hostile values into the forms as the demo shows them. This one reaches the
rest of the app's POST routes:

- forms that accept only in a state the demo does not have (a tranche to approve, a proposal to
  decide, a recall, a photo to remove, an approved application to make a loan of), set up inside
  the example's rolled-back transaction;
- the restructuring proposal and the visit record with values they accept (the first module
  only sees them refuse), so hostile values meet the services' own checks;
- the single-button actions, whose inputs are the record number in the URL, a few hidden
  fields and the security token: each missing, garbled, huge, negative, another record's, and
  the same form sent twice;
- the file uploads (dossier documents, visit photos): hostile names, wrong types, empty and
  oversized files (built in memory);
- the list exports and the books' exports, whose input is the query string or hidden fields;
- Flask-Security's forms (sign-in, sign-out, password change, forgotten password and reset,
  re-authentication, two-factor setup, code and rescue).

Every post gets the first module's checks (``check_post``): no server error; a refusal changes
no row and says why (keeping what was typed); an acceptance is complete, audited and balanced.
The last test lists the app's POST routes and fails for one neither module posts to.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import pytest
from flask import current_app
from flask_security.recoverable import generate_reset_password_token
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from passlib.totp import TOTP
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loanfund.config import export_dir, upload_dir
from loanfund.domain.applications import CashFlowLine
from loanfund.domain.appraisal_checklist import AppraisalArea, FindingResult
from loanfund.domain.documents import DocumentKind
from loanfund.domain.inspections import VisitRecord
from loanfund.extensions import security
from loanfund.models import (
    ApplicationDocument,
    AuditEvent,
    ExportJob,
    InspectionPhoto,
    LoanApplication,
    OutboxMessage,
    Recall,
    User,
    db,
)
from loanfund.services import appraisals, inspections, ledger, loans, repayments, restructurings
from loanfund.services.accounts import actor_for
from loanfund.services.applications import (
    draft_of,
    link_related_borrowers,
    missing_documents_of,
    update_application,
    upload_document,
)
from loanfund.services.exports import run_export
from loanfund.services.file_store import FileStore
from loanfund.web.exports.runner import ExportRunner
from tests.conftest import PASSWORD, TODAY, sign_in
from tests.web.test_hostile_input import (
    ADMIN,
    APPROVER,
    CASES,
    HOSTILE,
    INSPECTOR,
    OFFICER,
    VANDU,
    Case,
    check_post,
    demo_app,  # noqa: F401  (the module's demo fund)
    fingerprint,
    post_hostile,
    read_form,
    rolled_back,
)

# --- clients and the people acting ---------------------------------------------------------------


class Clients:
    """One signed-in client per person, kept for the module (their sign-in is rolled back
    with the first example, the session cookie stays), and fresh ones on demand. Always
    called inside a rolled-back example."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._kept: dict[str | None, Any] = {}

    def __call__(self, email: str | None) -> Any:
        if email not in self._kept:
            self._kept[email] = self.fresh(email)
        return self._kept[email]

    def fresh(self, email: str | None) -> Any:
        client = self.app.test_client()
        if email:
            sign_in(client, email)
        return client


@pytest.fixture(scope="module")
def clients(demo_app: Any) -> Clients:  # noqa: F811
    return Clients(demo_app)


def person(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    assert user is not None, email
    return user


def actor(email: str) -> Any:
    return actor_for(person(email))


def store() -> FileStore:
    return FileStore(upload_dir(current_app.config["LOANFUND"]))


def token_of(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


MISSING = object()  # an edit that leaves the field out of the post


def form_data(
    client: Any, case: Case, edits: dict[Any, Any]
) -> tuple[dict[str, Any], dict[str, Any], set[str]]:
    """The case's form as its page gives it, made valid, with ``edits``: like
    ``post_hostile``'s, but the security token and hidden fields can be edited too and
    :data:`MISSING` leaves a field out. Returns the data, the edits (as shown in a failure)
    and the typed fields."""
    page = client.get(case.page)
    assert page.status_code == 200, (case.page, page.status_code)
    html = page.get_data(as_text=True)
    values, typed = read_form(html, case.action, case.page)
    values.update(case.valid)
    values["csrf_token"] = token_of(html)
    names = sorted(values)
    changed = {}
    for slot, value in edits.items():
        changed[names[slot % len(names)] if isinstance(slot, int) else slot] = value
    data = {**values, **changed}
    data = {name: value for name, value in data.items() if value is not MISSING}
    shown = {name: "(missing)" if v is MISSING else v for name, v in changed.items()}
    return data, shown, typed


def post_edited(client: Any, case: Case, edits: dict[Any, Any], *, url: str | None = None) -> str:
    """Post the case's form with ``edits`` (to ``url``: another record's number) and check
    the outcome with the first module's checks."""
    data, changed, typed = form_data(client, case, edits)
    return check_post(client, case, data, url=url, changed=changed, typed=typed)


# --- setting up the state a form needs -----------------------------------------------------------

#: Bytes of the smallest files each check accepts (built in memory, never on disk).
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def jpeg(size: tuple[int, int] = (8, 8)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (120, 160, 40)).save(out, format="JPEG")
    return out.getvalue()


def requested_tranche() -> int:
    tranche = loans.request_tranche(
        db.session,
        actor=actor(OFFICER),
        loan_id=1,
        amount=Decimal(10_000_000),
        value_date=TODAY,
        payee="HTX Diệu Khánh",
        account="0123456789",
        reference="",
        idempotency_key=secrets.token_urlsafe(16),
    )
    return tranche.id


def approved_tranche() -> int:
    tranche_id = requested_tranche()
    loans.approve_tranche(db.session, actor=actor(APPROVER), tranche_id=tranche_id)
    return tranche_id


def proposed_restructuring() -> int:
    proposal = restructurings.propose_restructuring(
        db.session,
        actor=actor(OFFICER),
        loan_id=3,
        kind="reschedule",
        request_on=TODAY,
        request_reference="CV-12",
        reason="Mất mùa",
        installments=3,
        first_due_on=dt.date(2027, 1, 23),
        today=TODAY,
    )
    return proposal.id


def proposed_recall() -> int:
    """The inspector finds loan 3's money misused: a recall is proposed."""
    inspections.submit_inspection(
        db.session,
        actor=actor(INSPECTOR),
        inspection_id=8,
        record=VisitRecord(
            visited_on=TODAY,
            people_met="Chủ nhiệm",
            signatory="Ông A",
            funds_use="not",
            amount_verified=Decimal(0),
            progress_pct=0,
            business_status="Không sản xuất",
            collateral_condition="",
            risks="Vốn dùng mua xe riêng",
            verdict="misuse",
            follow_ups=(),
        ),
        internal_note="",
        today=TODAY,
    )
    recall_id = db.session.scalar(select(Recall.id).where(Recall.status == "proposed"))
    assert recall_id is not None
    return recall_id


def approved_application() -> int:
    """Application 3 (appraised) approved on the recommended terms."""
    appraisals.decide_application(
        db.session, actor=actor(APPROVER), application_id=3, verdict="approve", today=TODAY
    )
    return 3


def prepared_loan() -> int:
    loan = loans.make_loan(
        db.session, actor=actor(OFFICER), application_id=approved_application(), today=TODAY
    )
    return loan.id


def recorded_capital() -> int:
    movement = ledger.request_capital_movement(
        db.session,
        actor=actor(ADMIN),
        kind="contribution",
        amount=Decimal(100_000_000),
        value_date=TODAY,
        source="Ngân sách tỉnh",
        reference="QĐ-99",
        today=TODAY,
    )
    return movement.id


def linked_cooperatives() -> int:
    link = link_related_borrowers(
        db.session, actor=actor(OFFICER), cooperative_id=1, related_id=2, reason="Chung chủ nhiệm"
    )
    return link.id


def visit_photo() -> int:
    inspections.add_photos(
        db.session,
        actor=actor(INSPECTOR),
        inspection_id=8,
        photos=[("ruong.jpg", jpeg())],
        store=store(),
    )
    photo_id = db.session.scalar(
        select(func.max(InspectionPhoto.id)).where(InspectionPhoto.inspection_id == 8)
    )
    assert photo_id is not None
    return photo_id


def complete_dossier() -> int:
    """Draft application 7 with its project described, its cash flows, and a paper of every
    kind, so that it can be submitted."""
    draft = draft_of(db.session.get(LoanApplication, 7))
    update_application(
        db.session,
        actor=actor(VANDU),
        application_id=7,
        draft=replace(
            draft,
            project_description="Mở rộng vườn bưởi và nhà sơ chế",
            cash_flows=tuple(
                CashFlowLine(year, Decimal(400_000_000), Decimal(250_000_000))
                for year in range(1, 6)
            ),
        ),
    )
    application = db.session.get(LoanApplication, 7)
    present = {document.kind for document in application.documents}
    for kind in DocumentKind:
        if kind not in present:
            upload_document(
                db.session,
                actor=actor(VANDU),
                application_id=7,
                kind=kind,
                filename=f"{kind.value}.pdf",
                source=PDF,
                store=store(),
                max_bytes=1024 * 1024,
            )
    assert missing_documents_of(db.session.get(LoanApplication, 7)) == []
    return 7


def finished_appraisal() -> int:
    """Application 4's appraisal with every area judged, the credit check and a
    recommendation, so that it can be completed."""
    appraisals.save_appraisal(
        db.session,
        actor=actor(OFFICER),
        application_id=4,
        data=appraisals.AppraisalInput(
            findings={area: (FindingResult.PASS, "Đạt.") for area in AppraisalArea},
            credit_check_on=TODAY - dt.timedelta(days=2),
            credit_check_reference="CIC-4",
            credit_check_result="clean",
            recommendation="approve",
        ),
        today=TODAY,
    )
    return 4


def reversal_asked() -> int:
    repayments.request_reversal(
        db.session, actor=actor(OFFICER), repayment_id=16, reason="Nhầm khoản."
    )
    return 16


# --- the routes reached in the state where they accept -------------------------------------------


@dataclass(frozen=True)
class Action:
    """A POST route in the state where it accepts.

    ``prepare`` runs inside the example's rolled-back transaction, sets the state up and gives
    the case (who posts, the page with the form, where it posts); ``others`` are posted with
    the same form in place of the action: other records, which must be refused; a second post
    of an accepted form must not act again unless ``repeatable``.
    """

    name: str
    prepare: Callable[[], Case]
    others: Callable[[Case], list[str]] = lambda case: []
    #: Each post by a new client (signing in or out changes the session).
    fresh: bool = False
    #: Sending the accepted form again may act again (a new document, a new export).
    repeatable: bool = False
    #: The hypothesis examples (the valid post and the hostile record numbers come on top).
    examples: int = 10


def _form(case: Case, **kwargs: Any) -> Action:
    """A form the demo shows as it is."""
    return Action(case.name, lambda: case, **kwargs)


def _button(
    name: str,
    email: str,
    page: str | Callable[[int], str],
    action: str | Callable[[int], str],
    setup: Callable[[], int] | None = None,
    valid: dict[str, str] | None = None,
    others: tuple[str, ...] | Callable[[Case], list[str]] = (),
    *,
    fresh: bool = False,
    repeatable: bool = False,
    **case: Any,
) -> Action:
    """A button or small form on a page, whose page and action may name the record
    ``setup`` makes; refused, it may show a 403, 404, 405 or 409 page."""

    def prepare() -> Case:
        record = setup() if setup else 0
        return Case(
            name,
            email,
            page(record) if callable(page) else page,
            action(record) if callable(action) else action,
            valid or {},
            **{"shown_again": False, "error_pages": True, **case},
        )

    listed = others if callable(others) else (lambda _case: list(others))
    return Action(name, prepare, listed, fresh=fresh, repeatable=repeatable)


_NEW_APPLICATION = {
    "amount": "300000000",
    "project_cost": "600000000",
    "own_equity": "200000000",
    "purpose_description": "Mua phân bón cho vụ Đông Xuân",
    "project_description": "Thu mua và chế biến bưởi",
}
_VISIT = {
    "visited_on": TODAY.isoformat(),
    "people_met": "Chủ nhiệm",
    "signatory": "Ông A",
    "funds_use": "fully",
    "amount_verified": "1000000",
    "progress_pct": "50",
    "verdict": "compliant",
    "action": "submit",
}
_RESTRUCTURE = {
    "request_reference": "CV-12",
    "reason": "Mất mùa",
    "installments": "3",
    "first_due_on": "2027-01-23",
    "propose": "y",
}


def _reset_case() -> Case:
    with current_app.test_request_context():
        token = generate_reset_password_token(person(OFFICER))
    url = f"/account/reset/{token}"
    return Case(
        "reset a forgotten password",
        None,
        url,
        url,
        {"password": "another-long-password", "password_confirm": "another-long-password"},
        audit_rows=0,
    )


#: Forms with typed fields: fuzzed by the first module's ``post_hostile`` (hostile values in
#: one to three fields).
FORMS = [
    _form(
        Case("apply for a loan", VANDU, "/applications/new", "/applications/new", _NEW_APPLICATION),
        repeatable=True,
    ),
    _form(
        Case(
            "propose a restructuring (accepted)",
            OFFICER,
            "/loans/3/restructure",
            "/loans/3/restructure",
            _RESTRUCTURE,
        )
    ),
    _form(
        Case(
            "propose an extension",
            OFFICER,
            "/loans/3/restructure",
            "/loans/3/restructure",
            {**_RESTRUCTURE, "kind": "extension", "installments": "6"},
        )
    ),
    _form(
        Case(
            "record a visit (accepted)",
            INSPECTOR,
            "/inspections/8/visit",
            "/inspections/8/visit",
            _VISIT,
            drafts=frozenset({"inspection"}),
        )
    ),
    # Flask-Security's bookkeeping (the last sign-in, a password hash, a second factor) is the
    # account's, not a change of the fund's: no audit row.
    _form(
        Case(
            "sign in",
            None,
            "/account/login",
            "/account/login",
            {"email": OFFICER, "password": PASSWORD},
            audit_rows=0,
        ),
        fresh=True,
        repeatable=True,
    ),
    _form(
        Case(
            "change the password",
            OFFICER,
            "/account/change",
            "/account/change",
            {
                "password": PASSWORD,
                "new_password": "another-long-password",
                "new_password_confirm": "another-long-password",
            },
            audit_rows=0,
        ),
        fresh=True,
    ),
    Action("reset a forgotten password", _reset_case, fresh=True),
    _form(
        Case(
            "confirm the password",
            OFFICER,
            "/account/verify",
            "/account/verify",
            {"password": PASSWORD},
            no_op_allowed=True,
        ),
        fresh=True,
        repeatable=True,
    ),
    # The books' exports: hidden fields and dates, asked for again at will.
    *(
        _form(Case(name, ADMIN, "/books/", "/exports/", valid, shown_again=False), repeatable=True)
        for name, valid in (
            ("export the portfolio ledger", {"kind": "portfolio"}),
            (
                "export a register",
                {"kind": "repayments", "date_from": "2026-11-01", "date_to": TODAY.isoformat()},
            ),
            ("export the lending report", {"kind": "lending_report", "period": "2026-H1"}),
        )
    ),
]

#: Single-button actions and small forms on a detail page: fuzzed in their hidden fields and
#: security token, their record number (with ``others``: records that must be refused), and
#: sent twice.
ACTIONS = [
    _button(
        "submit an application",
        VANDU,
        "/applications/7",
        lambda n: f"/applications/{n}/submit",
        complete_dossier,
        # Submitted already; another cooperative's.
        others=("/applications/6/submit", "/applications/1/submit"),
    ),
    _button(
        "start an appraisal",
        OFFICER,
        "/applications/6",
        "/applications/6/start",
        # In appraisal; a draft; rejected.
        others=("/applications/4/start", "/applications/7/start", "/applications/8/start"),
    ),
    _button(
        "complete an appraisal",
        OFFICER,
        "/applications/4/appraisal",
        lambda n: f"/applications/{n}/appraisal/complete",
        finished_appraisal,
        others=("/applications/3/appraisal/complete", "/applications/6/appraisal/complete"),
    ),
    _button(
        "remove a dossier document",
        VANDU,
        "/applications/7",
        "/applications/documents/42/delete",
        # Another cooperative's document; one of a submitted application.
        others=("/applications/documents/1/delete", "/applications/documents/35/delete"),
    ),
    _button(
        "make the loan of an approved application",
        OFFICER,
        "/applications/3",
        lambda n: f"/loans/from-application/{n}",
        approved_application,
        # Has its loan; not approved.
        others=("/loans/from-application/1", "/loans/from-application/4"),
    ),
    _button(
        "sign the contract",
        OFFICER,
        lambda n: f"/loans/{n}",
        lambda n: f"/loans/{n}/sign",
        prepared_loan,
        {"signed_on": TODAY.isoformat()},
        others=("/loans/1/sign", "/loans/4/sign"),  # signed already; closed
    ),
    _button(
        "approve a tranche",
        APPROVER,
        "/loans/1",
        lambda n: f"/loans/tranches/{n}/approve",
        requested_tranche,
        others=("/loans/tranches/1/approve",),  # paid long ago
    ),
    _button(
        "pay a tranche",
        OFFICER,
        "/loans/1",
        lambda n: f"/loans/tranches/{n}/pay",
        approved_tranche,
        others=("/loans/tranches/1/pay",),
    ),
    _button(
        "cancel a tranche",
        OFFICER,
        "/loans/1",
        lambda n: f"/loans/tranches/{n}/cancel",
        requested_tranche,
        {"reason": "Bên vay xin hoãn"},
        others=lambda case: [
            "/loans/tranches/1/cancel",
            case.action.replace("/cancel", "/explode"),  # no such step
        ],
    ),
    _button(
        "approve a restructuring",
        APPROVER,
        "/loans/3",
        lambda n: f"/loans/restructurings/{n}/decide",
        proposed_restructuring,
        {"verdict": "approve"},
        others=("/loans/restructurings/1/decide",),  # decided already
    ),
    _button(
        "reject a restructuring",
        APPROVER,
        "/loans/3",
        lambda n: f"/loans/restructurings/{n}/decide",
        proposed_restructuring,
        {"verdict": "reject", "note": "Chưa đủ hồ sơ"},
        others=("/loans/restructurings/1/decide",),
    ),
    _button(
        "withdraw a restructuring",
        OFFICER,
        "/loans/3",
        lambda n: f"/loans/restructurings/{n}/withdraw",
        proposed_restructuring,
        others=("/loans/restructurings/1/withdraw",),
    ),
    _button(
        "decide a recall",
        APPROVER,
        "/loans/3",
        lambda n: f"/loans/recalls/{n}/decide",
        proposed_recall,
        {"verdict": "approve"},
        others=("/loans/recalls/1/decide",),  # approved already
    ),
    _button(
        "approve a reversal",
        APPROVER,
        "/loans/5",
        "/loans/repayments/16/reverse",
        reversal_asked,
        {"step": "approve"},
        others=("/loans/repayments/15/reverse",),  # no reversal asked for
    ),
    _button(
        "ask for a reversal",
        OFFICER,
        "/loans/5",
        "/loans/repayments/16/reverse",
        valid={"reason": "Nhầm khoản."},
    ),
    _button(
        "mark a follow-up done",
        OFFICER,
        "/inspections/4",
        "/inspections/follow-ups/1/done",
        valid={"note": "Đã nộp bảng kê"},
    ),
    _button(
        "remove a visit photo",
        INSPECTOR,
        "/inspections/8/visit",
        lambda n: f"/inspections/photos/{n}/remove",
        visit_photo,
        others=("/inspections/photos/1/remove",),  # of a visit recorded long ago
        drafts=frozenset({"inspection"}),
    ),
    _button(
        "approve capital",
        APPROVER,
        "/books/",
        lambda n: f"/books/capital/{n}/approve",
        recorded_capital,
    ),
    _button(
        "cancel capital",
        ADMIN,
        "/books/",
        lambda n: f"/books/capital/{n}/cancel",
        recorded_capital,
        {"reason": "Nhập nhầm"},
    ),
    _button(
        "unlink related borrowers",
        OFFICER,
        "/cooperatives/1",
        lambda n: f"/cooperatives/1/related/{n}/delete",
        linked_cooperatives,
        # The link of cooperatives 1 and 2, through cooperative 3's page.
        others=lambda case: [case.action.replace("/cooperatives/1/", "/cooperatives/3/")],
    ),
    _button(
        "retire a product",
        ADMIN,
        "/products/1",
        "/products/1/status",
        valid={"status": "retired"},
    ),
    _button(
        "sign out",
        OFFICER,
        "/home",
        "/account/logout",
        fresh=True,
        repeatable=True,
        no_op_allowed=True,
    ),
]

#: The list pages' "Export to Excel": its input is the query string the page carries.
EXPORTS = [
    _button(name, OFFICER, page, action, repeatable=True, no_op_allowed=True)
    for name, page, action in (
        ("export the cooperatives", "/cooperatives/", "/cooperatives/export?sort=name&dir=asc"),
        (
            "export a queue",
            "/applications/queue",
            "/applications/queue/export?tab=new&sort=submitted&dir=asc",
        ),
        ("export the loans", "/loans/", "/loans/export?sort=number&dir=desc"),
        (
            "export the receipts",
            "/loans/repayments/",
            "/loans/repayments/export?sort=date&dir=desc",
        ),
        ("export the visits", "/inspections/", "/inspections/export?tab=due&sort=due&dir=asc"),
    )
]

# --- the tests -----------------------------------------------------------------------------------

#: Field slots (a number picks the n-th field, the security token included) and what goes in.
HIDDEN_EDITS = st.dictionaries(
    st.integers(0, 63), st.one_of(st.just(MISSING), HOSTILE), min_size=1, max_size=3
)
#: Bad record numbers: zero, signs, decimals, digits of other scripts, beyond every column.
BAD_NUMBERS = ("0", "-1", "+1", "1.5", "abc", "١٢", "%00", "2147483648", "9" * 40)
#: What a list's URL may carry (the list's own filters, the pager, and names it does not know).
QUERY_NAMES = (
    "q",
    "status",
    "sort",
    "dir",
    "page",
    "per_page",
    "district",
    "product",
    "from",
    "to",
    "tab",
    "kind",
    "verdict",
    "inspector",
    "channel",
    "legal_type",
    "debt_group",
    "zz",
)
QUERIES = st.dictionaries(st.sampled_from(QUERY_NAMES), HOSTILE, min_size=1, max_size=4)

SETTINGS = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
#: Posts made per test, for the report (``pytest -s``).
POSTS: dict[str, int] = {}


def _client(clients: Clients, action: Action, case: Case) -> Any:
    return clients.fresh(case.email) if action.fresh else clients(case.email)


def _count(test: str, n: int = 1) -> None:
    POSTS[test] = POSTS.get(test, 0) + n


def _expected(case: Case) -> set[str]:
    """What the valid form gives: an acceptance; a sign-out or a re-authentication changes no
    row of the fund's (so "unchanged" is what they can give)."""
    return {"accepted", "unchanged"} if case.no_op_allowed else {"accepted"}


@pytest.mark.parametrize("action", FORMS, ids=[action.name for action in FORMS])
def test_hostile_values_in_forms_that_accept_meet_the_services(action, clients):
    """The valid form is accepted (so hostile values reach the services); then 1–3 fields
    hostile: a page every time, never half a change."""
    with rolled_back():
        case = action.prepare()
        outcome = post_hostile(_client(clients, action, case), case, {})
        assert outcome in _expected(case), (action.name, outcome)
        _count("forms")

    @settings(SETTINGS, max_examples=action.examples)
    @given(edits=st.dictionaries(st.integers(0, 63), HOSTILE, min_size=1, max_size=3))
    @example(edits={"amount_verified": "-1", "progress_pct": "101"})
    @example(edits={"installments": "0", "first_due_on": "9999-12-31"})
    @example(edits={"email": "x" * 10_000, "password": "\x00"})
    @example(edits={"people_met": "a\x00b", "risks": "\x00", "reason": "a\x00b"})
    def run(edits: dict[Any, str]) -> None:
        with rolled_back():
            case = action.prepare()
            post_hostile(_client(clients, action, case), case, edits)
            _count("forms")

    run()


@pytest.mark.parametrize("action", ACTIONS + EXPORTS, ids=[a.name for a in ACTIONS + EXPORTS])
def test_hostile_hidden_fields_and_security_tokens_on_single_button_actions(action, clients):
    """The valid post is accepted; any hidden field or the token missing or hostile gives a
    page and never half a change."""
    with rolled_back():
        case = action.prepare()
        outcome = post_edited(_client(clients, action, case), case, {})
        assert outcome in _expected(case), (action.name, outcome)
        _count("hidden fields")

    @settings(SETTINGS, max_examples=action.examples)
    @given(edits=HIDDEN_EDITS)
    @example(edits={"csrf_token": MISSING})
    @example(edits={"csrf_token": "x" * 10_000})
    @example(edits={"verdict": "APPROVE", "note": "\x00"})
    @example(edits={"note": "a\x00b", "reason": "a\x00b"})  # PostgreSQL stores no NUL
    @example(edits={"step": "approve\u202e", "reason": MISSING})
    def run(edits: dict[Any, Any]) -> None:
        with rolled_back():
            case = action.prepare()
            post_edited(_client(clients, action, case), case, edits)
            _count("hidden fields")

    run()


def _bad_urls(case: Case) -> list[str]:
    """The action with each record number in turn made bad."""
    path, _, query = case.action.partition("?")
    urls = []
    for match in re.finditer(r"/(\d+)(?=/|$)", path):
        for bad in BAD_NUMBERS:
            bad_path = path[: match.start(1)] + bad + path[match.end(1) :]
            urls.append(bad_path + (f"?{query}" if query else ""))
    return urls


@pytest.mark.parametrize("action", ACTIONS, ids=[action.name for action in ACTIONS])
def test_other_records_and_bad_record_numbers_are_refused(action, clients):
    """The valid form posted to another record (decided already, another cooperative's), or
    to a record number that is none (zero, negative, huge, not digits): refused, nothing
    changed, and the page says why."""
    with rolled_back():
        case = action.prepare()
        targets = action.others(case) + _bad_urls(case)
    for url in targets:
        with rolled_back():
            case = action.prepare()
            client = _client(clients, action, case)
            data, _changed, typed = form_data(client, case, {})
            outcome = check_post(client, case, data, url=url, changed={"url": url}, typed=typed)
            assert outcome == "refused", (action.name, url, outcome)
            _count("record numbers")


@pytest.mark.parametrize(
    "action",
    [a for a in FORMS + ACTIONS if not a.repeatable],
    ids=[a.name for a in FORMS + ACTIONS if not a.repeatable],
)
def test_the_same_form_sent_twice_acts_once(action, clients):
    """A double click, or the back button and send again: the second post changes nothing
    and says why."""
    with rolled_back():
        case = action.prepare()
        client = _client(clients, action, case)
        data, _changed, typed = form_data(client, case, {})
        assert check_post(client, case, data, changed={}, typed=typed) == "accepted", action.name
        client.get(case.page, follow_redirects=True)  # the page after it (its message read)
        again = check_post(client, case, data, changed={"again": "1"}, typed=typed)
        assert again != "accepted", action.name
        _count("sent twice", 2)


# --- uploads -------------------------------------------------------------------------------------

#: Names a browser may send (a file name is only a label: it never reaches the disk).
UPLOAD_NAMES = (
    "ke-hoach.pdf",
    "../../x.pdf",
    "..\\..\\x.pdf",
    "/etc/passwd",
    "C:\\Windows\\win.ini",
    "a\x00b.pdf",
    "\u202efdp.exe",  # shows as "exe.pdf"
    "x" * 300 + ".pdf",
    "ệ" * 150 + ".jpg",
    "<script>alert(1)</script>.pdf",
    '"><img src=x onerror=alert(1)>.png',
    '=HYPERLINK("http://x","y").pdf',
    "",
    "   ",
    "a\r\nContent-Type: text/html.pdf",
)
#: Names the rules refuse whatever the content: empty, too long, invisible characters.
REFUSED_NAMES = {"", "   ", "a\x00b.pdf", "\u202efdp.exe", "x" * 300 + ".pdf"}
#: Names a multipart body cannot carry as they are (a quote, a line break): the file may
#: not arrive at all ("choose a file"), so either outcome is right, each checked.
MANGLED_NAMES = {name for name in UPLOAD_NAMES if '"' in name or "\n" in name}
#: Contents by what they are; only the first three are documents the fund keeps.
CONTENTS: dict[str, Callable[[], bytes]] = {
    "pdf": lambda: PDF,
    "jpeg": jpeg,
    "png": lambda: _png(),
    "exe renamed": lambda: b"MZ\x90\x00\x03" + bytes(200),
    "empty": lambda: b"",
    "html": lambda: b"<html><script>alert(1)</script></html>",
    "svg": lambda: b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
}
#: The upload limit while these tests run (MiB), so that "too large" is a small buffer.
LIMIT_MB = 1


def _png(size: tuple[int, int] = (8, 8), mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, format="PNG")
    return out.getvalue()


def _files(root: Path) -> set[Path]:
    return {path for path in root.rglob("*") if path.is_file()}


@contextmanager
def files_watched(uploads: Path) -> Iterator[dict[str, set[Path]]]:
    """What appeared in the upload folder; and nothing written anywhere around it (the
    database files aside), nor where a path in a file name would lead."""
    around = uploads.parent
    outside_before = {p for p in _files(around) - _files(uploads) if "sqlite" not in p.name}
    inside_before = _files(uploads) if uploads.exists() else set()
    seen: dict[str, set[Path]] = {}
    yield seen
    seen["new"] = (_files(uploads) if uploads.exists() else set()) - inside_before
    outside = {p for p in _files(around) - _files(uploads) if "sqlite" not in p.name}
    assert outside == outside_before, outside ^ outside_before
    for escaped in (uploads / "../../x.pdf", uploads / "x.pdf", Path.cwd() / "x.pdf"):
        assert not escaped.resolve().exists(), escaped
    assert not any(p.name.endswith(".part") for p in seen["new"]), seen["new"]


@pytest.fixture
def small_uploads(demo_app: Any, monkeypatch: Any) -> Path:  # noqa: F811
    """Upload limits of a megabyte (photos and documents), two for a whole request; the test
    client builds its bodies in memory (not in a spooled file it never closes)."""
    import werkzeug.test

    from loanfund.services import photos

    encode = werkzeug.test.stream_encode_multipart
    monkeypatch.setattr(
        werkzeug.test,
        "stream_encode_multipart",
        lambda data, *args, **kwargs: encode(
            data, use_tempfile=False, boundary=kwargs.get("boundary")
        ),
    )
    monkeypatch.setitem(demo_app.config["LOANFUND"], "MAX_UPLOAD_MB", LIMIT_MB)
    monkeypatch.setitem(demo_app.config, "MAX_CONTENT_LENGTH", 2 * LIMIT_MB * 1024 * 1024)
    monkeypatch.setattr(photos, "MAX_BYTES", LIMIT_MB * 1024 * 1024)
    return upload_dir(demo_app.config["LOANFUND"])


def _over_limit(head: bytes) -> bytes:
    return head + bytes(LIMIT_MB * 1024 * 1024)


DOCUMENT = Case(
    "upload a dossier document",
    VANDU,
    "/applications/7",
    "/applications/7/documents",
    {"kind": "business_plan"},
    shown_again=False,
    error_pages=True,
)
PHOTOS = Case(
    "add photos to a visit",
    INSPECTOR,
    "/inspections/8/visit",
    "/inspections/8/visit",
    {"action": "save"},
    shown_again=False,
    drafts=frozenset({"inspection"}),
    error_pages=True,
)


def _upload(client: Any, case: Case, field_name: str, files: list[tuple[str, bytes]]) -> str:
    data, _changed, _typed = form_data(client, case, {})
    data[field_name] = [(io.BytesIO(content), name) for name, content in files]
    shown = {field_name: [(name[:60], len(content)) for name, content in files]}
    return check_post(client, case, data, changed=shown)


@pytest.mark.parametrize("kind", [*CONTENTS, "over the limit"])
def test_hostile_dossier_uploads_keep_only_documents_under_random_names(
    kind, clients, small_uploads
):
    """Each name with each content: a file the fund keeps (PDF, JPEG, PNG with a name that
    is a plain label) is stored once, under the store's own name, with its row and audit; any
    other is refused with a message, leaving no row and no file; nothing is ever written
    outside the upload folder."""
    content = _over_limit(PDF) if kind == "over the limit" else CONTENTS[kind]()
    keeps = kind in ("pdf", "jpeg", "png")
    for name in UPLOAD_NAMES:
        kept: set[Path] = set()
        with rolled_back(), files_watched(small_uploads) as seen:
            outcome = _upload(clients(VANDU), DOCUMENT, "file", [(name, content)])
            _count("uploads")
            # Derived from the rules: the content decides the type; a name with nothing
            # visible, invisible characters or over 200 characters is refused.
            expected = "accepted" if keeps and name not in REFUSED_NAMES else "refused"
            if name in MANGLED_NAMES and outcome == "refused":
                expected = "refused"
            assert outcome == expected, (kind, name, outcome)
            if outcome == "accepted":
                document = db.session.scalars(
                    select(ApplicationDocument).order_by(ApplicationDocument.id.desc())
                ).first()
                assert document is not None
                label = document.original_name
                assert not {"/", "\\", "\x00"} & set(label), label
                kept = {small_uploads / document.store_key}
        # A refusal leaves no file; an acceptance exactly the one its row names.
        assert seen["new"] == kept, (kind, name)


def test_a_request_over_the_size_limit_is_refused_whole(clients, small_uploads):
    """A body larger than the whole request may be: the 413 page, nothing kept."""
    with rolled_back(), files_watched(small_uploads) as seen:
        client = clients(VANDU)
        data, _changed, _typed = form_data(client, DOCUMENT, {})
        data["file"] = (io.BytesIO(_over_limit(_over_limit(PDF))), "plan.pdf")
        before = fingerprint()
        response = client.post(DOCUMENT.action, data=data)
        assert response.status_code == 413
        assert "<h1" in response.get_data(as_text=True)
        db.session.expire_all()
        assert fingerprint() == before
        _count("uploads")
    assert seen["new"] == set()


PHOTO_CONTENTS: dict[str, Callable[[], bytes]] = {
    "jpeg": jpeg,
    "png": lambda: _png(),
    "exe renamed": lambda: b"MZ\x90\x00\x03" + bytes(200),
    "empty": lambda: b"",
    "jpeg header only": lambda: jpeg()[:40],
    "too many pixels": lambda: _png((10_000, 6_000), "1"),
    "over the limit": lambda: _over_limit(b"\xff\xd8\xff\xe0"),
}


@pytest.mark.parametrize("kind", PHOTO_CONTENTS)
def test_hostile_visit_photos_keep_only_pictures_re_encoded(kind, clients, small_uploads):
    """A visit's draft saved with a photo: a picture is kept re-encoded (a row, its audit,
    one file); anything else is named in a message and leaves nothing."""
    content = PHOTO_CONTENTS[kind]()
    for name in UPLOAD_NAMES:
        if not name.strip():
            continue  # a browser sends no file for an empty name (nothing is uploaded)
        kept = 0
        with rolled_back(), files_watched(small_uploads) as seen:
            outcome = _upload(clients(INSPECTOR), PHOTOS, "photos", [(name, content)])
            _count("uploads")
            expected = "accepted" if kind in ("jpeg", "png") else "refused"
            if name in MANGLED_NAMES and outcome == "unchanged":
                expected = "unchanged"  # no file arrived: the draft is saved, and said so
            assert outcome == expected, (kind, name, outcome)
            if outcome == "accepted":
                photo = db.session.scalars(
                    select(InspectionPhoto).order_by(InspectionPhoto.id.desc())
                ).first()
                assert photo is not None and photo.content_type == "image/jpeg"
                assert "\x00" not in photo.original_name
                kept = 1
        assert len(seen["new"]) == kept, (kind, name)


def test_a_good_photo_sent_with_a_bad_one_is_kept_and_the_bad_one_named(clients, small_uploads):
    """Photos are evidence taken on the spot: the good ones are kept (with their audit) and
    each refused one is named, the form shown again."""
    with rolled_back(), files_watched(small_uploads) as seen:
        client = clients(INSPECTOR)
        data, _changed, _typed = form_data(client, PHOTOS, {})
        data["photos"] = [(io.BytesIO(jpeg()), "ruong.jpg"), (io.BytesIO(PDF), "hoa-don.pdf")]
        audit_before = db.session.scalar(select(func.count()).select_from(AuditEvent))
        response = client.post(PHOTOS.action, data=data)
        body = response.get_data(as_text=True)
        assert response.status_code == 422 and "hoa-don.pdf" in body
        db.session.expire_all()
        names = db.session.scalars(
            select(InspectionPhoto.original_name).where(InspectionPhoto.inspection_id == 8)
        ).all()
        assert names == ["ruong.jpg"]
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) > audit_before
        _count("uploads")
    assert len(seen["new"]) == 1


# --- list and books exports ----------------------------------------------------------------------


def run_queued_exports() -> list[str]:
    """Write the queued workbooks inside the example's transaction (the app's own runner,
    with sessions of its own, cannot see uncommitted rows) and say how each ended."""
    db.session.remove()
    bind = db.session.get_bind()
    jobs = db.session.scalars(select(ExportJob.id).where(ExportJob.status == "queued")).all()
    db.session.remove()
    app = current_app._get_current_object()
    runner = ExportRunner(app, inline=True)
    for job_id in jobs:
        # The job's first session records its progress (its commits release savepoints); the
        # second reads the books and joins the transaction as it is (a savepoint of its own,
        # rolled back when it closes, would undo the first one's progress under it).
        modes = iter(["create_savepoint"])

        def sessions(modes: Iterator[str] = modes) -> Session:
            return Session(bind=bind, join_transaction_mode=next(modes, "rollback_only"))

        run_export(
            job_id,
            sessions=sessions,
            folder=export_dir(app.config["LOANFUND"]),
            digits=0,
            in_locale=runner._in_locale,
        )
    return [db.session.get(ExportJob, job_id).status.value for job_id in jobs]


@pytest.mark.parametrize("action", EXPORTS, ids=[action.name for action in EXPORTS])
def test_hostile_query_strings_on_list_exports(action, clients):
    """Whatever the URL carries, the export is queued (and its workbook written) or refused
    with a message: never a server error, never a failed workbook."""

    @settings(SETTINGS, max_examples=12)
    @given(query=QUERIES)
    @example(query={"sort": "nonexistent", "dir": "sideways", "zz": "1"})
    @example(query={"page": "9" * 40, "per_page": "-1"})
    @example(query={"tab": "../../etc/passwd"})
    @example(query={"from": "9999-12-31", "to": "0001-01-01"})
    @example(query={"q": "%_\\", "status": "\x00", "district": '=HYPERLINK("http://x")'})
    @example(query={"product": "2147483648", "inspector": "-1", "debt_group": "9"})
    def run(query: dict[str, str]) -> None:
        with rolled_back():
            case = action.prepare()
            client = clients(case.email)
            token = token_of(client.get(case.page).get_data(as_text=True))
            url = case.action.split("?")[0] + "?" + urlencode(query, quote_via=quote)
            outcome = check_post(client, case, {"csrf_token": token}, url=url, changed=query)
            if outcome == "accepted":
                assert run_queued_exports() == ["done"], query
            _count("exports")

    run()


# --- Flask-Security ------------------------------------------------------------------------------


def test_forgotten_password_answers_alike_and_mails_only_users(clients):
    """The page answers alike for every address (it does not tell who has an account); a
    reset email is queued for a user's address, and for nothing else; no other row changes."""
    users = set(db.session.scalars(select(User.email)).all())

    @settings(SETTINGS, max_examples=15)
    @given(email=st.one_of(HOSTILE, st.sampled_from([f" {OFFICER} ", OFFICER.upper()])))
    @example(email=OFFICER)
    @example(email="nobody@example.vn")
    @example(email=OFFICER + "\x00")
    def run(email: str) -> None:
        with rolled_back():
            client = clients.fresh(None)
            token = token_of(client.get("/account/reset").get_data(as_text=True))
            outbox = "outbox_message"
            before = fingerprint(frozenset({outbox}))
            sent_before = db.session.scalar(select(func.count()).select_from(OutboxMessage))
            response = client.post("/account/reset", data={"email": email, "csrf_token": token})
            body = response.get_data(as_text=True)
            assert response.status_code == 200 and "Traceback" not in body, email
            assert re.search(r"alert alert-|invalid-feedback", body), email
            db.session.expire_all()
            assert fingerprint(frozenset({outbox})) == before, email
            sent = db.session.scalars(
                select(OutboxMessage.recipient).order_by(OutboxMessage.id).offset(sent_before)
            ).all()
            assert len(sent) <= 1 and set(sent) <= users, (email, sent)
            if email == OFFICER:
                assert sent == [OFFICER]
            _count("security")

    run()


def _code_form(html: str, action_prefix: str) -> str:
    match = re.search(rf'<form action="({re.escape(action_prefix)}[^"]*)"', html)
    assert match, f"no form posting to {action_prefix}"
    return match.group(1).replace("&amp;", "&")


CODES = st.one_of(
    st.just(MISSING),
    HOSTILE,
    st.sampled_from(
        ["000000", "12345", "1234567", "１２３４５６", "-12345", "99999999999999999999"]
    ),
)


def test_two_factor_setup_with_hostile_choices_and_codes(clients):
    """Setting up an authenticator app: a hostile choice or code is refused with a message and
    changes nothing; the right code completes it (the user's second factor recorded)."""
    setup = Case(
        "set up two-factor",
        OFFICER,
        "/account/tf-setup",
        "/account/tf-setup",
        shown_again=False,
        audit_rows=0,
        error_pages=True,
    )

    def start(client: Any, choice: Any) -> tuple[str, str]:
        token = token_of(client.get(setup.page).get_data(as_text=True))
        data = {"csrf_token": token, "setup": choice}
        data = {k: v for k, v in data.items() if v is not MISSING}
        if choice != "authenticator":
            assert check_post(client, setup, data, changed={"setup": choice}) == "refused"
            return "", token
        response = client.post(setup.action, data=data)
        assert response.status_code == 200
        return response.get_data(as_text=True), token

    @settings(SETTINGS, max_examples=12)
    @given(choice=st.one_of(st.just("authenticator"), st.just(MISSING), HOSTILE), code=CODES)
    @example(choice="sms", code="000000")
    @example(choice="authenticator", code="")
    def run(choice: Any, code: Any) -> None:
        with rolled_back():
            client = clients.fresh(OFFICER)
            page, token = start(client, choice)
            _count("security")
            if not page:
                return
            url = _code_form(page, "/account/tf-setup/")
            data = {
                k: v for k, v in {"csrf_token": token, "code": code}.items() if v is not MISSING
            }
            assert check_post(client, setup, data, url=url, changed={"code": code}) == "refused"
            # A state token that is not the one given.
            bad = url[:-3] + "xyz"
            assert check_post(client, setup, data, url=bad, changed={"url": bad}) == "refused"
            _count("security", 2)

    run()
    with rolled_back():
        client = clients.fresh(OFFICER)
        page, token = start(client, "authenticator")
        key = re.search(r"<div>([A-Z2-7]{4}(?:-[A-Z2-7]{4})+)</div>", page)
        assert key, "no key shown for manual entry"
        code = TOTP(key=key.group(1).replace("-", ""), format="base32").generate().token
        url = _code_form(page, "/account/tf-setup/")
        outcome = check_post(client, setup, {"csrf_token": token, "code": code}, url=url)
        assert outcome == "accepted"
        assert person(OFFICER).tf_primary_method == "authenticator"


@contextmanager
def second_factor(email: str) -> Iterator[tuple[Any, str]]:
    """``email`` with an authenticator app, signed in with the password (the code still to
    give): the client, and the user's secret."""
    user = person(email)
    secret = security._totp_factory.generate_totp_secret()
    security.datastore.tf_set(user, "authenticator", totp_secret=secret)
    db.session.commit()
    client = current_app.test_client()
    token = token_of(client.get("/account/login").get_data(as_text=True))
    response = client.post(
        "/account/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302 and "tf-validate" in response.headers["Location"]
    yield client, secret


def test_two_factor_sign_in_with_hostile_codes_and_rescues(clients):
    """Signing in with an authenticator: a hostile code or rescue choice changes nothing and
    says so; a rescue asked for writes only its email; the right code signs in."""
    validate = Case(
        "two-factor code",
        None,
        "/account/tf-validate",
        "/account/tf-validate",
        shown_again=False,
        audit_rows=0,
        error_pages=True,
    )

    @settings(SETTINGS, max_examples=12)
    @given(code=CODES, rescue=st.one_of(st.just(MISSING), HOSTILE))
    @example(code="000000", rescue="help")
    @example(code=MISSING, rescue="email")
    def run(code: Any, rescue: Any) -> None:
        with rolled_back(), second_factor(OFFICER) as (client, _secret):
            page = client.get(validate.page).get_data(as_text=True)
            token = token_of(page)
            data = {
                k: v for k, v in {"csrf_token": token, "code": code}.items() if v is not MISSING
            }
            assert check_post(client, validate, data, changed={"code": code}) == "refused"
            rescue_url = _code_form(page, "/account/tf-rescue")
            data = {"csrf_token": token, "help_setup": rescue}
            data = {k: v for k, v in data.items() if v is not MISSING}
            before = fingerprint(frozenset({"outbox_message"}))
            response = client.post(rescue_url, data=data)
            body = response.get_data(as_text=True)
            assert response.status_code in (200, 302, 400) and "Traceback" not in body
            db.session.expire_all()
            assert fingerprint(frozenset({"outbox_message"})) == before, rescue
            if response.status_code == 302:
                body = client.get(response.headers["Location"]).get_data(as_text=True)
            assert re.search(r"alert alert-|invalid-feedback|<h1", body), rescue
            _count("security", 2)

    run()
    with rolled_back(), second_factor(OFFICER) as (client, secret):
        token = token_of(client.get(validate.page).get_data(as_text=True))
        code = security._totp_factory.generate_totp_password(secret)
        outcome = check_post(client, validate, {"csrf_token": token, "code": code})
        assert outcome == "accepted"
        assert client.get("/home").status_code == 200


def test_the_two_factor_choice_posted_with_no_choice_to_make_changes_nothing(clients):
    """Flask-Security asks which second factor only of a user with several; with the
    authenticator app the only one enabled, no state reaches it: a post gives a page and
    changes nothing."""
    for email in (None, OFFICER):
        with rolled_back():
            client = clients.fresh(email)
            token = token_of(client.get("/home" if email else "/").get_data(as_text=True))
            before = fingerprint()
            response = client.post(
                "/account/tf-select", data={"csrf_token": token, "which": "authenticator"}
            )
            assert response.status_code in (200, 302, 400, 404)
            db.session.expire_all()
            assert fingerprint() == before
            _count("security")


def test_sign_in_sends_nobody_to_another_site(clients):
    """A hostile ``next`` after signing in: the redirect stays on the fund's site."""
    for target in (
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "javascript:x",
        "/loans/",
    ):
        with rolled_back():
            client = clients.fresh(None)
            token = token_of(client.get("/account/login").get_data(as_text=True))
            response = client.post(
                f"/account/login?next={quote(target)}",
                data={"email": OFFICER, "password": PASSWORD, "csrf_token": token},
            )
            # Refused with a message (200), or signed in and sent to a page of the fund's.
            assert response.status_code in (200, 302), target
            if response.status_code == 200:
                assert "alert alert-" in response.get_data(as_text=True), target
                continue
            location = urlsplit(response.headers["Location"])
            assert location.netloc in ("", "localhost") and location.scheme in ("", "http")
            if target == "/loans/":  # a page of the fund's is where it leads
                assert location.path == "/loans/"
            _count("security")


# --- every POST route is fuzzed ------------------------------------------------------------------

#: POST routes with a test of their own here (the endpoint and the test that posts to it).
OWN_TESTS: dict[str, Callable[..., None]] = {
    "applications.upload": test_hostile_dossier_uploads_keep_only_documents_under_random_names,
    "inspections.visit": test_hostile_visit_photos_keep_only_pictures_re_encoded,
    "security.forgot_password": test_forgotten_password_answers_alike_and_mails_only_users,
    "security.two_factor_setup": test_two_factor_setup_with_hostile_choices_and_codes,
    "security.two_factor_setup_validate": test_two_factor_setup_with_hostile_choices_and_codes,
    "security.two_factor_token_validation": test_two_factor_sign_in_with_hostile_codes_and_rescues,
    "security.two_factor_rescue": test_two_factor_sign_in_with_hostile_codes_and_rescues,
}
#: POST routes no test fuzzes, each with the reason.
NOT_FUZZED: dict[str, str] = {
    "security.tf_select": (
        "Flask-Security asks which second factor only of a user with several; the authenticator "
        "app is the only one enabled, so no state reaches its form (a post to it changes "
        "nothing: test_the_two_factor_choice_posted_with_no_choice_to_make_changes_nothing)"
    ),
}


def test_every_post_route_is_fuzzed_by_one_module_or_the_other(demo_app):  # noqa: F811
    """A new form cannot escape: each POST route is the action of a case of either module, or
    has a test of its own here, or is listed with the reason it is not fuzzed."""
    adapter = demo_app.url_map.bind("localhost")

    def endpoint(url: str) -> str:
        return adapter.match(urlsplit(url).path, method="POST")[0]

    posted = {endpoint(case.action) for case in CASES}
    for action in FORMS + ACTIONS + EXPORTS:
        with rolled_back():
            posted.add(endpoint(action.prepare().action))
    routes = {
        rule.endpoint for rule in demo_app.url_map.iter_rules() if "POST" in (rule.methods or ())
    }
    covered = posted | set(OWN_TESTS) | set(NOT_FUZZED)
    assert routes - covered == set(), "POST routes no hostile-input test posts to"
    assert covered - routes == set(), "listed routes the app does not have"
    first = {endpoint(case.action) for case in CASES}
    print(
        f"\nPOST routes: {len(routes)}: first module {len(first)}, this one {len(covered - first)}"
    )


def test_zz_posts_made(capsys):
    """The number of posts made by this module's tests (printed for the report)."""
    with capsys.disabled():
        print(f"\nhostile posts by this module: {sum(POSTS.values())} {POSTS}")
    assert sum(POSTS.values()) >= 0
