"""What the crash tests share: a database per run, a demo fund in it, a child process that runs
a service and kills itself with SIGKILL at a chosen point, and the database's rows in a form
that two runs can be compared by.

On SQLite the databases are files under the test's ``tmp_path``. When
LOANFUND_TEST_DATABASE_URL is PostgreSQL, each test creates its own databases on that server
(``CREATE DATABASE`` with a unique name; a copy is made with ``TEMPLATE``) and drops them at
the end, so the shared test database is never touched.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from loanfund.app import create_app
from loanfund.domain.access import SYSTEM
from loanfund.models import Base, db
from loanfund.queries.ledger import account_balances
from loanfund.services.demo import load_demo_fund
from loanfund.services.file_store import FileStore
from loanfund.services.settings import initialize_fund
from tests.conftest import PG_URL, TODAY

ON_POSTGRES = PG_URL.startswith("postgresql")


class Databases:
    """The databases of one test, created on demand and all dropped by :func:`crash_databases`."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.tag = uuid.uuid4().hex[:10]
        self.created: list[str] = []

    def settings(self, url: str) -> dict[str, Any]:
        return {
            "DATABASE_URL": url,
            "TESTING": True,
            "DEFAULT_LOCALE": "en",
            "LANGUAGES": ["en", "vi"],
            "UPLOAD_DIR": str(self.tmp_path / "uploads"),
        }

    def _name(self, name: str) -> str:
        return f"lf_crash_{self.tag}_{name}"

    def _url(self, name: str) -> str:
        if ON_POSTGRES:
            return make_url(PG_URL).set(database=self._name(name)).render_as_string(False)
        return f"sqlite:///{self.tmp_path / (name + '.sqlite3')}"

    def _server(self, statement: str) -> None:
        engine = create_engine(make_url(PG_URL).set(database="postgres"))
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(statement))
        engine.dispose()

    def create(self, name: str) -> str:
        """A new empty database."""
        if ON_POSTGRES:
            self._server(f'CREATE DATABASE "{self._name(name)}"')
            self.created.append(self._name(name))
        return self._url(name)

    def copy(self, source: str, name: str) -> str:
        """A copy of ``source`` (made by :meth:`create`); nothing may be connected to it."""
        if ON_POSTGRES:
            original = make_url(source).database
            self._server(f'CREATE DATABASE "{self._name(name)}" TEMPLATE "{original}"')
            self.created.append(self._name(name))
        else:
            shutil.copy(make_url(source).database or "", make_url(self._url(name)).database or "")
        return self._url(name)

    def drop(self) -> None:
        # FORCE: the server may not have noticed a killed child's connection yet.
        for name in self.created:
            self._server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.clear()


@contextmanager
def crash_databases(tmp_path: Path) -> Iterator[Databases]:
    databases = Databases(tmp_path)
    try:
        yield databases
    finally:
        databases.drop()


@contextmanager
def opened(databases: Databases, url: str) -> Iterator[Session]:
    """A session on ``url``; every connection is closed afterwards (a copy needs that)."""
    app = create_app(databases.settings(url))
    with app.app_context(), app.test_request_context():
        try:
            yield db.session
        finally:
            db.session.remove()
            db.engine.dispose()


def demo_database(databases: Databases, name: str) -> str:
    """A new database holding the demo fund, closed through TODAY."""
    url = databases.create(name)
    with opened(databases, url) as session:
        db.create_all()
        initialize_fund(
            session, actor=SYSTEM, fund_name="Demo", currency="VND", timezone="Asia/Ho_Chi_Minh"
        )
        load_demo_fund(
            session,
            hash_password=lambda password: "x",
            today=TODAY,
            store=FileStore(databases.tmp_path / "uploads"),
        )
    return url


# --- the child process -----------------------------------------------------------------------

#: A child that imports the app once, then for each request (a line of JSON on stdin: the
#: settings and a kill point) forks a process that runs BODY in the app context and answers (a
#: line of JSON on stdout: how that process ended, its ``result`` and its writes). The body
#: calls ``arm()`` just before the service; from then on every INSERT, UPDATE and DELETE is
#: noted, and the process kills itself with SIGKILL at the kill point: ``["write", n]`` right
#: after the n-th of them (not committed: the service is still in its transaction, or in the
#: flush that starts its commit), ``["before_commit"]`` when the service calls commit,
#: ``["after_commit"]`` when the commit has returned (the change is stored; the caller never
#: hears of it), ``null`` never. Forking saves starting Python and the app for every run.
_CHILD = """
import datetime as dt, json, os, re, signal, sys, traceback
from decimal import Decimal
from sqlalchemy import event, select
from sqlalchemy.orm import Session
from loanfund.app import create_app
from loanfund.models import db

WRITE = re.compile(r'\\s*(INSERT INTO|UPDATE|DELETE FROM)\\s+"?(\\w+)', re.IGNORECASE)
apps = {}


def run(app, kill, answer):
    writes = []

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    def arm():
        def after_cursor_execute(conn, cursor, statement, parameters, context, executemany):
            match = WRITE.match(statement)
            if match:
                writes.append(match[1].split()[0].upper() + " " + match[2])
                if kill == ["write", len(writes)]:
                    die()

        event.listen(db.engine, "after_cursor_execute", after_cursor_execute)
        commit = Session.commit

        def commit_or_die(self):
            if kill == ["before_commit"]:
                die()
            commit(self)
            if kill == ["after_commit"]:
                die()

        Session.commit = commit_or_die

    with app.app_context(), app.test_request_context():
        db.engine.dispose(close=False)  # no connection is shared with the parent
        result = None
BODY
    os.write(answer, json.dumps({"result": result, "writes": writes}).encode())


for line in sys.stdin:
    request = json.loads(line)
    settings = request["settings"]
    key = json.dumps(settings, sort_keys=True)
    app = apps.get(key) or apps.setdefault(key, create_app(settings))
    reading, writing = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(reading)
        try:
            run(app, request["kill"], writing)
            os._exit(0)
        except BaseException:
            os.write(writing, json.dumps({"error": traceback.format_exc()[-3000:]}).encode())
            os._exit(1)
    os.close(writing)
    chunks = []
    while chunk := os.read(reading, 65536):
        chunks.append(chunk)
    os.close(reading)
    _, status = os.waitpid(pid, 0)
    code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    answer = json.loads(b"".join(chunks) or b"{}")
    print(json.dumps({"returncode": code, **answer}), flush=True)
"""


