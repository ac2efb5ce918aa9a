"""Loan pages: from the approved application to a paid tranche, by three people."""

import re
from decimal import Decimal

from loanfund.domain.loans import LoanStatus
from loanfund.domain.roles import Role
from loanfund.models import Loan, db
from loanfund.services import loans as loan_service
from loanfund.services.accounts import actor_for
from loanfund.services.appraisals import decide_application
from tests.application_data import store_at
from tests.conftest import TODAY, csrf_token, post_form, sign_in
from tests.integration.conftest import appraised, disbursed_loan


def _world(session, factory, tmp_path):
    from tests.application_data import fund_with_product

    product = fund_with_product(session)
    cooperative = factory.cooperative()
    users = {
        "rep": factory.user(Role.APPLICANT, cooperative=cooperative),
        "officer": factory.user(Role.OFFICER),
        "approver": factory.user(Role.APPROVER),
    }
    world = {
        "product": product,
        "cooperative": cooperative,
        "store": store_at(tmp_path),
        **{name: actor_for(user) for name, user in users.items()},
    }
    application = appraised(session, world)
    decide_application(
        session,
        actor=world["approver"],
        application_id=application.id,
        verdict="approve",
        today=TODAY,
    )
    return world, users, application


def test_contract_signing_and_a_tranche_through_the_pages(
    client, factory, session, tmp_path, monkeypatch
):
    monkeypatch.setattr("loanfund.web.loans.routes.fund_today", lambda: TODAY)
    _, users, application = _world(session, factory, tmp_path)
    officer = client
    sign_in(officer, users["officer"].email)
    token = csrf_token(officer, f"/applications/{application.id}")
    response = officer.post(f"/loans/from-application/{application.id}", data={"csrf_token": token})
    loan = db.session.query(Loan).one()
    assert response.location.endswith(f"/loans/{loan.id}")
    page = officer.get(f"/loans/{loan.id}").get_data(as_text=True)
    assert "HĐ-2026-0001" in page and "awaiting contract" in page
    post_form(
        officer,
        f"/loans/{loan.id}/sign",
        {"signed_on": TODAY.isoformat()},
        page=f"/loans/{loan.id}",
    )
    page = officer.get(f"/loans/{loan.id}").get_data(as_text=True)
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page).group(1)
    form = {
        "idempotency_key": key,
        "amount": "200,000,000",
        "value_date": TODAY.isoformat(),
        "payee": "HTX",
        "account": "0123 Agribank",
        "reference": "UNC 1",
    }
    post_form(officer, f"/loans/{loan.id}/tranches", form, page=f"/loans/{loan.id}")
    post_form(officer, f"/loans/{loan.id}/tranches", form, page=f"/loans/{loan.id}")  # twice
    db.session.expire_all()
    loan = db.session.get(Loan, loan.id)
    assert len(loan.tranches) == 1
    approver = client.application.test_client()
    sign_in(approver, users["approver"].email)
    tranche = loan.tranches[0]
    token = csrf_token(approver, f"/loans/{loan.id}")
    approver.post(f"/loans/tranches/{tranche.id}/approve", data={"csrf_token": token})
    token = csrf_token(officer, f"/loans/{loan.id}")
    officer.post(f"/loans/tranches/{tranche.id}/pay", data={"csrf_token": token})
    db.session.expire_all()
    assert db.session.get(Loan, loan.id).status is LoanStatus.ACTIVE
    page = officer.get(f"/loans/{loan.id}").get_data(as_text=True)
    assert re.search(r'data-testid="outstanding">₫200,000,000<', page)
    assert 'data-testid="schedule"' in page
    history = re.search(r'data-testid="loan-history".*?</details>', page, re.S).group(0)
    for action in (
        "loan.create",
        "loan.sign",
        "loan.tranche_request",
        "loan.tranche_approve",
        "loan.tranche_pay",
    ):
        assert action in history, action
    # The cooperative reads its contract, with the amount in words.
    rep = client.application.test_client()
    sign_in(rep, users["rep"].email)
    contract = rep.get(f"/loans/{loan.id}/contract").get_data(as_text=True)
    assert "Three hundred million Vietnamese dong" in contract


def test_another_cooperative_gets_404_on_every_loan_url(client, factory, session, tmp_path):
    world, _users, application = _world(session, factory, tmp_path)
    loan = loan_service.make_loan(
        session, actor=world["officer"], application_id=application.id, today=TODAY
    )
    stranger = factory.user(Role.APPLICANT, cooperative=factory.cooperative())
    sign_in(client, stranger.email)
    token = csrf_token(client, "/home")
    for url in (f"/loans/{loan.id}", f"/loans/{loan.id}/contract"):
        assert client.get(url).status_code == 404, url
    # Representatives may not act on loans at all.
    for url in (f"/loans/{loan.id}/sign", f"/loans/{loan.id}/tranches"):
        assert client.post(url, data={"csrf_token": token}).status_code in (403, 404), url
    assert db.session.get(Loan, loan.id).status is LoanStatus.APPROVED


