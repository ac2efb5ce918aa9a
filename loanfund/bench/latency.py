"""``loanfund bench run --part latency``: the busiest pages' latency under concurrent users.

The production server is started on 127.0.0.1 against the database, on a listening socket this
process binds first and hands down (no port race, and no waiting loop: connections queue in the
socket until the server accepts them):

- ``waitress``: what ``loanfund serve`` runs, one process with ``THREADS`` threads;
- ``gunicorn``: several worker processes (``--workers``), each with ``THREADS`` threads.

The server reads the settings as ``loanfund serve`` would (files and ``LOANFUND_*``), with the
database, the upload folder and one more override: ``LOGIN_RATE_LIMIT``, since every simulated
user signs in from 127.0.0.1 (the limit counts per client address). The session cookie keeps
its ``Secure`` flag in production; the simulated users send it over plain HTTP to 127.0.0.1, as
a TLS-terminating proxy in front of the server would.

Locust runs the users in a process of its own (it patches the standard library with gevent at
import). Each user signs in once through the login form (CSRF token, Referer), then requests
:data:`loanfund.bench.run.PAGES` in turn (the users start on pages spread over the list), with
a think time between two requests; the loan page goes to loans spread over the fund. Before the
first phase, one round of the pages per server process compiles the templates and warms the
caches. A phase's clock starts once every user has signed in and stops after ``seconds``:
requests started in that window count, and are waited for; a request that does not answer 200
(a redirect too) or fails to connect is an error.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import secrets
import signal
import socket
import subprocess  # the server and the users, each in a fresh interpreter  # nosec B404
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

#: The issue's target: p95 at this many users, in milliseconds, and no error.
TARGET_USERS = 8
TARGET_P95_MS = 200
#: The bench server's sign-in limit: every simulated user comes from 127.0.0.1.
BENCH_LOGIN_RATE_LIMIT = "100000 per minute"
#: Loans the loan page is requested for, spread over the fund.
LOAN_SAMPLE = 200
#: Seconds the users' process waits at most for the sign-ins, and for the last requests.
WAIT_SECONDS = 300
SERVERS = ("waitress", "gunicorn")
#: How much of the server's log the figures keep when a request failed.
LOG_TAIL_CHARS = 6000


def percentile(values: Sequence[float], pct: float) -> float:
    """The nearest-rank percentile: the smallest value with at least ``pct`` % of the values
    at or below it (a value measured, never an interpolation)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def spread_loan_ids(app: Any, count: int = LOAN_SAMPLE) -> list[int]:
    """Up to ``count`` loan ids, evenly spread over the fund's loans by id."""
    from sqlalchemy import select

    from loanfund.models import Loan, db

    with app.app_context():
        ids = list(db.session.scalars(select(Loan.id).order_by(Loan.id)))
        db.session.remove()
    if not ids:
        raise RuntimeError("The fund has no loan to request the loan page for.")
    step = max(1, len(ids) // count)
    return ids[::step][:count]


def describe_server(server: str, workers: int, threads: int) -> str:
    if server == "waitress":
        return f"waitress as `loanfund serve` runs it, 1 process × {threads} threads"
    return f"gunicorn, {workers} worker processes × {threads} threads (gthread)"


def measure_latency(
    settings: Mapping[str, str],
    *,
    email: str,
    password: str,
    loan_ids: Sequence[int],
    pages: Mapping[str, str],
    users: Sequence[int] = (8, 32),
    seconds: float = 30.0,
    think_seconds: float = 1.0,
    server: str = "waitress",
    workers: int | None = None,
    threads: int = 8,
) -> dict[str, Any]:
    """Start the server, run a phase of simulated users for each count in ``users``, stop it.

    Args:
        settings: ``LOANFUND_*`` settings for the server, without the prefix (the database's
            URL and upload folder at least); the rest comes from the environment as usual.
        pages: name → path, ``{loan_id}`` in a path is replaced by one of ``loan_ids``.
        think_seconds: each user waits between 0.5 and 1.5 times this between two requests.
        workers: gunicorn's worker processes (default: one per CPU); waitress has one.
    """
    from loanfund.config import load_settings

    if server not in SERVERS:
        raise ValueError(f"server must be one of {SERVERS}, not {server!r}")
    workers = 1 if server == "waitress" else (workers or os.cpu_count() or 1)
    environment = dict(os.environ)
    environment.update({f"LOANFUND_{key}": value for key, value in settings.items()})
    environment["LOANFUND_LOGIN_RATE_LIMIT"] = BENCH_LOGIN_RATE_LIMIT
    listener = socket.create_server(("127.0.0.1", 0), backlog=1024)
    listener.set_inheritable(True)
    base_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    with tempfile.TemporaryFile() as server_log:
        try:
            process = _start_server(
                listener.fileno(),
                server=server,
                workers=workers,
                threads=threads,
                environment=environment,
                log=server_log,
            )
        finally:
            listener.close()  # the server holds its own copy
        try:
            phases = []
            for index, count in enumerate(users):
                raw = _run_users(
                    {
                        "base_url": base_url,
                        # Before the first phase, one round of the pages for each process:
                        # templates compiled and caches warm, as on a server that has run.
                        "warm_up_sessions": 0 if index else workers,
                        "users": count,
                        "seconds": seconds,
                        "think_seconds": think_seconds,
                        "email": email,
                        "password": password,
                        "pages": dict(pages),
                        "loan_ids": list(loan_ids),
                    },
                    # Start, warm-up, sign-ins, the phase and its last requests: only a
                    # bound for a server that stopped answering.
                    timeout=seconds + 4 * WAIT_SECONDS,
                    server=process,
                    server_log=server_log,
                )
                phases.append(_phase_figures(raw, pages))
                phases[-1]["load_average"] = os.getloadavg()[0]  # the machine is shared
        finally:
            _stop_server(process)
        server_log.seek(0)
        errors_logged = server_log.read()[-LOG_TAIL_CHARS:].decode(errors="replace")
    return {
        "server": describe_server(server, workers, threads),
        "env": load_settings(environ=environment)["ENV"],  # as the server reads it
        "overrides": {"LOGIN_RATE_LIMIT": BENCH_LOGIN_RATE_LIMIT},
        "think_seconds": think_seconds,
        "phases": phases,
        # What the server wrote (an error's traceback), when a request failed.
        "server_log_tail": errors_logged if any(phase["errors"] for phase in phases) else "",
    }


def _start_server(
    fd: int,
    *,
    server: str,
    workers: int,
    threads: int,
    environment: dict[str, str],
    log: Any,
) -> subprocess.Popen[bytes]:
    if server == "waitress":
        command = [
            sys.executable,
            "-m",
            "loanfund.bench.latency",
            "serve",
            str(fd),
            str(threads),
        ]
    else:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            f"--bind=fd://{fd}",
            f"--workers={workers}",
            f"--threads={threads}",
            "--worker-class=gthread",
            "--timeout=300",
            "--graceful-timeout=5",
            # A user's connection stays open between two pages, as a proxy's would (the
            # default, 2 s, closes it under a user who thinks longer: "no answer").
            "--keep-alive=75",
            "--no-control-socket",  # else a socket under ~/.gunicorn, one for all servers
            "loanfund.app:create_app()",
        ]
    return subprocess.Popen(  # noqa: S603  # our interpreter, our arguments  # nosec B603
        command,
        env=environment,
        pass_fds=(fd,),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        start_new_session=True,  # its own process group: stopped whole, workers included
    )