@dataclass(frozen=True)
class Child:
    """How one run ended."""

    returncode: int
    result: Any
    #: Every write the service made (``INSERT repayment``, ``UPDATE loan``…), in order.
    writes: list[str]
    error: str

    @property
    def killed(self) -> bool:
        return self.returncode == -signal.SIGKILL


class Runner:
    """Runs one body (Python, see ``_CHILD``) in a process of its own, each time on the
    database and with the kill point asked."""

    def __init__(self, databases: Databases, body: str) -> None:
        self.databases = databases
        script = _CHILD.replace("BODY", textwrap.indent(textwrap.dedent(body).strip(), " " * 8))
        self.log = (databases.tmp_path / f"child-{uuid.uuid4().hex[:6]}.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-c", script],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            env=dict(os.environ),
        )

    def __call__(self, url: str, kill: list[Any] | None = None) -> Child:
        assert self.process.stdin is not None and self.process.stdout is not None
        request = {"settings": self.databases.settings(url), "kill": kill}
        self.process.stdin.write((json.dumps(request) + "\n").encode())
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            self.close()
            raise AssertionError(Path(self.log.name).read_text()[-3000:])
        answer = json.loads(line)
        return Child(
            answer["returncode"],
            answer.get("result"),
            answer.get("writes", []),
            answer.get("error", ""),
        )

    def close(self) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        self.process.wait(timeout=60)
        self.process.stdout.close()
        self.log.close()


@contextmanager
def runner(databases: Databases, body: str) -> Iterator[Runner]:
    run = Runner(databases, body)
    try:
        yield run
    finally:
        run.close()


# --- the database's rows, to compare -----------------------------------------------------------


def _rows(session: Session) -> dict[str, list[dict[str, Any]]]:
    return {
        table.name: [dict(row._mapping) for row in session.execute(select(table))]
        for table in Base.metadata.sorted_tables
    }


def dump(databases: Databases, url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, exactly (ids and timestamps included), in a stable order."""
    with opened(databases, url) as session:
        rows = _rows(session)
    return {
        name: sorted((tuple(row.items()) for row in table), key=repr)
        for name, table in rows.items()
    }


def comparable(databases: Databases, url: str) -> dict[str, Any]:
    """Every row of every table as two runs of the same work can be compared: timestamps are
    left out, and each id is replaced by its rank in its table (PostgreSQL's sequences move on
    for the rows of a transaction that never committed, so a run that was killed and retried
    gives its new rows higher ids than a calm run; their order is the same). Foreign keys, an
    audit event's ``entity_id`` and the ids its ``before``/``after`` name by a table's name are
    replaced the same way. The balances of ``account_balances`` come along."""
    with opened(databases, url) as session:
        rows = _rows(session)
        balances = account_balances(session)
    ranks = {
        name: {row["id"]: n for n, row in enumerate(sorted(table, key=lambda row: row["id"]))}
        for name, table in rows.items()
        if table and isinstance(table[0].get("id"), int)
    }

    def ranked(name: str, value: Any) -> Any:
        try:
            return ("#", ranks[name][int(value)])
        except (KeyError, ValueError, TypeError):
            return value

    def named_ids(data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {key: ranked(key, value) for key, value in data.items()}

    state: dict[str, Any] = {"balances": balances}
    for table in Base.metadata.sorted_tables:
        references = {
            column.name: next(iter(column.foreign_keys)).column.table.name
            for column in table.columns
            if column.foreign_keys
        }
        kept = []
        for row in rows[table.name]:
            values = {}
            for column in table.columns:
                value = row[column.name]
                if isinstance(column.type, DateTime) or isinstance(
                    getattr(column.type, "impl", None), DateTime
                ):
                    continue
                if column.name == "id" and table.name in ranks:
                    value = ranked(table.name, value)
                elif column.name in references:
                    value = ranked(references[column.name], value)
                values[column.name] = value
            if table.name == "audit_event":
                values["entity_id"] = ranked(row["entity"], row["entity_id"])
                values["before"] = named_ids(row["before"])
                values["after"] = named_ids(row["after"])
            kept.append(tuple(values.items()))
        state[table.name] = sorted(kept, key=repr)
    return state


__all__ = [
    "ON_POSTGRES",
    "Child",
    "Databases",
    "Runner",
    "comparable",
    "crash_databases",
    "demo_database",
    "dump",
    "opened",
    "runner",
]
