"""Leadership among schedulers: only one process acts, however many were started.

* PostgreSQL: a session-level advisory lock, taken on a connection kept open for the life of
  the process; it is released when the process ends, however it ends.
* SQLite: a lease row that the holder renews; another process may take it only once it has
  not been renewed for the lease's length.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from collections.abc import Callable

from sqlalchemy import Connection, Engine, insert, text, update
from sqlalchemy.exc import IntegrityError

from loanfund.models import SchedulerLease
from loanfund.models.types import utcnow

log = logging.getLogger(__name__)

#: The advisory lock's key: "LFSC" as a number.
ADVISORY_KEY = 0x4C465343


class Lease:
    def __init__(
        self,
        engine: Engine,
        *,
        name: str = "scheduler",
        seconds: int = 90,
        holder: str | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.name = name
        self.seconds = seconds
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}"
        self.clock = clock
        self._connection: Connection | None = None

    @property
    def postgresql(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def acquire(self) -> bool:
        """Take or renew the lease; True when this process leads."""
        if self.postgresql:
            return self._advisory()
        return self._row()

    def _advisory(self) -> bool:
        if self._connection is not None:
            return True
        connection = self.engine.connect()
        held = connection.execute(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}
        ).scalar()
        connection.commit()
        if held:
            self._connection = connection
            return True
        connection.close()
        return False

    def _row(self) -> bool:
        now = self.clock()
        expires = now + dt.timedelta(seconds=self.seconds)
        table = SchedulerLease.__table__
        with self.engine.begin() as connection:
            renewed = connection.execute(
                update(table)
                .where(
                    table.c.name == self.name,
                    (table.c.holder == self.holder) | (table.c.expires_at < now),
                )
                .values(holder=self.holder, expires_at=expires)
            )
            if renewed.rowcount == 1:
                return True
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    insert(table).values(name=self.name, holder=self.holder, expires_at=expires)
                )
        except IntegrityError:
            return False
        return True

    def release(self) -> None:
        if self._connection is not None:
            # The connection goes back to the pool, whose session would keep the lock.
            self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
            self._connection.commit()
            self._connection.close()
            self._connection = None
            return
        table = SchedulerLease.__table__
        with self.engine.begin() as connection:
            connection.execute(
                update(table)
                .where(table.c.name == self.name, table.c.holder == self.holder)
                .values(expires_at=self.clock() - dt.timedelta(seconds=1))
            )
