"""Route-level guarantees, checked over the whole URL map: CSRF, object access, sign-in."""

import re

import pytest
from flask import Flask
from sqlalchemy import func, select

from loanfund.domain.roles import Role
from loanfund.models import AuditEvent, Cooperative, db
from tests.conftest import csrf_token, sign_in

#: Endpoints that change nothing on POST and legitimately need no session (none today).
_URL_ARG = re.compile(r"<(?:int:)?(\w+)>")


def _post_routes(app: Flask) -> list[str]:
    routes = []
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods and not rule.endpoint.startswith("static"):
            routes.append(_URL_ARG.sub("1", rule.rule))
    return sorted(set(routes))


def test_every_state_changing_route_rejects_a_post_without_a_csrf_token(app, client, factory):
    cooperative = factory.cooperative(verified=False)
    admin = factory.user(Role.ADMIN)
    sign_in(client, admin.email)
    events_before = db.session.scalar(select(func.count(AuditEvent.id)))
    routes = _post_routes(app)
    assert "/cooperatives/1/status" in routes and "/account/login" in routes and "/signup" in routes
    for url in routes:
        response = client.post(
            url, data={"action": "verify", "expected_status": "pending", "locale": "vi"}
        )
        assert response.status_code == 400, url
        assert "security token" in response.get_data(as_text=True), url
    assert db.session.get(Cooperative, cooperative.id).status.value == "pending"
    assert db.session.scalar(select(func.count(AuditEvent.id))) == events_before


def _cooperative_urls(app: Flask, cooperative_id: int) -> list[tuple[str, str]]:
    urls = []
    for rule in app.url_map.iter_rules():
        if "cooperative_id" in rule.arguments:
            url = rule.rule.replace("<int:cooperative_id>", str(cooperative_id))
            for method in ("GET", "POST") if "POST" in rule.methods else ("GET",):
                if method in rule.methods:
                    urls.append((method, url))
    return urls


def test_an_applicant_gets_404_for_every_url_of_another_cooperative(app, client, factory):
    mine, theirs = factory.cooperative(), factory.cooperative()
    representative = factory.user(Role.APPLICANT, cooperative=mine)
    sign_in(client, representative.email)
    urls = _cooperative_urls(app, theirs.id)
    assert len(urls) >= 5
    token = csrf_token(client, "/home")
    for method, url in urls:
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(
                url, data={"csrf_token": token, "action": "verify", "expected_status": "verified"}
            )
        assert response.status_code == 404, (method, url, response.status_code)
    # And its own cooperative is visible.
    assert client.get(f"/cooperatives/{mine.id}").status_code == 200


def test_anonymous_visitors_are_sent_to_sign_in(client, factory):
    cooperative = factory.cooperative()
    for url in (
        "/home",
        "/cooperatives/",
        f"/cooperatives/{cooperative.id}",
        "/admin/users",
        "/admin/audit",
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/account/login" in response.headers["Location"], url


@pytest.mark.parametrize(
    ("role", "url", "status"),
    [
        (Role.APPLICANT, "/cooperatives/", 403),
        (Role.APPLICANT, "/admin/users", 403),
        (Role.INSPECTOR, "/admin/users", 403),
        (Role.AUDITOR, "/admin/outbox", 403),
        (Role.AUDITOR, "/admin/audit", 200),
        (Role.OFFICER, "/cooperatives/new", 200),
        (Role.APPROVER, "/cooperatives/new", 403),
        (Role.ADMIN, "/admin/settings", 200),
    ],
)
def test_roles_reach_only_their_pages(client, factory, role, url, status):
    cooperative = factory.cooperative()
    user = factory.user(role, cooperative=cooperative if role is Role.APPLICANT else None)
    sign_in(client, user.email)
    assert client.get(url).status_code == status
