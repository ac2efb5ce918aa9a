"""The scheduler's jobs: leadership, catching up missed days, reminders once per key, and
sending the outbox over a real SMTP server (aiosmtpd on 127.0.0.1)."""

import datetime as dt
import logging
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, func, select

from loanfund.domain.roles import Role
from loanfund.jobs.lease import Lease
from loanfund.jobs.scheduler import _as_leader, close_job, outbox_job, reminders_job
from loanfund.models import BusinessDay, JobRun, Notification, OutboxMessage, OutboxStatus, db
from loanfund.services.daily_close import close_day
from loanfund.services.mailer import backoff, send_outbox
from tests.conftest import PG_URL
from tests.integration.conftest import disbursed_loan

D = Decimal
NOW = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)


def test_a_second_scheduler_does_nothing_while_the_first_holds_the_lease(app, caplog):
    clock = [NOW]
    first = Lease(db.engine, holder="first", seconds=90, clock=lambda: clock[0])
    second = Lease(db.engine, holder="second", seconds=90, clock=lambda: clock[0])
    assert first.acquire() is True
    assert second.acquire() is False
    ran = []
    with caplog.at_level(logging.INFO, logger="loanfund.scheduler"):
        _as_leader(app, second, "daily_close", lambda: ran.append("second"))()
    assert ran == [] and "another scheduler holds the lease" in caplog.text
    if not PG_URL:  # a lease row: the first renews it; once it lapses the second takes over
        clock[0] += dt.timedelta(seconds=60)
        assert first.acquire() is True
        clock[0] += dt.timedelta(seconds=60)
        assert second.acquire() is False  # renewed 60 s ago, lease is 90 s
        clock[0] += dt.timedelta(seconds=31)
        assert second.acquire() is True and first.acquire() is False
    first.release()
    second.release()


@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL for its advisory lock (.ci/run sets it)")
def test_on_postgresql_the_advisory_lock_is_held_until_the_process_lets_go(app):
    other_engine = create_engine(PG_URL)
    first = Lease(db.engine, holder="first")
    second = Lease(other_engine, holder="second")
    try:
        assert first.acquire() is True
        assert first.acquire() is True  # held: asking again keeps it
        assert second.acquire() is False
        first.release()
        assert second.acquire() is True
    finally:
        second.release()
        other_engine.dispose()


def test_after_five_days_down_each_missed_day_is_closed_once_in_order(app, session, world):
    disbursed_loan(session, world, amount=D(300_000_000), key="job1")
    close_day(session, day=dt.date(2026, 12, 1))
    # The scheduler was down from 2 to 6 December; on 7 December it closes the 6th and before.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("loanfund.jobs.scheduler.fund_today", lambda app: dt.date(2026, 12, 7))
        run = close_job(app)
    assert run.counts == {
        "closed": ["2026-12-02", "2026-12-03", "2026-12-04", "2026-12-05", "2026-12-06"]
    }
    days = session.scalars(select(BusinessDay.business_date).order_by(BusinessDay.business_date))
    assert list(days) == [dt.date(2026, 12, d) for d in range(1, 7)]
    # Running again changes nothing, and both runs are in the job history.
    again = close_job(app, through=dt.date(2026, 12, 6))
    assert again.counts == {"closed": []}
    assert session.scalar(select(func.count(JobRun.id))) == 2


def test_each_reminder_is_written_once_in_the_readers_language(app, session, world, factory):
    loan = disbursed_loan(session, world, amount=D(300_000_000), key="job2")
    rep = factory.user(Role.APPLICANT, cooperative=world["cooperative"])
    rep.locale = "vi"
    quiet = factory.user(Role.APPLICANT, cooperative=world["cooperative"])
    quiet.quiet_emails = True
    session.commit()
    # The first installment is due on 23 Dec 2026: 7 days before, on the 16th.
    first = reminders_job(app, today=dt.date(2026, 12, 16))
    assert first.counts["loans"] >= 2
    again = reminders_job(app, today=dt.date(2026, 12, 16))
    assert again.counts["loans"] == 0
    notices = session.scalars(
        select(Notification).where(Notification.kind == "installment_due_soon")
    ).all()
    assert sorted(n.user_id for n in notices) == sorted([rep.id, quiet.id, world["rep"].user_id])
    emails = session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "installment_due_soon")
    ).all()
    by_recipient = {email.recipient: email for email in emails}
    assert quiet.email not in by_recipient  # turned off non-critical emails; the notice stays
    assert loan.contract_no in by_recipient[rep.email].subject
    assert "Kính gửi" in by_recipient[rep.email].body_text  # Vietnamese for a Vietnamese reader
    # Overdue on the 24th (day 1): the representatives and the loan's officer; then weekly.
    assert reminders_job(app, today=dt.date(2026, 12, 24)).counts["loans"] >= 3
    assert reminders_job(app, today=dt.date(2026, 12, 25)).counts["loans"] == 0
    assert reminders_job(app, today=dt.date(2026, 12, 31)).counts["loans"] >= 3


