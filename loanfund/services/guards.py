"""The one guarded status change every service uses (DESIGN §5, Concurrency).

``UPDATE … SET status = … WHERE id = :id AND status = :seen`` with a row-count check: two
clicks, a replayed POST or two people at once change the row once; the loser is told.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

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
