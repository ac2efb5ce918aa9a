"""The audit log is append-only in the database itself."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from loanfund.models import AuditEvent


def test_every_change_writes_an_audit_event(session, factory):
    cooperative = factory.cooperative()
    actions = [
        e.action
        for e in session.query(AuditEvent)
        .filter_by(cooperative_id=cooperative.id)
        .order_by(AuditEvent.id)
    ]
    assert actions == ["cooperative.create", "cooperative.verify"]


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_event SET action = 'tampered'", "DELETE FROM audit_event"]
)
def test_audit_events_cannot_be_changed_or_deleted(session, factory, statement):
    factory.cooperative()
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text(statement))
    session.rollback()
    assert session.query(AuditEvent).count() >= 2
