"""The append-only audit log: who changed what, when, from what to what."""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from sqlalchemy import DDL, JSON, ForeignKey, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from loanfund.models.append_only import forbid_changes
from loanfund.models.base import Base
from loanfund.models.types import UTCDateTime, utcnow


class AuditEvent(Base):
    """One state change or money movement. Rows are only ever inserted (triggers refuse
    UPDATE and DELETE on both databases, and the ORM refuses them first)."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: Who acted; ``None`` for the system (jobs, demo loading).
    actor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), index=True)
    #: The actor's email at the time (kept even if the user is renamed).
    actor_label: Mapped[str] = mapped_column(String(255))
    #: ``entity.verb``, e.g. ``cooperative.verify``.
    action: Mapped[str] = mapped_column(String(64), index=True)
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[Optional[str]] = mapped_column(String(40))
    #: The cooperative concerned, so a cooperative's history can be filtered.
    cooperative_id: Mapped[Optional[int]] = mapped_column(ForeignKey("cooperative.id"), index=True)
    before: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)
    after: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)
    note: Mapped[Optional[str]] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action} {self.entity}:{self.entity_id}>"


#: The same triggers are created by the migration; these cover ``create_all`` (tests).
APPEND_ONLY_DDL = {
    "sqlite": [
        "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
        "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$ "
        "BEGIN RAISE EXCEPTION 'the audit log is append-only'; END; $$ LANGUAGE plpgsql",
        "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
    ],
}

for _dialect, _statements in APPEND_ONLY_DDL.items():
    for _statement in _statements:
        event.listen(
            AuditEvent.__table__, "after_create", DDL(_statement).execute_if(dialect=_dialect)
        )

forbid_changes(AuditEvent)