def _stop_server(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # anything left of its group (workers)
    process.wait()


def _run_users(
    config: dict[str, Any],
    *,
    timeout: float,
    server: subprocess.Popen[bytes],
    server_log: Any,
) -> dict[str, Any]:
    """One phase in a fresh process (locust patches the standard library at import)."""
    command = [
        sys.executable,
        "-c",
        "import locust; from loanfund.bench.latency import users_main; users_main()",
    ]
    try:
        finished = subprocess.run(  # noqa: S603  # our interpreter, our arguments  # nosec B603
            command,
            input=json.dumps(config),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"The simulated users did not finish within {timeout:.0f} s.") from None
    if finished.returncode != 0:
        raise RuntimeError(
            "The simulated users failed:\n"
            + finished.stderr[-4000:]
            + _server_tail(server, server_log)
        )
    return json.loads(finished.stdout)


def _server_tail(server: subprocess.Popen[bytes], server_log: Any) -> str:
    server_log.seek(0)
    text = server_log.read()[-LOG_TAIL_CHARS:].decode(errors="replace")
    state = "running" if server.poll() is None else f"exited with {server.returncode}"
    return f"\nThe server ({state}) wrote:\n{text}"


def _phase_figures(raw: dict[str, Any], pages: Mapping[str, str]) -> dict[str, Any]:
    figures = {}
    for name in pages:
        page = raw["pages"][name]
        timings = page["ms"]
        figures[name] = {
            "requests": len(timings),
            "errors": page["errors"],
            "statuses": page["statuses"],
            "failures": page["failures"],  # a few connection errors, as the client saw them
            "p50_ms": percentile(timings, 50) if timings else None,
            "p95_ms": percentile(timings, 95) if timings else None,
            "p99_ms": percentile(timings, 99) if timings else None,
        }
    requests = sum(page["requests"] for page in figures.values())
    return {
        "users": raw["users"],
        "signed_in": raw["signed_in"],
        "warm_up_seconds": raw["warm_up_seconds"],
        "sign_in_seconds": raw["sign_in_seconds"],
        "sign_in_errors": raw["sign_in_errors"],
        "seconds": raw["seconds"],
        "requests": requests,
        "errors": sum(page["errors"] for page in figures.values()) + len(raw["sign_in_errors"]),
        "per_second": requests / raw["seconds"] if raw["seconds"] else 0.0,
        "pages": figures,
    }


def missed_pages(phase: Mapping[str, Any]) -> list[str]:
    """The pages over the p95 target, or with an error or no request, in a phase."""
    return [
        name
        for name, page in phase["pages"].items()
        if page["errors"] or not page["requests"] or page["p95_ms"] > TARGET_P95_MS
    ]


def table(latency: Mapping[str, Any]) -> Iterable[str]:
    """The figures as lines of a table for people."""
    yield (
        f"web latency: {latency['server']}, ENV {latency['env']}, on 127.0.0.1; think time "
        f"{0.5 * latency['think_seconds']:g}–{1.5 * latency['think_seconds']:g} s; bench "
        "override LOGIN_RATE_LIMIT (every user signs in from 127.0.0.1)"
    )
    yield (
        f"{'users':>5} {'page':32} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'errors':>6}"
    )
    for phase in latency["phases"]:
        for name, page in phase["pages"].items():
            times = (
                f"{page['p50_ms']:>8.0f} {page['p95_ms']:>8.0f} {page['p99_ms']:>8.0f}"
                if page["requests"]
                else f"{'-':>8} {'-':>8} {'-':>8}"
            )
            failed = ", ".join(
                f"{count} × {status if status != '0' else 'no answer'}"
                for status, count in page["statuses"].items()
                if status != "200"
            )
            yield (
                f"{phase['users']:>5} {name:32} {page['requests']:>8} {times} {page['errors']:>6}"
                + (f" ({failed})" if failed else "")
            )
        line = (
            f"{phase['users']:>5} all: {phase['requests']:,} requests in {phase['seconds']:.0f} s, "
            f"{phase['per_second']:.1f}/s, {phase['errors']} errors "
            f"({phase['signed_in']}/{phase['users']} signed in; load {phase['load_average']:.2f})"
        )
        if phase["users"] == TARGET_USERS:
            missed = missed_pages(phase)
            verdict = "met" if not missed and not phase["errors"] else "MISSED"
            line += f" — target p95 ≤ {TARGET_P95_MS} ms, 0 errors: {verdict}"
            if missed:
                line += f" ({', '.join(missed)})"
        yield line


# --- the processes ------------------------------------------------------------------------


def serve_main(fd: int, threads: int) -> None:
    """The server process for ``waitress``: the app and the call ``loanfund serve`` makes, on
    the socket handed down."""
    import waitress

    from loanfund.app import create_app

    app = create_app()
    listener = socket.socket(fileno=fd)
    waitress.serve(app, sockets=[listener], threads=threads, ident="loanfund")


def users_main() -> None:
    """The users' process: a phase's settings as JSON on stdin, its timings as JSON on stdout.

    Started with locust imported first, so that gevent patches the standard library before
    anything else loads it."""
    import gevent
    import requests
    from gevent.event import Event
    from locust import HttpUser, between, constant, task
    from locust.env import Environment
    from locust.exception import StopUser

    config = json.load(sys.stdin)
    base_url, users, pages = config["base_url"], config["users"], config["pages"]
    names = list(pages)
    loan_ids = config["loan_ids"]
    think = config["think_seconds"]
    began = time.perf_counter()
    warm_clients: list[Any] = []

    def visit_every_page(client: Any) -> None:
        for path in pages.values():
            _keeping_cookies(client, client.get(base_url + path.format(loan_id=loan_ids[0])))

    if config["warm_up_sessions"]:

        def warm_up() -> None:
            client = requests.Session()
            if _sign_in(client, base_url, config["email"], config["password"]) is None:
                warm_clients.append(client)
                visit_every_page(client)

        gevent.joinall([gevent.spawn(warm_up) for _ in range(config["warm_up_sessions"])])
    warmed = time.perf_counter()
    state: dict[str, Any] = {
        "started": 0,
        "signed_in": 0,
        "sign_in_errors": [],
        "opened_at": None,
        "closing": False,
        "in_flight": 0,
    }
    all_signed_in, all_answered = Event(), Event()
    records: dict[str, dict[str, Any]] = {
        name: {"ms": [], "errors": 0, "statuses": {}, "failures": []} for name in names
    }

    def signed(error: str | None) -> None:
        if error is None:
            state["signed_in"] += 1
        else:
            state["sign_in_errors"].append(error)
        if state["signed_in"] + len(state["sign_in_errors"]) == users:
            all_signed_in.set()

    class PageUser(HttpUser):
        host = base_url
        wait_time = between(0.5 * think, 1.5 * think) if think > 0 else constant(0)

        def on_start(self) -> None:
            # The users start on pages spread evenly over the list, then go through it in turn.
            self.turn = state["started"] * len(names) // users
            state["started"] += 1
            error = _sign_in(self.client, base_url, config["email"], config["password"])
            signed(error)
            if error is not None:
                raise StopUser()

        @task
        def next_page(self) -> None:
            if state["closing"]:
                gevent.sleep(3600)  # the phase is over: wait to be stopped
                return
            name = names[self.turn % len(names)]
            self.turn += 1
            path = pages[name].format(loan_id=loan_ids[secrets.randbelow(len(loan_ids))])
            counted = state["opened_at"] is not None  # a request of the window
            if counted:
                state["in_flight"] += 1
            started = time.perf_counter()
            try:
                response = self.client.get(path, name=name, allow_redirects=False)
                status = response.status_code or 0  # 0: no answer (connection failed)
                _keeping_cookies(self.client, response)
                if status == 0 and len(records[name]["failures"]) < 3:
                    records[name]["failures"].append(repr(response.error))
            finally:
                elapsed_ms = (time.perf_counter() - started) * 1000
                if counted:
                    state["in_flight"] -= 1
                    if state["closing"] and not state["in_flight"]:
                        all_answered.set()
            if counted:
                record = records[name]
                record["ms"].append(elapsed_ms)
                record["statuses"][str(status)] = record["statuses"].get(str(status), 0) + 1
                if status != 200:
                    record["errors"] += 1

    environment = Environment(user_classes=[PageUser])
    runner = environment.create_local_runner()
    runner.start(users, spawn_rate=users)
    all_signed_in.wait(timeout=WAIT_SECONDS)
    # Signing in writes (the time of the last sign-in), so the figures the pages keep until
    # the database changes are worked out again: once, by one warm session, before the window
    # opens. The window measures pages between changes; the cost of working them out after a
    # change is the one-user figure (`--part pages` on a cold process).
    for client in warm_clients[:1]:
        visit_every_page(client)
    for client in warm_clients:
        client.close()
    state["opened_at"] = time.perf_counter()
    gevent.sleep(config["seconds"])
    state["closing"] = True
    window = time.perf_counter() - state["opened_at"]
    if state["in_flight"]:
        all_answered.wait(timeout=WAIT_SECONDS)
    runner.quit()
    json.dump(
        {
            "users": users,
            "signed_in": state["signed_in"],
            "sign_in_errors": state["sign_in_errors"],
            "warm_up_seconds": warmed - began,
            "sign_in_seconds": state["opened_at"] - warmed,
            "seconds": window,
            "pages": records,
        },
        sys.stdout,
    )


def _sign_in(client: Any, base_url: str, email: str, password: str) -> str | None:
    """Sign in through the form, as a browser does; what went wrong, or ``None``."""
    from loanfund.bench.run import _csrf

    login = f"{base_url}/account/login"
    try:
        form = _keeping_cookies(client, client.get(login))
        answer = client.post(
            login,
            data={"email": email, "password": password, "csrf_token": _csrf(form.text)},
            headers={"Referer": login},  # checked when the request is HTTPS
            allow_redirects=False,
        )
        _keeping_cookies(client, answer)
    except Exception as error:  # reported as the user's error, not raised in a greenlet
        return f"{type(error).__name__}: {error}"
    location = answer.headers.get("Location", "")
    if answer.status_code != 302 or "/account/login" in location:
        return f"sign-in answered {answer.status_code} {location}".strip()
    return None


def _keeping_cookies(client: Any, response: Any) -> Any:
    """Clears the ``Secure`` flag of the cookies the client holds, so that it sends them over
    plain HTTP to 127.0.0.1, as a TLS-terminating proxy would. (A cookie policy set on the jar
    is not used: requests copies the jar into a new one with the default policy to send.)"""
    for cookie in client.cookies:
        cookie.secure = False
    return response


def main(argv: Sequence[str] | None = None) -> None:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if len(arguments) == 3 and arguments[0] == "serve":
        serve_main(int(arguments[1]), int(arguments[2]))
        return
    raise SystemExit("usage: python -m loanfund.bench.latency serve FD THREADS")


if __name__ == "__main__":
    main()
