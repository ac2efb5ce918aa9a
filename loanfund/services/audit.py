"""The one helper every service uses to write the audit log."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from loanfund.domain.access import Actor
from loanfund.models import AuditEvent


def _plain(value: Any) -> Any:
    """A JSON-safe copy: exact decimals and dates as strings, enums as their values."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        # Canonical text, so 5.40 and 5.4 are the same value in ``changed``.
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_plain(item) for item in value]
        return sorted(items) if isinstance(value, set | frozenset) else items
    return value


def snapshot(obj: object, fields: Iterable[str]) -> dict[str, Any]:
    """The named attributes of ``obj`` as a JSON-safe dict, for ``before`` / ``after``."""
    return {name: _plain(getattr(obj, name)) for name in fields}


def changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[dict, dict]:
    """Only the keys whose values differ, from both sides."""
    keys = [key for key in after if before.get(key) != after.get(key)]
    return {key: before.get(key) for key in keys}, {key: after[key] for key in keys}


def record_event(
    session: Session,
    *,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: object = None,
    cooperative_id: int | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    note: str | None = None,
) -> AuditEvent:
    """Add one audit event to the caller's transaction (the caller commits).

    Args:
        session: the business transaction's session.
        actor: who acted.
        action: ``entity.verb``, e.g. ``"cooperative.verify"``.
        entity: the kind of object (``"cooperative"``).
        entity_id: its id.
        cooperative_id: the cooperative concerned, if any.
        before: the relevant fields before the change.
        after: the relevant fields after it.
        note: a reason or remark given by the actor.
    """
    event = AuditEvent(
        actor_id=actor.user_id,
        actor_label=actor.label,
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        cooperative_id=cooperative_id,
        before=_plain(dict(before)) if before is not None else None,
        after=_plain(dict(after)) if after is not None else None,
        note=note,
    )
    session.add(event)
    return event
