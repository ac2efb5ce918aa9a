"""Pages of the nightly work: the job history, the portfolio on the staff home, a loan's
classification, and turning reminder emails off."""

import datetime as dt
from decimal import Decimal

from loanfund.domain.roles import Role
from loanfund.jobs.scheduler import close_job
from loanfund.models import User, db
from loanfund.services.accounts import actor_for
from tests.application_data import fund_with_product, store_at
from tests.conftest import post_form, sign_in
from tests.integration.conftest import disbursed_loan


def _world(session, factory, tmp_path):
    product = fund_with_product(session)
    cooperative = factory.cooperative()
    users = {
        "rep": factory.user(Role.APPLICANT, cooperative=cooperative),
        "officer": factory.user(Role.OFFICER),
        "approver": factory.user(Role.APPROVER),
        "admin": factory.user(Role.ADMIN),
    }
    world = {
        "product": product,
        "cooperative": cooperative,
        "store": store_at(tmp_path),
        **{name: actor_for(user) for name, user in users.items()},
    }
    return world, users


def test_after_a_close_staff_see_the_portfolio_the_loans_group_and_the_job_history(
    app, client, session, factory, tmp_path
):
    world, users = _world(session, factory, tmp_path)
    loan = disbursed_loan(session, world, amount=Decimal(300_000_000), key="n" * 20)
    # 5 Jan 2027: the 23 Dec installment is 13 days late (group 2).
    close_job(app, through=dt.date(2027, 1, 5), trigger="command")
    sign_in(client, users["officer"].email)
    home = client.get("/home").get_data(as_text=True)
    assert 'data-testid="portfolio"' in home and "5 Jan 2027" in home
    page = client.get(f"/loans/{loan.id}").get_data(as_text=True)
    assert 'data-testid="days-past-due">13<' in page and "Debt group 2" in page
    assert client.get("/admin/jobs").status_code == 403  # officers do not see the job history
    admin = client.application.test_client()
    sign_in(admin, users["admin"].email)
    jobs = admin.get("/admin/jobs").get_data(as_text=True)
    assert "daily_close" in jobs and "an operator" in jobs and "2027-01-05" in jobs
    # The borrower's representative sees no classification.
    rep = client.application.test_client()
    sign_in(rep, users["rep"].email)
    assert 'data-testid="classification"' not in rep.get(f"/loans/{loan.id}").get_data(as_text=True)


def test_a_user_turns_reminder_emails_off_and_on(client, session, factory):
    user = factory.user(Role.APPLICANT, cooperative=factory.cooperative())
    sign_in(client, user.email)
    post_form(client, "/notifications/preferences", {"quiet": "1"}, page="/notifications")
    assert db.session.get(User, user.id).quiet_emails is True
    page = client.get("/notifications").get_data(as_text=True)
    assert "shown here only" in page
    post_form(client, "/notifications/preferences", {"quiet": "0"}, page="/notifications")
    assert db.session.get(User, user.id).quiet_emails is False