def test_a_receipt_through_the_loan_page_and_its_printable_receipt(
    client, factory, session, tmp_path, monkeypatch
):
    monkeypatch.setattr("loanfund.web.loans.routes.fund_today", lambda: TODAY)
    world, users, _ = _world(session, factory, tmp_path)
    loan = disbursed_loan(session, world, amount=Decimal(300_000_000), key="x" * 20)
    sign_in(client, users["officer"].email)
    page = client.get(f"/loans/{loan.id}").get_data(as_text=True)
    # Paying off the day it was lent: just the 300 m of principal.
    assert re.search(r'data-testid="payoff-total">₫300,000,000<', page)
    key = re.search(
        r'name="idempotency_key" type="hidden" value="([^"]+)"',
        page[page.index("repayment-form") :],
    ).group(1)
    form = {
        "idempotency_key": key,
        "amount": "100,000,000",
        "received_on": TODAY.isoformat(),
        "channel": "bank",
        "reference": "GBC 9",
    }
    response = post_form(client, f"/loans/{loan.id}/repayments", form, page=f"/loans/{loan.id}")
    assert response.status_code == 302 and "/loans/repayments/" in response.location
    receipt = client.get(response.location).get_data(as_text=True)
    assert "One hundred million Vietnamese dong" in receipt and "Prepaid principal" in receipt
    page = client.get(f"/loans/{loan.id}").get_data(as_text=True)
    assert re.search(r'data-testid="payoff-total">₫200,000,000<', page)


def test_a_receipt_is_reversed_by_two_people_through_the_loan_page(
    client, factory, session, tmp_path, monkeypatch
):
    from loanfund.models import Repayment
    from loanfund.services.repayments import record_repayment

    monkeypatch.setattr("loanfund.web.loans.routes.fund_today", lambda: TODAY)
    world, users, _ = _world(session, factory, tmp_path)
    loan = disbursed_loan(session, world, amount=Decimal(300_000_000), key="y" * 20)
    receipt = record_repayment(
        session,
        actor=world["officer"],
        loan_id=loan.id,
        received_on=TODAY,
        amount=Decimal(1_000_000),
        channel="cash",
        reference="",
        idempotency_key="z" * 20,
        today=TODAY,
    )
    sign_in(client, users["officer"].email)
    post_form(
        client,
        f"/loans/repayments/{receipt.id}/reverse",
        {"reason": "Typed twice."},
        page=f"/loans/{loan.id}",
    )
    approver = client.application.test_client()
    sign_in(approver, users["approver"].email)
    page = approver.get(f"/loans/{loan.id}").get_data(as_text=True)
    assert 'data-testid="approve-reversal"' in page and "Typed twice." in page
    post_form(
        approver,
        f"/loans/repayments/{receipt.id}/reverse",
        {"step": "approve"},
        page=f"/loans/{loan.id}",
    )
    db.session.expire_all()
    assert db.session.get(Repayment, receipt.id).status == "reversed"
    page = approver.get(f"/loans/{loan.id}").get_data(as_text=True)
    assert re.search(r'data-testid="payoff-total">₫300,000,000<', page)


def test_a_restructuring_is_proposed_previewed_and_decided_through_the_pages(
    client, factory, session, tmp_path, monkeypatch
):
    import datetime as dt

    from loanfund.models import Restructuring

    day = dt.date(2027, 3, 1)
    monkeypatch.setattr("loanfund.web.loans.routes.fund_today", lambda: day)
    world, users, _ = _world(session, factory, tmp_path)
    loan = disbursed_loan(session, world, amount=Decimal(300_000_000), key="r" * 20)
    sign_in(client, users["officer"].email)
    url = f"/loans/{loan.id}/restructure"
    form = {
        "kind": "reschedule",
        "request_on": day.isoformat(),
        "request_reference": "CV 12/HTX",
        "reason": "Harvest <b>lost</b> to the flood",
        "installments": "60",
        "first_due_on": "2027-04-01",
    }
    # 60 installments end after the maturity: refused, with the dates, and nothing typed lost.
    refused = post_form(client, url, {**form, "propose": "1"}, page=url)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "1 Mar 2032" in text and "23 Nov 2029" in text and "CV 12/HTX" in text
    assert "Harvest &lt;b&gt;lost&lt;/b&gt; to the flood" in text
    assert session.query(Restructuring).count() == 0
    # Ten installments: the preview shows 30,000,000 of principal in each.
    preview = post_form(client, url, {**form, "installments": "10", "preview": "1"}, page=url)
    assert preview.status_code == 200
    assert preview.get_data(as_text=True).count("₫30,000,000") == 10
    proposed = post_form(client, url, {**form, "installments": "10", "propose": "1"}, page=url)
    assert proposed.status_code == 302
    proposal = session.query(Restructuring).one()
    approver = client.application.test_client()
    sign_in(approver, users["approver"].email)
    listing = approver.get("/loans/").get_data(as_text=True)
    assert "restructuring to decide" in listing and loan.contract_no in listing
    page = approver.get(f"/loans/{loan.id}").get_data(as_text=True)
    assert 'data-testid="decide-restructuring"' in page
    post_form(
        approver,
        f"/loans/restructurings/{proposal.id}/decide",
        {"verdict": "approve", "note": "Flood relief"},
        page=f"/loans/{loan.id}",
    )
    db.session.expire_all()
    assert db.session.get(Restructuring, proposal.id).status == "approved"
    page = approver.get(f"/loans/{loan.id}").get_data(as_text=True)
    assert "restructurings approved: 1" in page
    assert page.count('data-status="settled"') == 3  # the three installments it moved


def test_the_loan_ledger_downloads_for_staff_and_its_cooperative_only(
    client, factory, session, tmp_path
):
    world, users, _ = _world(session, factory, tmp_path)
    loan = disbursed_loan(session, world, amount=Decimal(300_000_000), key="l" * 20)
    sign_in(client, users["rep"].email)
    response = client.get(f"/loans/{loan.id}/ledger.xlsx")
    assert response.status_code == 200 and response.get_data()[:2] == b"PK"
    stranger = client.application.test_client()
    sign_in(stranger, factory.user(Role.APPLICANT, cooperative=factory.cooperative()).email)
    assert stranger.get(f"/loans/{loan.id}/ledger.xlsx").status_code == 404