@pytest.fixture
def smtp_server():
    aiosmtpd = pytest.importorskip("aiosmtpd.controller")

    class Inbox:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(envelope)
            return "250 OK"

    import socket

    with socket.socket() as probe:  # a free port on the loopback interface
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = aiosmtpd.Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


def test_the_outbox_goes_out_over_smtp_once_and_a_failure_is_retried(
    app, session, smtp_server, monkeypatch
):
    from email import message_from_bytes, policy

    from loanfund.services.outbox import queue_email

    port, inbox = smtp_server
    for n in range(3):
        queue_email(
            session, kind="test", recipient=f"htx{n}@example.vn", subject=f"Nhắc nợ {n}",
            body_text="Kỳ trả nợ sắp đến hạn.",
        )  # fmt: skip
    session.commit()
    settings = dict(app.config["LOANFUND"], MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    settings["MAIL_USE_TLS"] = False
    monkeypatch.setitem(app.config, "LOANFUND", settings)
    assert outbox_job(app, trigger="command") == {"sent": 3, "retry": 0, "given_up": 0}
    assert outbox_job(app, trigger="command") == {"sent": 0, "retry": 0, "given_up": 0}
    assert sorted(envelope.rcpt_tos[0] for envelope in inbox.messages) == [
        "htx0@example.vn",
        "htx1@example.vn",
        "htx2@example.vn",
    ]
    decoded = message_from_bytes(inbox.messages[0].content, policy=policy.default)
    assert decoded["Subject"] == "Nhắc nợ 0"
    # A server that refuses once: the message waits 1 minute, then goes.
    queue_email(session, kind="test", recipient="late@example.vn", subject="x", body_text="y")
    session.commit()
    calls = []

    def flaky(message):
        calls.append(message.id)
        if len(calls) == 1:
            raise ConnectionRefusedError("server down")

    assert send_outbox(session, now=NOW, transport=flaky) == {"sent": 0, "retry": 1, "given_up": 0}
    assert send_outbox(session, now=NOW + dt.timedelta(seconds=30), transport=flaky)["sent"] == 0
    later = NOW + backoff(1)
    assert send_outbox(session, now=later, transport=flaky) == {
        "sent": 1,
        "retry": 0,
        "given_up": 0,
    }
    message = session.scalars(
        select(OutboxMessage).where(OutboxMessage.recipient == "late@example.vn")
    ).one()
    assert message.status is OutboxStatus.SENT and message.attempts == 2


def test_reminders_reach_a_real_smtp_server_once_each_in_the_readers_language(
    app, session, world, factory, smtp_server, monkeypatch
):
    from email import message_from_bytes, policy

    port, inbox = smtp_server
    loan = disbursed_loan(session, world, amount=D(300_000_000), key="job3")
    rep = factory.user(Role.APPLICANT, cooperative=world["cooperative"])
    rep.locale = "vi"
    session.commit()
    settings = dict(app.config["LOANFUND"], MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    settings["MAIL_USE_TLS"] = False
    monkeypatch.setitem(app.config, "LOANFUND", settings)
    for _ in range(2):  # the job runs twice on the day: each reminder is written once
        reminders_job(app, today=dt.date(2026, 12, 16))
        outbox_job(app)
    to_rep = [e for e in inbox.messages if e.rcpt_tos == [rep.email]]
    assert len(to_rep) == 1
    subject = message_from_bytes(to_rep[0].content, policy=policy.default)["Subject"]
    # "Loan … : an installment of … is due on …", in Vietnamese for this reader.
    assert loan.contract_no in subject and "Khoản vay" in subject and "23/12/2026" in subject
    english = [e for e in inbox.messages if e.rcpt_tos == [world["rep"].label]]
    assert len(english) == 1
    assert "is due on" in message_from_bytes(english[0].content, policy=policy.default)["Subject"]
