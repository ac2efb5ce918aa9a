"""Append-only tables, guarded in the application as well as in the database.

The audit log and the journal are only ever inserted into: a mistaken entry is corrected by a
reversing entry, never by changing the old one. Database triggers (``models/audit.py``,
``models/ledger.py`` and their migrations) refuse UPDATE and DELETE by any SQL; the guard here
stops the same thing earlier, in the ORM, with an error that names the row and the columns.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import ColumnProperty, Mapper, ORMExecuteState, Session

#: The mapped classes whose rows may only be inserted.
_GUARDED: set[type] = set()


class AppendOnlyError(RuntimeError):
    """Code tried to change or delete a row of an append-only table (a programming error)."""


def _changed_columns(target: Any) -> list[str]:
    state = inspect(target)
    return sorted(
        attribute.key
        for attribute in state.attrs
        if isinstance(state.mapper.attrs[attribute.key], ColumnProperty)
        and attribute.history.has_changes()
    )


def _refuse_update(mapper: Mapper[Any], connection: Any, target: Any) -> None:
    changed = _changed_columns(target)
    if not changed:
        # Marked dirty by a relationship collection only: nothing would be written to the row.
        return
    raise AppendOnlyError(
        f"{mapper.local_table.name} {target.id} is append-only: refused a change of "
        f"{', '.join(changed)} (correct it with a new row, such as a reversing entry)"
    )


def _refuse_delete(mapper: Mapper[Any], connection: Any, target: Any) -> None:
    raise AppendOnlyError(
        f"{mapper.local_table.name} {target.id} is append-only: refused its deletion"
    )


def _refuse_bulk(state: ORMExecuteState) -> None:
    """``session.execute(update(AuditEvent)...)`` and ORM DELETE statements skip the mapper
    events above; refuse them here."""
    if not (state.is_update or state.is_delete):
        return
    for mapper in state.all_mappers:
        if mapper.class_ in _GUARDED:
            verb = "UPDATE" if state.is_update else "DELETE"
            raise AppendOnlyError(f"{mapper.local_table.name} is append-only: refused an {verb}")


def append_only_tables() -> list[str]:
    """The names of the append-only tables, sorted (``loanfund grant-app-role`` reads them)."""
    return sorted(inspect(model).local_table.name for model in _GUARDED)


def forbid_changes(model: type) -> None:
    """Refuse, through the ORM, every UPDATE and DELETE of ``model``'s rows."""
    _GUARDED.add(model)
    event.listen(model, "before_update", _refuse_update)
    event.listen(model, "before_delete", _refuse_delete)


event.listen(Session, "do_orm_execute", _refuse_bulk)
