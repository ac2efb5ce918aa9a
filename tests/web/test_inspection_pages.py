"""The inspector's pages: the list, the visit form on plain posts (a draft that survives a
reload, photos, a refusal that keeps everything typed), and the minutes for the cooperative."""

import io
from decimal import Decimal

from PIL import Image
from sqlalchemy import select

from loanfund.domain.roles import Role
from loanfund.models import Inspection, db
from loanfund.services.accounts import actor_for
from tests.application_data import fund_with_product, store_at
from tests.conftest import TODAY, csrf_token, sign_in
from tests.integration.conftest import disbursed_loan


def _photo():
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 150, 0)).save(out, format="PNG")
    return out.getvalue()


def test_an_inspector_records_a_visit_from_the_list_to_the_minutes(
    app, client, session, factory, tmp_path, monkeypatch
):
    monkeypatch.setattr("loanfund.web.inspections.routes.fund_today", lambda: TODAY)
    product = fund_with_product(session)
    cooperative = factory.cooperative()
    users = {
        "rep": factory.user(Role.APPLICANT, cooperative=cooperative),
        "officer": factory.user(Role.OFFICER),
        "approver": factory.user(Role.APPROVER),
        "inspector": factory.user(Role.INSPECTOR),
    }
    world = {
        "product": product,
        "cooperative": cooperative,
        "store": store_at(tmp_path),
        **{name: actor_for(user) for name, user in users.items()},
    }
    loan = disbursed_loan(session, world, amount=Decimal(300_000_000), key="w" * 20)
    inspection = session.scalars(select(Inspection).where(Inspection.loan_id == loan.id)).one()
    sign_in(client, users["inspector"].email)
    listing = client.get("/inspections/?tab=planned").get_data(as_text=True)
    assert cooperative.name in listing and cooperative.contact_phone in listing
    url = f"/inspections/{inspection.id}/visit"
    typed = {
        "visited_on": TODAY.isoformat(),
        "people_met": "Chủ nhiệm <b>HTX</b>",
        "signatory": "",
        "funds_use": "fully",
        "amount_verified": "300,000,000",
        "progress_pct": "70",
        "verdict": "compliant",
    }
    # Save a draft with a photo; it is all there after a reload.
    saved = client.post(
        url,
        data={**typed, "action": "save", "csrf_token": csrf_token(client, url),
              "photos": (io.BytesIO(_photo()), "ruong.png")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert saved.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Chủ nhiệm &lt;b&gt;HTX&lt;/b&gt;" in page and 'data-testid="visit-photos"' in page
    # Submitting without the signatory is refused, with what was typed kept.
    refused = client.post(
        url, data={**typed, "action": "submit", "csrf_token": csrf_token(client, url)}
    )
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "signs the minutes" in text and "70" in text
    done = client.post(
        url,
        data={**typed, "signatory": "Lê Văn Ba", "internal_note": "Kế toán HTX mới nghỉ việc.",
              "action": "submit", "csrf_token": csrf_token(client, url)},
    )  # fmt: skip
    assert done.status_code == 302 and done.location.endswith(f"/inspections/{inspection.id}")
    # The cooperative reads the minutes, with the photo, without the internal note.
    rep = client.application.test_client()
    sign_in(rep, users["rep"].email)
    minutes = rep.get(f"/inspections/{inspection.id}").get_data(as_text=True)
    assert "Lê Văn Ba" in minutes and "compliant" in minutes
    assert "Kế toán HTX mới nghỉ việc" not in minutes
    photo_id = db.session.get(Inspection, inspection.id).photos[0].id
    served = rep.get(f"/inspections/photos/{photo_id}")
    assert served.status_code == 200 and served.get_data()[:3] == b"\xff\xd8\xff"
    served.close()
    stranger = client.application.test_client()
    sign_in(stranger, factory.user(Role.APPLICANT, cooperative=factory.cooperative()).email)
    assert stranger.get(f"/inspections/{inspection.id}").status_code == 404
    assert stranger.get(f"/inspections/photos/{photo_id}").status_code == 404


def test_a_recall_is_decided_on_the_loan_page_and_its_notice_printed(
    app, client, session, factory, tmp_path, monkeypatch
):
    import datetime as dt

    from loanfund.domain.inspections import VisitRecord
    from loanfund.domain.loans import LoanStatus
    from loanfund.models import Loan
    from loanfund.services.inspections import submit_inspection
    from tests.conftest import post_form

    day = dt.date(2027, 2, 1)
    monkeypatch.setattr("loanfund.web.loans.routes.fund_today", lambda: day)
    product = fund_with_product(session)
    cooperative = factory.cooperative()
    users = {
        "rep": factory.user(Role.APPLICANT, cooperative=cooperative),
        "officer": factory.user(Role.OFFICER),
        "approver": factory.user(Role.APPROVER),
        "inspector": factory.user(Role.INSPECTOR),
    }
    world = {
        "product": product,
        "cooperative": cooperative,
        "store": store_at(tmp_path),
        **{name: actor_for(user) for name, user in users.items()},
    }
    loan = disbursed_loan(session, world, amount=Decimal(300_000_000), key="v" * 20)
    inspection = session.scalars(select(Inspection).where(Inspection.loan_id == loan.id)).one()
    submit_inspection(
        session,
        actor=world["inspector"],
        inspection_id=inspection.id,
        record=VisitRecord(
            visited_on=dt.date(2027, 1, 28),
            people_met="Chủ nhiệm",
            signatory="Lê Văn Ba",
            funds_use="not",
            amount_verified=Decimal(0),
            progress_pct=0,
            business_status="Không đầu tư máy.",
            collateral_condition="",
            risks="Dùng vốn mua xe.",
            verdict="misuse",
            follow_ups=(),
        ),
        internal_note="",
        today=dt.date(2027, 1, 28),
    )
    sign_in(client, users["approver"].email)
    assert "recall to decide" in client.get("/loans/").get_data(as_text=True)
    page = client.get(f"/loans/{loan.id}").get_data(as_text=True)
    assert 'data-testid="decide-recall"' in page and "Dùng vốn mua xe." in page
    recall_id = int(page.split("/loans/recalls/")[1].split("/")[0])
    post_form(
        client,
        f"/loans/recalls/{recall_id}/decide",
        {"verdict": "approve"},
        page=f"/loans/{loan.id}",
    )
    assert db.session.get(Loan, loan.id).status is LoanStatus.RECALLED
    rep = client.application.test_client()
    sign_in(rep, users["rep"].email)
    notice = rep.get(f"/loans/{loan.id}/recall-notice").get_data(as_text=True)
    # Recalled on 1 Feb 2027: all 300,000,000 of principal; 30 days to repay: 3 Mar 2027.
    assert 'data-testid="principal-recalled">₫300,000,000' in notice
    assert 'data-testid="recall-deadline">3 Mar 2027' in notice
