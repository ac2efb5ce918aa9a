"""Backups of the fund: the database, the uploaded files and a manifest that proves them.

A backup is one folder, ``loanfund-backup-<UTC time>``, holding:

- ``database.sqlite3`` (SQLite, copied with the online backup API, consistent while the app
  runs) or ``database.dump`` (PostgreSQL, ``pg_dump -Fc``);
- ``uploads/…``: every file of the file store (``UPLOAD_DIR``), under the same keys;
- ``manifest.json``: the format and its version, when it was made (UTC), the app version, the
  schema revision (Alembic), the kind of database, each file's relative path, size and SHA-256,
  and the fund's figures at that moment (what ``loanfund report position --json`` prints).

:func:`verify_backup` recomputes every checksum and reads the database copy back;
:func:`restore_backup` restores into an empty database and an empty upload folder, and
:func:`figure_differences` lets the caller prove that the restored fund shows the same figures.
The figures come from a callable the caller passes in: this module knows nothing of Flask.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import sqlite3
import subprocess  # pg_dump and pg_restore, without a shell  # nosec B404
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Final

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from loanfund.domain.errors import LoanFundError
from loanfund.domain.i18n import _

log = logging.getLogger(__name__)

#: What ``manifest.json`` says it is, and the version of its layout this code reads and writes.
FORMAT: Final = "loanfund-backup"
FORMAT_VERSION: Final = 1
MANIFEST: Final = "manifest.json"
UPLOADS: Final = "uploads"
#: The database copy's name in the backup folder, by kind of database.
DATABASE_FILES: Final = {"sqlite": "database.sqlite3", "postgresql": "database.dump"}
#: Names the file store gives its files while it writes them (never part of a backup).
_TEMP_PREFIX: Final = ".upload-"
_CHUNK_BYTES: Final = 1024 * 1024
_FOLDER_MODE: Final = 0o700
_FILE_MODE: Final = 0o600
#: Times the database is copied again when the fund's figures changed during the copy.
ATTEMPTS: Final = 3
_PG_VERSION: Final = re.compile(r"\(PostgreSQL\)\s+(\d+)")

Figures = dict[str, Any]


class BackupProblem(LoanFundError):
    """The backup cannot be made, is damaged, or cannot be restored; ``problems`` lists every
    problem found, each a sentence naming the file or the figure."""

    def __init__(self, problems: str | Iterable[str]) -> None:
        self.problems: tuple[str, ...] = (
            (problems,) if isinstance(problems, str) else tuple(problems)
        )
        super().__init__("\n".join(self.problems))


class PartlyRestored(BackupProblem):
    """The database was restored but the uploaded files could not be moved into place."""


@dataclass(frozen=True, slots=True)
class BackupMade:
    """A backup written to disk.

    Attributes:
        path: the backup folder.
        database_bytes: the size of the database copy.
        upload_count: how many uploaded files it holds.
        upload_bytes: their total size.
        figures: the fund's figures it holds (as ``report position --json`` prints them).
    """

    path: Path
    database_bytes: int
    upload_count: int
    upload_bytes: int
    figures: Figures


@dataclass(frozen=True, slots=True)
class Restored:
    """A backup restored into the database and the upload folder.

    Attributes:
        manifest: the backup's manifest (its ``figures`` are what the restored fund must show).
        upload_count: how many uploaded files were put back.
        upload_bytes: their total size.
    """

    manifest: dict[str, Any]
    upload_count: int
    upload_bytes: int


# --- small helpers ---------------------------------------------------------------------------


def database_kind(engine: Engine) -> str:
    """``sqlite`` or ``postgresql``.

    Raises:
        BackupProblem: any other database.
    """
    kind = engine.dialect.name
    if kind not in DATABASE_FILES:
        raise BackupProblem(_("Backups work on SQLite and PostgreSQL, not on %(kind)s.", kind=kind))
    return kind


def _sqlite_path(engine: Engine) -> Path:
    name = engine.url.database
    if not name or name == ":memory:" or name.startswith("file:"):
        raise BackupProblem(
            _(
                "The SQLite database must be a file to back up or restore, not %(name)s.",
                name=repr(name),
            )
        )
    return Path(name)


def _copy_hashed(source: Path, target: Path) -> tuple[int, str]:
    """Copy ``source`` to ``target`` (private permissions, flushed to disk); its size and
    SHA-256."""
    digest = hashlib.sha256()
    size = 0
    with source.open("rb") as reader, target.open("xb") as writer:
        os.chmod(target, _FILE_MODE)
        while chunk := reader.read(_CHUNK_BYTES):
            digest.update(chunk)
            writer.write(chunk)
            size += len(chunk)
        writer.flush()
        os.fsync(writer.fileno())
    return size, digest.hexdigest()


def _hash_file(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as reader:
        while chunk := reader.read(_CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _stored_files(root: Path) -> Iterator[Path]:
    """The file store's files under ``root``, sorted; half-written uploads and links skipped."""
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        if path.is_symlink() or not path.is_file() or path.name.startswith(_TEMP_PREFIX):
            continue
        yield path


