"""Whether the database changed: a version that moves whenever any change is committed, so
that figures computed from it (``web.figures``) are worked out again only then.

* **PostgreSQL**: the current snapshot (``pg_current_snapshot()``). A transaction that writes
  takes the next transaction id when it starts writing and leaves the in-progress list when it
  commits or rolls back, so the snapshot's text changes at both moments. Reads change nothing.
  (A row's id is no version: ids are taken in one order and committed in another.)
* **SQLite**: ``PRAGMA data_version`` on a connection of its own that never writes: SQLite
  changes it whenever another connection commits to the file. Its values mean something only
  to that connection, so they are kept per process (one connection per database file).
* An in-memory SQLite database has no second connection: no version (``None``), and figures
  are worked out every time.

The version is read **before** the figures: a change committed in between makes figures newer
than their version, and the next reader, seeing a new version, works them out again; never the
other way round.
"""

from __future__ import annotations

import itertools
import sqlite3
import threading
from collections import OrderedDict
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

_lock = threading.Lock()
#: One watching connection per database file, the most recently used last (a process that
#: opens many files, as the tests do, keeps only the last few open).
_watchers: OrderedDict[str, tuple[int, sqlite3.Connection]] = OrderedDict()
_WATCHED_FILES = 8
_opened = itertools.count(1)


def _sqlite_version(path: str) -> str:
    with _lock:
        watched = _watchers.pop(path, None)
        if watched is None:
            # Read only: opened with mode=ro, it cannot write even by mistake.
            connection = sqlite3.connect(
                f"{Path(path).resolve().as_uri()}?mode=ro",
                uri=True,
                check_same_thread=False,
                isolation_level=None,
            )
            watched = (next(_opened), connection)
            while len(_watchers) >= _WATCHED_FILES:
                _watchers.popitem(last=False)[1][1].close()
        _watchers[path] = watched
        (version,) = watched[1].execute("PRAGMA data_version").fetchone()
    # Which connection too: a version read on a connection opened anew means nothing next to
    # one read on the connection it replaced.
    return f"sqlite:{watched[0]}:{version}"


def data_version(session: Session) -> str | None:
    """The database's version now (see the module), or ``None`` when it cannot be known or
    does not apply: the session has changes of its own not yet committed (figures worked out
    now would show them, and no other reader may be given those)."""
    if session.new or session.dirty or session.deleted:
        return None
    bind = session.get_bind()
    engine = getattr(bind, "engine", bind)
    if engine.dialect.name == "postgresql":
        snapshot, wrote = session.execute(
            text("SELECT pg_current_snapshot()::text, pg_current_xact_id_if_assigned()")
        ).one()
        return None if wrote is not None else f"pg:{snapshot}"
    if engine.dialect.name == "sqlite":
        path = engine.url.database
        if not path or path == ":memory:" or path.startswith("file::memory:"):
            return None
        # The driver opens a transaction at the first change only: one open is a write.
        if session.connection().connection.dbapi_connection.in_transaction:
            return None
        return _sqlite_version(path)
    return None
