"""The export runner: a small thread pool in each web process, so a request only queues the
work and a web worker is never held up by an export.

The pool is made on first use and kept in ``app.extensions``. Each job runs in an app context
of its own, with the job's language, and its own database sessions (on SQLite a connection
cannot be shared between threads). Under ``TESTING`` or ``EXPORTS_INLINE`` jobs run at once in
the caller's thread, so tests see the finished job.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Final

from flask import Flask
from flask_babel import force_locale
from sqlalchemy.orm import Session

from loanfund.config import currency_digits, export_dir
from loanfund.domain.exports import ExportStatus
from loanfund.models import db
from loanfund.services.exports import run_export

log = logging.getLogger(__name__)

EXTENSION_KEY: Final = "loanfund_export_runner"
_making = threading.Lock()


class ExportRunner:
    """Runs export jobs: on ``threads`` background threads, or at once when ``inline``."""

    def __init__(self, app: Flask, *, threads: int = 1, inline: bool = False) -> None:
        self.app = app
        self.inline = inline
        self._pool = (
            None
            if inline
            else ThreadPoolExecutor(max_workers=threads, thread_name_prefix="loanfund-export")
        )

    def __repr__(self) -> str:
        return f"<ExportRunner {'inline' if self.inline else 'threaded'}>"

    def submit(self, job_id: int) -> Future[ExportStatus | None]:
        """Hand a queued job over; the future holds how it ended."""
        if self._pool is not None:
            return self._pool.submit(self.run, job_id)
        future: Future[ExportStatus | None] = Future()
        try:
            future.set_result(self.run(job_id))
        except Exception as error:  # reported through the future, as a thread's would be
            future.set_exception(error)
        return future

    def run(self, job_id: int) -> ExportStatus | None:
        """Run one job in an app context of its own (any thread)."""
        app = self.app
        settings = app.config["LOANFUND"]
        with app.app_context():
            try:
                return run_export(
                    job_id,
                    sessions=lambda: Session(db.engine),
                    folder=export_dir(settings),
                    digits=currency_digits(settings["FUND_CURRENCY"]),
                    in_locale=self._in_locale,
                )
            except Exception:
                log.exception("export %s could not be run", job_id)
                raise

    @contextmanager
    def _in_locale(self, code: str) -> Iterator[None]:
        """A request context in the job's language: the exports' words and dates follow it."""
        languages = self.app.config["LOANFUND"]["LANGUAGES"]
        language = code if code in languages else self.app.config["BABEL_DEFAULT_LOCALE"]
        with self.app.test_request_context(), force_locale(language):
            yield

    def shutdown(self, *, wait: bool = True) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=wait)


def export_runner(app: Flask) -> ExportRunner:
    """The app's runner, made on first use (inline under ``TESTING`` or ``EXPORTS_INLINE``)."""
    runner = app.extensions.get(EXTENSION_KEY)
    if runner is None:
        with _making:
            runner = app.extensions.get(EXTENSION_KEY)
            if runner is None:
                settings = app.config["LOANFUND"]
                runner = ExportRunner(
                    app,
                    threads=settings["EXPORT_THREADS"],
                    inline=bool(app.config["TESTING"] or settings["EXPORTS_INLINE"]),
                )
                app.extensions[EXTENSION_KEY] = runner
    return runner