def _fsync_folder(folder: Path) -> None:
    if os.name != "posix":
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# --- PostgreSQL tools ------------------------------------------------------------------------


def pg_tool(name: str) -> str:
    """The path of a PostgreSQL client tool (``pg_dump``, ``pg_restore``).

    Raises:
        BackupProblem: the tool is not on the PATH.
    """
    found = shutil.which(name)
    if found is None:
        raise BackupProblem(
            _(
                "%(tool)s was not found on the PATH. Install the PostgreSQL client tools of the "
                "server's version (for example the postgresql-client package) and try again.",
                tool=name,
            )
        )
    return found


def _tool_version(tool: str) -> tuple[int, str]:
    """The major version of a PostgreSQL client tool and its ``--version`` line."""
    result = _run_tool([tool, "--version"], dict(os.environ))
    match = _PG_VERSION.search(result.stdout)
    if result.returncode != 0 or match is None:
        raise BackupProblem(
            _(
                "%(tool)s --version did not say its version: %(output)s",
                tool=tool,
                output=(result.stdout + result.stderr).strip(),
            )
        )
    return int(match.group(1)), result.stdout.strip()


def _server_major(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SHOW server_version_num")).scalar_one()) // 10000


def _check_tool_version(tool: str, engine: Engine) -> str:
    """The tool's ``--version`` line, once its major version is the server's.

    Raises:
        BackupProblem: the versions differ (with what to install).
    """
    (tool_major, version), server_major = _tool_version(tool), _server_major(engine)
    if tool_major != server_major:
        raise BackupProblem(
            _(
                "%(tool)s is version %(tool_major)s but the database server is PostgreSQL "
                "%(server_major)s. Use the client tools of the server's version (for example "
                "the postgresql-client-%(server_major)s package, first on the PATH): other "
                "versions refuse the server or write archives the other cannot read.",
                tool=Path(tool).name,
                tool_major=tool_major,
                server_major=server_major,
            )
        )
    return version


def _libpq(engine: Engine) -> tuple[str, dict[str, str]]:
    """A libpq connection URI for the engine's database (no password in it: that goes in the
    environment, so it never shows in the process list) and the environment for the tools."""
    url = engine.url
    environment = dict(os.environ)
    if url.password:
        environment["PGPASSWORD"] = str(url.password)
    uri = url.set(drivername="postgresql", password=None)
    return uri.render_as_string(hide_password=False), environment


def _run_tool(
    arguments: list[str], environment: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL client tool (found by :func:`pg_tool`; no shell, arguments as a list)."""
    return subprocess.run(  # noqa: S603  # a tool from shutil.which, our arguments  # nosec B603
        arguments, capture_output=True, text=True, env=environment, check=False
    )


# --- making a backup -------------------------------------------------------------------------


def _dump_sqlite(engine: Engine, target: Path) -> dict[str, Any]:
    source_path = _sqlite_path(engine)
    if not source_path.is_file():
        raise BackupProblem(_("There is no SQLite database at %(path)s.", path=str(source_path)))
    source = sqlite3.connect(source_path, timeout=30)
    try:
        destination = sqlite3.connect(target)
        try:
            # One step (pages=-1): the whole database is read in one read transaction, so the
            # copy is a consistent snapshot even while the app writes.
            source.backup(destination)
            # A self-contained file: no write-ahead log beside it, readable read-only.
            destination.execute("PRAGMA journal_mode=DELETE")
        finally:
            destination.close()
    finally:
        source.close()
    return {"kind": "sqlite", "file": DATABASE_FILES["sqlite"], "sqlite": sqlite3.sqlite_version}


def _dump_postgresql(engine: Engine, target: Path) -> dict[str, Any]:
    pg_dump = pg_tool("pg_dump")
    version = _check_tool_version(pg_dump, engine)
    uri, environment = _libpq(engine)
    result = _run_tool([pg_dump, "-Fc", "-f", str(target), uri], environment)
    if result.returncode != 0:
        raise BackupProblem(
            _("pg_dump failed: %(error)s", error=result.stderr.strip() or result.returncode)
        )
    with engine.connect() as connection:
        server = str(connection.execute(text("SHOW server_version")).scalar_one())
    return {
        "kind": "postgresql",
        "file": DATABASE_FILES["postgresql"],
        "server_version": server,
        "pg_dump": version,
    }


def _dump_database(engine: Engine, target: Path) -> dict[str, Any]:
    if database_kind(engine) == "sqlite":
        return _dump_sqlite(engine, target)
    return _dump_postgresql(engine, target)


def create_backup(
    engine: Engine,
    *,
    out_dir: Path,
    upload_root: Path,
    figures: Callable[[], Figures],
    revision: str,
    app_version: str,
    now: dt.datetime,
) -> BackupMade:
    """Back up the database and the uploaded files into a new folder under ``out_dir``.

    The database is copied first, then the files (a file is saved before the row that names
    it, so every file the copy names is there). The fund's figures are read before and after
    the database copy; if they changed meanwhile, the copy is made again (up to
    :data:`ATTEMPTS` times), so the figures in the manifest are the copy's. The backup is
    written to a hidden folder and renamed into place only when complete.

    Args:
        engine: the database to back up.
        out_dir: where to put the backup folder (created if missing).
        upload_root: the file store's folder (``UPLOAD_DIR``).
        figures: reads the fund's figures (``report position --json``) from ``engine``.
        revision: the database's schema revision (Alembic).
        app_version: the loanfund version making the backup.
        now: the current time, timezone-aware.

    Returns:
        Where the backup is and what it holds.

    Raises:
        BackupProblem: the database cannot be copied, the tools are missing or of the wrong
            version, the folder exists, or the figures kept changing. Nothing is left behind.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    kind = database_kind(engine)
    created_at = now.astimezone(dt.UTC)
    name = f"loanfund-backup-{created_at:%Y%m%dT%H%M%SZ}"
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / name
    if final.exists():
        raise BackupProblem(
            _("%(path)s already exists; a backup never overwrites another.", path=str(final))
        )
    work = out_dir / f".{name}.{secrets.token_hex(4)}.partial"
    work.mkdir(mode=_FOLDER_MODE)
    try:
        database_file = work / DATABASE_FILES[kind]
        for _attempt in range(ATTEMPTS):
            before = figures()
            database = _dump_database(engine, database_file)
            after = figures()
            if before == after:
                break
            log.warning("The fund's figures changed during the database copy; copying again")
            database_file.unlink()
        else:
            raise BackupProblem(
                _(
                    "The fund's figures changed during each of %(attempts)s copies of the "
                    "database. Try again when the fund is quieter.",
                    attempts=ATTEMPTS,
                )
            )
        database_bytes, database_sha256 = _hash_file(database_file)
        entries = [{"path": database_file.name, "size": database_bytes, "sha256": database_sha256}]
        upload_count = upload_bytes = 0
        for source in _stored_files(upload_root):
            relative = source.relative_to(upload_root)
            target = work / UPLOADS / relative
            target.parent.mkdir(mode=_FOLDER_MODE, parents=True, exist_ok=True)
            size, sha256 = _copy_hashed(source, target)
            entries.append(
                {
                    "path": (PurePosixPath(UPLOADS) / relative.as_posix()).as_posix(),
                    "size": size,
                    "sha256": sha256,
                }
            )
            upload_count += 1
            upload_bytes += size
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": created_at.isoformat(),
            "app_version": app_version,
            "alembic_revision": revision,
            "database": database,
            "files": entries,
            "figures": after,
        }
        with (work / MANIFEST).open("x", encoding="utf-8") as handle:
            json.dump(manifest, handle, indent=2, ensure_ascii=False, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.rename(work, final)
        _fsync_folder(out_dir)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    log.info("Backup %s: %s uploaded files", final, upload_count)
    return BackupMade(final, database_bytes, upload_count, upload_bytes, after)


# --- checking a backup -----------------------------------------------------------------------


def _safe_relative(path: Any) -> PurePosixPath | None:
    """The manifest's path if it stays inside the backup folder, else ``None``."""
    if not isinstance(path, str) or not path or "\\" in path:
        return None
    relative = PurePosixPath(path)
    if relative.is_absolute() or any(part in ("", ".", "..") for part in relative.parts):
        return None
    return relative


def read_manifest(backup_dir: Path) -> dict[str, Any]:
    """The backup's manifest, checked for its format.

    Raises:
        BackupProblem: no manifest, not JSON, another format or version, or fields missing.
    """
    path = backup_dir / MANIFEST
    if not backup_dir.is_dir():
        raise BackupProblem(_("%(path)s is not a backup folder.", path=str(backup_dir)))
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupProblem(
            _("%(path)s is missing: this is not a loanfund backup.", path=str(path))
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BackupProblem(_("%(path)s is not readable JSON.", path=str(path))) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupProblem(_("%(path)s is not a loanfund backup manifest.", path=str(path)))
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupProblem(
            _(
                "%(path)s is in backup format version %(found)s; this loanfund reads version "
                "%(expected)s.",
                path=str(path),
                found=manifest.get("format_version"),
                expected=FORMAT_VERSION,
            )
        )
    database = manifest.get("database")
    files = manifest.get("files")
    problems = []
    if not isinstance(database, dict) or database.get("kind") not in DATABASE_FILES:
        problems.append(_("%(path)s does not say which database it holds.", path=str(path)))
    if not isinstance(files, list) or not all(
        isinstance(entry, dict)
        and _safe_relative(entry.get("path")) is not None
        and isinstance(entry.get("size"), int)
        and isinstance(entry.get("sha256"), str)
        for entry in files
    ):
        problems.append(
            _("%(path)s lists its files wrongly (path, size and sha256 each).", path=str(path))
        )
    for key in ("created_at", "alembic_revision", "app_version"):
        if not isinstance(manifest.get(key), str):
            problems.append(_("%(path)s has no %(key)s.", path=str(path), key=key))
    if not isinstance(manifest.get("figures"), dict):
        problems.append(_("%(path)s has no figures of the fund.", path=str(path)))
    if problems:
        raise BackupProblem(problems)
    return manifest


def _check_sqlite_copy(path: Path, revision: str) -> str:
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise BackupProblem(
            _("%(path)s cannot be opened as a database: %(error)s", path=str(path), error=error)
        ) from None
    try:
        rows = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        stored = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.Error as error:
        raise BackupProblem(
            _("%(path)s is not a readable database: %(error)s", path=str(path), error=error)
        ) from None
    finally:
        connection.close()
    if rows != ["ok"]:
        raise BackupProblem(
            _(
                "%(path)s failed SQLite's integrity check: %(findings)s",
                path=str(path),
                findings="; ".join(str(row) for row in rows[:5]),
            )
        )
    if [row[0] for row in stored] != [revision]:
        raise BackupProblem(
            _(
                "%(path)s is at schema revision %(found)s but the manifest says %(expected)s.",
                path=str(path),
                found=", ".join(row[0] for row in stored) or "-",
                expected=revision,
            )
        )
    return _(
        "%(path)s: SQLite integrity check ok, schema revision %(revision)s.",
        path=path.name,
        revision=revision,
    )


def _check_pg_dump(path: Path) -> str:
    pg_restore = pg_tool("pg_restore")
    result = _run_tool([pg_restore, "--list", str(path)], dict(os.environ))
    if result.returncode != 0:
        raise BackupProblem(
            _(
                "%(path)s is not a readable pg_dump archive: %(error)s",
                path=str(path),
                error=result.stderr.strip() or result.returncode,
            )
        )
    entries = [line for line in result.stdout.splitlines() if line and not line.startswith(";")]
    if not any("TABLE DATA" in line and "alembic_version" in line for line in entries):
        raise BackupProblem(
            _("%(path)s holds no loanfund database (no alembic_version table).", path=str(path))
        )
    return _(
        "%(path)s: pg_restore reads its %(count)s entries.", path=path.name, count=len(entries)
    )


def verify_backup(backup_dir: Path) -> list[str]:
    """Check a backup: the manifest's format, every file's size and SHA-256, no file more or
    less, and that the database copy reads back.

    Returns:
        One line per thing checked, for the operator.

    Raises:
        BackupProblem: every problem found, each naming the file.
    """
    manifest = read_manifest(backup_dir)
    checked = [
        _(
            "manifest: format %(format)s version %(version)s, made %(created_at)s by loanfund "
            "%(app_version)s, schema revision %(revision)s, %(kind)s database.",
            format=FORMAT,
            version=FORMAT_VERSION,
            created_at=manifest["created_at"],
            app_version=manifest["app_version"],
            revision=manifest["alembic_revision"],
            kind=manifest["database"]["kind"],
        )
    ]
    problems: list[str] = []
    listed = {entry["path"] for entry in manifest["files"]}
    database_file = DATABASE_FILES[manifest["database"]["kind"]]
    if database_file not in listed:
        problems.append(
            _("The manifest does not list the database copy %(file)s.", file=database_file)
        )
    total = 0
    for entry in manifest["files"]:
        path = backup_dir / entry["path"]
        if not path.is_file() or path.is_symlink():
            problems.append(_("%(path)s is missing.", path=str(path)))
            continue
        size, sha256 = _hash_file(path)
        if size != entry["size"]:
            problems.append(
                _(
                    "%(path)s has %(size)s bytes; the manifest says %(expected)s.",
                    path=str(path),
                    size=size,
                    expected=entry["size"],
                )
            )
        elif sha256 != entry["sha256"]:
            problems.append(
                _(
                    "%(path)s has changed: its SHA-256 is %(found)s, the manifest says "
                    "%(expected)s.",
                    path=str(path),
                    found=sha256,
                    expected=entry["sha256"],
                )
            )
        total += size
    on_disk = {
        path.relative_to(backup_dir).as_posix()
        for path in backup_dir.rglob("*")
        if path.is_file() and path.name != MANIFEST
    }
    for extra in sorted(on_disk - listed):
        problems.append(_("%(path)s is not in the manifest.", path=str(backup_dir / extra)))
    checked.append(
        _("checksums: %(count)s files, %(bytes)s bytes.", count=len(listed), bytes=total)
    )
    if not problems:
        copy = backup_dir / database_file
        try:
            if manifest["database"]["kind"] == "sqlite":
                checked.append(_check_sqlite_copy(copy, manifest["alembic_revision"]))
            else:
                checked.append(_check_pg_dump(copy))
        except BackupProblem as problem:
            problems.extend(problem.problems)
    if problems:
        raise BackupProblem(problems)
    return checked


# --- restoring -------------------------------------------------------------------------------


def database_tables(engine: Engine) -> list[str]:
    """The tables already in the database (none in an empty one)."""
    return sorted(inspect(engine).get_table_names())


def _stage_uploads(backup_dir: Path, manifest: Mapping[str, Any], staging: Path) -> tuple[int, int]:
    count = total = 0
    staging.mkdir(mode=_FOLDER_MODE, parents=True)
    for entry in manifest["files"]:
        relative = PurePosixPath(entry["path"])
        if relative.parts[0] != UPLOADS or len(relative.parts) < 2:
            continue
        target = staging.joinpath(*relative.parts[1:])
        target.parent.mkdir(mode=_FOLDER_MODE, parents=True, exist_ok=True)
        size, sha256 = _copy_hashed(backup_dir / entry["path"], target)
        if (size, sha256) != (entry["size"], entry["sha256"]):
            raise BackupProblem(
                _(
                    "%(path)s changed while it was being restored.",
                    path=str(backup_dir / entry["path"]),
                )
            )
        count += 1
        total += size
    return count, total


def _restore_sqlite(engine: Engine, copy: Path) -> None:
    target = _sqlite_path(engine)
    engine.dispose()
    source = sqlite3.connect(f"{copy.resolve().as_uri()}?mode=ro", uri=True)
    try:
        destination = sqlite3.connect(target, timeout=30)
        try:
            # The backup API writes the whole destination in one transaction: all or nothing.
            source.backup(destination)
        finally:
            destination.close()
    finally:
        source.close()
    engine.dispose()


def _restore_postgresql(engine: Engine, copy: Path) -> None:
    pg_restore = pg_tool("pg_restore")
    _check_tool_version(pg_restore, engine)
    uri, environment = _libpq(engine)
    engine.dispose()
    result = _run_tool(
        [pg_restore, "--single-transaction", "--exit-on-error", "--no-owner", "-d", uri, str(copy)],
        environment,
    )
    if result.returncode != 0:
        raise BackupProblem(
            _(
                "pg_restore failed and restored nothing (it runs in one transaction): %(error)s",
                error=result.stderr.strip() or result.returncode,
            )
        )


def restore_backup(
    engine: Engine, *, backup_dir: Path, upload_root: Path, expected_revision: str
) -> Restored:
    """Restore a verified backup into an empty database and an empty upload folder.

    The backup is verified first. The uploaded files are copied (and checked again) into a
    hidden folder beside ``upload_root``; the database is restored in one transaction; then
    the folder is renamed into place. If the database restore fails, the copied files are
    removed and nothing has changed.

    Args:
        engine: the target database; it must have no tables.
        backup_dir: the backup folder.
        upload_root: the file store's folder; it must be missing or empty.
        expected_revision: the schema revision this version of loanfund uses.

    Returns:
        The manifest and what was put back; the caller then compares the figures.

    Raises:
        BackupProblem: the backup is damaged, of another database kind or schema revision, the
            target is not empty, or the restore failed (with what was and was not restored).
    """
    verify_backup(backup_dir)
    manifest = read_manifest(backup_dir)
    kind = database_kind(engine)
    if manifest["database"]["kind"] != kind:
        raise BackupProblem(
            _(
                "This backup holds a %(backup_kind)s database; it cannot be restored into "
                "%(kind)s. Point DATABASE_URL at an empty %(backup_kind)s database.",
                backup_kind=manifest["database"]["kind"],
                kind=kind,
            )
        )
    if manifest["alembic_revision"] != expected_revision:
        raise BackupProblem(
            _(
                "This backup is at schema revision %(found)s (loanfund %(app_version)s); this "
                "loanfund expects %(expected)s. Restore it with loanfund %(app_version)s, then "
                "upgrade with `loanfund db upgrade`.",
                found=manifest["alembic_revision"],
                app_version=manifest["app_version"],
                expected=expected_revision,
            )
        )
    problems = []
    tables = database_tables(engine)
    if tables:
        problems.append(
            _(
                "The target database is not empty: it has %(count)s tables (%(names)s). "
                "Restore only into a new, empty database.",
                count=len(tables),
                names=", ".join(tables[:5]) + (", …" if len(tables) > 5 else ""),
            )
        )
    present = list(_stored_files(upload_root)) if upload_root.is_dir() else []
    if upload_root.exists() and (not upload_root.is_dir() or any(upload_root.iterdir())):
        problems.append(
            _(
                "The upload folder %(path)s is not empty (%(count)s files). Restore only into "
                "an empty or missing folder.",
                path=str(upload_root),
                count=len(present),
            )
        )
    if problems:
        raise BackupProblem(problems)
    staging = upload_root.parent / f".{upload_root.name}.restore-{secrets.token_hex(4)}"
    try:
        count, total = _stage_uploads(backup_dir, manifest, staging)
        copy = backup_dir / DATABASE_FILES[kind]
        if kind == "sqlite":
            _restore_sqlite(engine, copy)
        else:
            _restore_postgresql(engine, copy)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    try:
        if upload_root.is_dir():
            upload_root.rmdir()  # empty, checked above
        os.rename(staging, upload_root)
        _fsync_folder(upload_root.parent)
    except OSError as error:
        raise PartlyRestored(
            _(
                "The database was restored but the uploaded files could not be moved into "
                "place (%(error)s). They are complete in %(staging)s: move that folder to "
                "%(path)s.",
                error=error,
                staging=str(staging),
                path=str(upload_root),
            )
        ) from None
    log.info("Restored %s: %s uploaded files", backup_dir, count)
    return Restored(manifest, count, total)


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: value}


def figure_differences(expected: Figures, actual: Figures) -> list[str]:
    """Every figure that differs between the backup's manifest and the restored fund, as
    sentences such as ``fund.capital: 25000000000 in the backup, 24000000000 restored.``"""
    before, after = _flatten(expected), _flatten(actual)
    missing = _("(missing)")
    return [
        _(
            "%(figure)s: %(expected)s in the backup, %(actual)s restored.",
            figure=key,
            expected=json.dumps(before.get(key, missing), ensure_ascii=False),
            actual=json.dumps(after.get(key, missing), ensure_ascii=False),
        )
        for key in sorted(before.keys() | after.keys())
        if before.get(key, missing) != after.get(key, missing)
    ]
