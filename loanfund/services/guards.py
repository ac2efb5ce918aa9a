"""The one guarded status change every service uses (DESIGN §5, Concurrency).

``UPDATE … SET status = … WHERE id = :id AND status = :seen`` with a row-count check: two
clicks, a replayed POST or two people at once change the row once; the loser is told. And
:func:`hold_row`, for checks that read more than the row's status (what is left of a contract,
the receipts before this one).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from loanfund.domain.errors import Conflict


def change_status(
    session: Session,
    model: type,
    row_id: int,
    *,
    seen: object,
    values: Mapping[str, Any],
    refused: str,
) -> None:
    """Apply ``values`` to the row only if its status is still ``seen``.

    Raises:
        Conflict: with ``refused`` (a sentence for the user), after rolling back, when someone
            changed the row first.
    """
    result = session.execute(
        update(model)
        .where(model.id == row_id, model.status == seen)  # type: ignore[attr-defined]
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.rollback()
        raise Conflict(refused)


def hold_row(session: Session, model: type, row_id: int) -> None:
    """Hold the row until the transaction ends, so that the checks made after this see what
    was committed before and nothing is committed meanwhile: whoever holds it next waits, then
    sees this transaction's work. Call it before reading what the checks are made on.

    An UPDATE that changes nothing, so that it holds on both databases: PostgreSQL locks the
    row; SQLite, which drops ``SELECT … FOR UPDATE``, takes its one write lock. The row, if the
    session read it before (a view checking access), is read again.
    """
    session.execute(
        update(model)
        .where(model.id == row_id)  # type: ignore[attr-defined]
        .values(status=model.status)  # type: ignore[attr-defined]
        .execution_options(synchronize_session=False)
    )
    held = session.identity_map.get(identity_key(model, row_id))
    if held is not None:
        session.expire(held)
