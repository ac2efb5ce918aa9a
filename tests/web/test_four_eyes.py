"""Four-eyes: whoever prepared a decision that moves money or changes a loan's terms cannot take
it, even when they hold the deciding role — the page does not offer it, and a direct POST (with
a valid CSRF token) is refused in words and changes nothing.

The demo's officer also holds the approver role here, so the only thing between them and the
decision is the four-eyes rule; the demo's administrator records capital and may approve
capital. (No write-off exists in the application yet.)
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy import func, select

from loanfund.domain.access import SYSTEM
from loanfund.domain.roles import Role
from loanfund.models import (
    AuditEvent,
    CapitalMovement,
    Inspection,
    JournalEntry,
    LoanApplication,
    Recall,
    Repayment,
    Restructuring,
    Tranche,
    User,
    db,
)
from loanfund.models import Loan as LoanModel
from loanfund.services.accounts import actor_for, update_user
from loanfund.services.demo import load_demo_fund
from loanfund.services.file_store import FileStore
from loanfund.services.ledger import request_capital_movement
from loanfund.services.loans import request_tranche
from loanfund.services.repayments import request_reversal
from loanfund.services.restructurings import propose_restructuring
from tests.conftest import TODAY, csrf_token, sign_in

REFUSAL = "four-eyes rule"


@pytest.fixture
def fund(session, tmp_path, password_hash) -> dict[str, Any]:
    """The demo fund; its officer also holds the approver role."""
    load_demo_fund(
        session,
        hash_password=lambda password: password_hash,
        today=TODAY,
        store=FileStore(tmp_path / "uploads"),
    )
    officer = session.scalar(select(User).where(User.email.like("officer@%")))
    admin = session.scalar(select(User).where(User.email.like("admin@%")))
    update_user(
        session,
        actor=SYSTEM,
        user_id=officer.id,
        full_name=officer.full_name,
        roles=[Role.OFFICER, Role.APPROVER],
        active=True,
    )
    return {"officer": officer, "admin": admin}


def _snapshot(row: Any) -> dict[str, Any]:
    db.session.expire_all()
    fresh = db.session.get(type(row), row.id)
    return {column.key: getattr(fresh, column.key) for column in type(row).__table__.columns}


def _counts() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count(AuditEvent.id))),
        db.session.scalar(select(func.count(JournalEntry.id))),
    )


def _refused_by_post(client, page: str, url: str, data: dict[str, str], row: Any) -> None:
    """POST the decision as its preparer: refused in words, the row and the books unchanged."""
    before, counts = _snapshot(row), _counts()
    response = client.post(url, data={"csrf_token": csrf_token(client, page), **data})
    if response.status_code == 302:
        # A refusal flashed on the page the form is on (the books' capital approval).
        response = client.get(response.location)
        assert response.status_code == 200
    else:
        assert response.status_code == 403, (url, response.status_code)
    body = response.get_data(as_text=True)
    assert REFUSAL in body, body[:2000]
    assert _snapshot(row) == before
    assert _counts() == counts


class _FormValues(HTMLParser):
    """The values a browser would send from the page's form marked ``data-testid``."""

    def __init__(self, testid: str) -> None:
        super().__init__()
        self.testid, self.values, self._inside, self._select, self._text = testid, {}, False, "", ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form":
            self._inside = a.get("data-testid") == self.testid
        elif not self._inside or (not a.get("name") and tag != "option"):
            return
        elif tag == "input" and (a.get("type") not in ("radio", "checkbox") or "checked" in a):
            self.values[a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select = a["name"]
        elif (
            tag == "option"
            and self._select
            and ("selected" in a or self._select not in self.values)
        ):
            self.values[self._select] = a.get("value", "")
        elif tag == "textarea":
            self._text = a["name"]
            self.values[self._text] = ""

    def handle_data(self, data: str) -> None:
        if self._text:
            self.values[self._text] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False
        elif tag == "select":
            self._select = ""
        elif tag == "textarea":
            self._text = ""


def _form_as_shown_to(app, email: str, url: str, testid: str) -> dict[str, str]:
    """The form's values as the page shows them to another person (who may submit it)."""
    other = app.test_client()
    sign_in(other, email)
    parser = _FormValues(testid)
    parser.feed(other.get(url).get_data(as_text=True))
    assert parser.values, f"no {testid} form on {url} for {email}"
    parser.values.pop("csrf_token", None)
    return parser.values


def _active_loan() -> LoanModel:
    loan_id = db.session.scalar(
        select(LoanModel.id).where(LoanModel.status == "active").order_by(LoanModel.id)
    )
    return db.session.get(LoanModel, loan_id)


def test_the_appraiser_cannot_decide_the_application(app, client, fund):
    officer = fund["officer"]
    application = db.session.scalar(
        select(LoanApplication).where(
            LoanApplication.status == "appraised", LoanApplication.appraiser_id == officer.id
        )
    )
    assert application is not None
    sign_in(client, officer.email)
    page = f"/applications/{application.id}/decide"
    shown = client.get(page)
    assert shown.status_code == 200
    html = shown.get_data(as_text=True)
    assert 'data-testid="decide-form"' not in html and REFUSAL in html
    # The form exactly as another approver would send it, sent by the appraiser.
    values = _form_as_shown_to(app, "approver@demo.quyhtx.vn", page, "decide-form")
    values["verdict"] = "approve"
    _refused_by_post(client, f"/applications/{application.id}", page, values, application)


def test_the_officer_who_requested_a_tranche_cannot_approve_it(client, fund):
    officer = fund["officer"]
    loan = db.session.scalar(select(LoanModel).where(LoanModel.status == "contracted"))
    tranche = request_tranche(
        db.session,
        actor=actor_for(officer),
        loan_id=loan.id,
        amount=Decimal(10_000_000),
        value_date=TODAY,
        payee="Công ty TNHH Thử nghiệm",
        account="0001 — Agribank",
        reference="UNC 4E",
        idempotency_key="four-eyes-tranche",
    )
    sign_in(client, officer.email)
    page = f"/loans/{loan.id}"
    html = client.get(page).get_data(as_text=True)
    assert f"/loans/tranches/{tranche.id}/approve" not in html
    _refused_by_post(client, page, f"/loans/tranches/{tranche.id}/approve", {}, tranche)
    assert db.session.get(Tranche, tranche.id).status == "requested"


def test_the_officer_who_asked_for_a_reversal_cannot_approve_it(client, fund):
    officer = fund["officer"]
    repayment = db.session.scalar(
        select(Repayment)
        .join(LoanModel, LoanModel.id == Repayment.loan_id)
        .where(
            LoanModel.status == "active",
            Repayment.status == "posted",
            ~LoanModel.id.in_(select(Restructuring.loan_id)),
        )
        .order_by(Repayment.id.desc())
    )
    request_reversal(
        db.session, actor=actor_for(officer), repayment_id=repayment.id, reason="Nhầm số tiền."
    )
    sign_in(client, officer.email)
    page = f"/loans/{repayment.loan_id}"
    html = client.get(page).get_data(as_text=True)
    assert "reversal asked for" in html and 'data-testid="approve-reversal"' not in html
    _refused_by_post(
        client,
        page,
        f"/loans/repayments/{repayment.id}/reverse",
        {"step": "approve"},
        repayment,
    )


def test_the_officer_who_proposed_a_restructuring_cannot_decide_it(client, fund):
    officer = fund["officer"]
    loan = _active_loan()
    proposal = propose_restructuring(
        db.session,
        actor=actor_for(officer),
        loan_id=loan.id,
        kind="reschedule",
        request_on=TODAY - dt.timedelta(days=3),
        request_reference="CV 4E",
        reason="Mất mùa.",
        installments=6,
        first_due_on=TODAY + dt.timedelta(days=30),
        today=TODAY,
    )
    sign_in(client, officer.email)
    page = f"/loans/{loan.id}"
    html = client.get(page).get_data(as_text=True)
    assert "CV 4E" in html and 'data-testid="decide-restructuring"' not in html
    _refused_by_post(
        client,
        page,
        f"/loans/restructurings/{proposal.id}/decide",
        {"verdict": "approve", "note": ""},
        proposal,
    )
    assert db.session.get(Restructuring, proposal.id).status == "proposed"


def test_the_person_who_proposed_a_recall_cannot_decide_it(client, fund):
    officer = fund["officer"]
    loan = _active_loan()
    inspection = db.session.scalar(select(Inspection).where(Inspection.loan_id == loan.id))
    # A recall as a visit finding misuse proposes it (here, proposed by the officer).
    recall = Recall(
        loan_id=loan.id,
        inspection_id=inspection.id,
        reason="Sử dụng vốn sai mục đích.",
        proposed_by_id=officer.id,
    )
    db.session.add(recall)
    db.session.commit()
    sign_in(client, officer.email)
    page = f"/loans/{loan.id}"
    html = client.get(page).get_data(as_text=True)
    assert "Sử dụng vốn sai mục đích." in html and 'data-testid="decide-recall"' not in html
    _refused_by_post(
        client, page, f"/loans/recalls/{recall.id}/decide", {"verdict": "approve"}, recall
    )
    assert db.session.get(LoanModel, loan.id).status == "active"


def test_the_administrator_who_recorded_capital_cannot_approve_it(client, fund):
    admin = fund["admin"]
    movement = request_capital_movement(
        db.session,
        actor=actor_for(admin),
        kind="contribution",
        amount=Decimal(500_000_000),
        value_date=TODAY,
        source="Ngân sách tỉnh",
        reference="QĐ 4E",
        today=TODAY,
    )
    sign_in(client, admin.email)
    html = client.get("/books/").get_data(as_text=True)
    assert "QĐ 4E" in html
    assert f"/books/capital/{movement.id}/approve" not in html
    _refused_by_post(client, "/books/", f"/books/capital/{movement.id}/approve", {}, movement)
    assert db.session.get(CapitalMovement, movement.id).status == "requested"
