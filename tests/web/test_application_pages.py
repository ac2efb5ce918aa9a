"""The applicant's pages: applying, the dossier, submitting; who may see what."""

import re

from flask import Flask
from sqlalchemy import select

from loanfund.domain.applications import ApplicationStatus
from loanfund.domain.roles import Role
from loanfund.models import ApplicationDocument, LoanApplication, db
from loanfund.services.accounts import actor_for
from tests.application_data import PDF, draft_application, fund_with_product, store_at
from tests.conftest import csrf_token, post_form, sign_in

FORM = {
    "amount": "300,000,000",
    "term_months": "36",
    "purpose": "equipment",
    "purpose_description": "A roasting machine.",
    "project_description": "Roasted peanuts for supermarkets.",
    "project_cost": "500,000,000",
    "own_equity": "200,000,000",
    "members_benefiting": "40",
    "jobs_created": "6",
    "cash_flows-0-revenue": "400,000,000",
    "cash_flows-0-operating_costs": "250,000,000",
    "cash_flows-1-revenue": "420,000,000",
    "cash_flows-1-operating_costs": "260,000,000",
    "collateral-0-kind": "building",
    "collateral-0-description": "Workshop, 120 m²",
    "collateral-0-owner": "The cooperative",
    "collateral-0-estimated_value": "600,000,000",
    "guarantors-0-name": "Võ Văn Phú",
    "method": "equal_principal",
    "frequency": "month",
    "every": "1",
    "interest_basis": "daily",
    "days_in_year": "365",
    "principal_grace": "0",
    "interest_deferred": "0",
    "interest_free": "0",
    "principal_every": "3",
    "rounding": "half_up",
    "installment_rounding": "nearest",
}


def _representative(factory):
    cooperative = factory.cooperative()
    return factory.user(Role.APPLICANT, cooperative=cooperative)


def _upload(client, application_id, filename, data, kind="business_plan"):
    token = csrf_token(client, f"/applications/{application_id}")
    return client.post(
        f"/applications/{application_id}/documents",
        data={
            "csrf_token": token,
            "kind": kind,
            "file": (__import__("io").BytesIO(data), filename),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def test_a_representative_applies_uploads_the_dossier_and_submits(client, factory, session):
    product = fund_with_product(session)
    factory.user(Role.OFFICER)
    rep = _representative(factory)
    sign_in(client, rep.email)
    response = post_form(
        client,
        "/applications/new",
        {**FORM, "product_id": str(product.id), "priority": "ethnic_minority"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    application = session.scalars(select(LoanApplication)).one()
    assert application.amount == 300_000_000 and len(application.cash_flows) == 2
    assert application.priority.value == "ethnic_minority"
    page = client.get(f"/applications/{application.id}").get_data(as_text=True)
    assert "Mostly ethnic-minority members" in page  # the priority category, in words
    assert "Missing document: Business plan." in page
    assert re.search(r"₫200,000,000 \(40(\.00)?\s?%\)", page)  # 200 m of 500 m
    # Submitting without the dossier: every missing document is listed, nothing changes.
    token = csrf_token(client, f"/applications/{application.id}")
    page = client.post(
        f"/applications/{application.id}/submit", data={"csrf_token": token}, follow_redirects=True
    ).get_data(as_text=True)
    assert "The application was not submitted" in page and page.count("Missing document") >= 7
    for kind in (
        "application_form",
        "registration_charter",
        "meeting_resolution",
        "business_plan",
        "financial_statements",
        "project_papers",
        "collateral_papers",
    ):
        assert "was added to the dossier" in _upload(
            client, application.id, f"{kind}.pdf", PDF, kind
        ).get_data(as_text=True)
    token = csrf_token(client, f"/applications/{application.id}")
    client.post(f"/applications/{application.id}/submit", data={"csrf_token": token})
    session.expire_all()
    assert session.get(LoanApplication, application.id).status is ApplicationStatus.SUBMITTED
    page = client.get(f"/applications/{application.id}").get_data(as_text=True)
    timeline = re.search(r'data-testid="timeline".*?</ol>', page, re.S).group(0)
    assert "Draft created" in timeline and "Submitted to the fund" in timeline
    assert "Document added" not in timeline  # the applicant's steps, not every row
    # A second click acts once: the page says why, with a 409.
    again = client.post(f"/applications/{application.id}/submit", data={"csrf_token": token})
    assert again.status_code == 409
    assert "Cannot submit this application" in again.get_data(as_text=True)


def test_uploads_are_checked_by_their_content_and_size(client, factory, session, app):
    product = fund_with_product(session)
    rep = _representative(factory)
    application = draft_application(session, actor_for(rep), product, None)
    sign_in(client, rep.email)
    html = _upload(client, application.id, "photo.jpg", b"<html><script>x</script></html>")
    assert "“photo.jpg” is not a PDF, JPEG or PNG file" in html.get_data(as_text=True)
    empty = _upload(client, application.id, "empty.pdf", b"")
    assert "is empty" in empty.get_data(as_text=True)
    limit = app.config["LOANFUND"]["MAX_UPLOAD_MB"] * 1024 * 1024
    big = _upload(client, application.id, "big.pdf", PDF + b"0" * limit)
    assert "The file “big.pdf” is larger than the limit of 10 MB." in big.get_data(as_text=True)
    assert session.scalar(select(ApplicationDocument.id)) is None


def test_a_dossier_file_is_served_only_to_its_cooperative_and_the_fund(
    client, factory, session, tmp_path
):
    product = fund_with_product(session)
    rep = _representative(factory)
    application = draft_application(
        session, actor_for(rep), product, store_at(tmp_path), unsecured_requested=False
    )
    document = application.documents[0]
    url = f"/applications/documents/{document.id}"
    sign_in(client, rep.email)
    response = client.get(url)
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Cache-Control"] == "private, no-store"
    response.close()
    stranger = client.application.test_client()
    sign_in(stranger, _representative(factory).email)
    assert stranger.get(url).status_code == 404
    officer = client.application.test_client()
    sign_in(officer, factory.user(Role.OFFICER).email)
    response = officer.get(url)
    assert response.status_code == 200
    response.close()
    assert client.application.test_client().get(url).status_code == 302  # to sign-in


_ARG = re.compile(r"<int:(\w+)>")


def _application_urls(app: Flask, application_id: int, document_id: int) -> list[tuple[str, str]]:
    urls = []
    for rule in app.url_map.iter_rules():
        arguments = set(rule.arguments)
        if not arguments or not arguments <= {"application_id", "document_id"}:
            continue
        url = rule.rule.replace("<int:application_id>", str(application_id)).replace(
            "<int:document_id>", str(document_id)
        )
        for method in ("GET", "POST"):
            if method in rule.methods:
                urls.append((method, url))
    return urls


def test_a_representative_gets_404_on_every_url_of_another_cooperatives_application(
    client, factory, session, tmp_path
):
    product = fund_with_product(session)
    owner = _representative(factory)
    theirs = draft_application(session, actor_for(owner), product, store_at(tmp_path))
    urls = _application_urls(client.application, theirs.id, theirs.documents[0].id)
    assert len(urls) >= 10
    sign_in(client, _representative(factory).email)
    token = csrf_token(client, "/home")
    for method, url in urls:
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf_token": token, "body": "x", "reason": "x"})
        assert response.status_code == 404, (method, url, response.status_code)
    db.session.expire_all()
    assert db.session.get(LoanApplication, theirs.id).status is ApplicationStatus.DRAFT
