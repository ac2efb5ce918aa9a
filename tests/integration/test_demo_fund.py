"""The demo fund is loaded through the services, so it obeys every rule it demonstrates."""

from collections import Counter
from decimal import Decimal

from sqlalchemy import func, select

from loanfund.domain.applications import ApplicationStatus
from loanfund.models import ApplicationDocument, AuditEvent, LoanApplication
from loanfund.services.demo import demo_pdf, load_demo_fund
from loanfund.services.file_store import FileStore
from tests.conftest import TODAY


def test_the_demo_has_an_application_in_every_state_with_its_dossier(session, tmp_path):
    store = FileStore(tmp_path / "uploads")
    load_demo_fund(session, hash_password=lambda password: "x", today=TODAY, store=store)
    states = Counter(session.scalars(select(LoanApplication.status)))
    assert set(states) == set(ApplicationStatus)
    approved = session.scalars(
        select(LoanApplication)
        .where(LoanApplication.status == ApplicationStatus.APPROVED)
        .order_by(LoanApplication.id)
    ).first()
    assert approved.approved_amount == approved.amount
    documents = session.scalars(select(ApplicationDocument)).all()
    assert documents and all(store.read(d.store_key).startswith(b"%PDF-") for d in documents)
    # Each step was taken by a named demo user, not by "system".
    decision = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "application.approve")
    ).first()
    assert decision.actor_label == "approver@demo.quyhtx.vn"


def test_demo_documents_are_well_formed_pdfs():
    pdf = demo_pdf("HS-2026-0001 business_plan (Quảng Phú)")
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    start = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n", 1)[0])
    assert pdf[start:].startswith(b"xref")  # the cross-reference table is where it says
    assert b"Quang Phu" in pdf


def test_the_demo_books_reconcile_with_its_loans(session, tmp_path):
    from loanfund.domain.ledger import Account
    from loanfund.queries.ledger import account_balances
    from loanfund.queries.loans import principal_by_loan

    load_demo_fund(
        session, hash_password=lambda password: "x", today=TODAY, store=FileStore(tmp_path)
    )
    balances = account_balances(session)
    # Σ each loan's principal outstanding == the loans-receivable account, to the đồng; and
    # what the fund holds (cash + loans) == what it was given + what it earned.
    assert sum(principal_by_loan(session).values()) == balances[Account.LOANS_RECEIVABLE] > 0
    # After the daily closes: interest earned on current loans is receivable, and the fund
    # holds provisions against its loans.
    assert (
        balances[Account.CASH]
        + balances[Account.LOANS_RECEIVABLE]
        + balances[Account.INTEREST_RECEIVABLE]
        - balances[Account.PROVISION]
    ) == (
        balances[Account.FUND_CAPITAL]
        + balances[Account.INTEREST_INCOME]
        + balances[Account.PENALTY_INCOME]
        - balances[Account.PROVISION_EXPENSE]
    )
    # Each loan's figures at the last close add up to the books.
    from loanfund.models import Loan as LoanModel

    closed = session.scalars(select(LoanModel)).all()
    assert balances[Account.PROVISION] == sum(
        (loan.specific_provision + loan.general_provision for loan in closed), Decimal(0)
    )
    assert balances[Account.INTEREST_RECEIVABLE] == sum(
        (loan.interest_accrued for loan in closed if loan.debt_group == 1), Decimal(0)
    )
    assert balances[Account.OFF_BOOK_INTEREST] == sum(
        (loan.interest_accrued for loan in closed if loan.debt_group > 1), Decimal(0)
    )
    assert balances[Account.PENALTY_INCOME] > 0  # one installment was paid 12 days late
    # Every kind of loan has something to show: closed, restructured, and overdue at ages
    # that fall in different debt groups (≥ 30 and ≥ 90 days past due).
    from loanfund.domain.loans import LoanStatus
    from loanfund.models import Loan
    from loanfund.services.repayments import replay

    loans = session.scalars(select(Loan)).all()
    assert {loan.status for loan in loans} >= {
        LoanStatus.CONTRACTED,
        LoanStatus.ACTIVE,
        LoanStatus.CLOSED,
        LoanStatus.RECALLED,
    }
    assert any(loan.restructure_count == 1 for loan in loans)
    ages = []
    for loan in loans:
        if loan.status in (LoanStatus.ACTIVE, LoanStatus.RECALLED):
            states, _terms = replay(session, loan)
            late = [s.due.due_on for s in states if s.due.due_on < TODAY and s.principal_left > 0]
            ages.append((TODAY - min(late)).days if late else 0)
    assert any(30 <= age < 90 for age in ages) and any(90 <= age < 180 for age in ages), ages


def test_the_demo_has_inspections_of_every_verdict_and_a_recalled_loan(session, tmp_path):
    from loanfund.models import Inspection, InspectionPhoto, Recall

    load_demo_fund(
        session, hash_password=lambda password: "x", today=TODAY, store=FileStore(tmp_path)
    )
    done = session.scalars(select(Inspection).where(Inspection.status == "done")).all()
    assert {i.verdict for i in done} == {"compliant", "concerns", "misuse"}
    assert session.scalar(select(func.count(InspectionPhoto.id))) >= 5
    planned = session.scalars(select(Inspection).where(Inspection.status == "planned")).all()
    assert any(i.due_on < TODAY for i in planned) and any(i.due_on >= TODAY for i in planned)
    assert [r.status for r in session.scalars(select(Recall))] == ["approved"]
