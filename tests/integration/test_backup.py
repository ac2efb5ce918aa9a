"""`loanfund backup`: create → damage → verify catches it → restore into an empty database →
every figure of `report position --json` and every uploaded file identical."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import sqlite3
import uuid
from pathlib import Path

import pytest
from flask_migrate import stamp
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

import loanfund
from loanfund import backup_commands
from loanfund.domain.access import SYSTEM
from loanfund.models import db
from loanfund.services import backup as service
from loanfund.services.demo import load_demo_fund
from loanfund.services.file_store import FileStore
from loanfund.services.settings import initialize_fund
from tests.conftest import PG_URL, TODAY, make_app

CREATED_AT = dt.datetime(2026, 11, 23, 2, 30, 15, tzinfo=dt.UTC)
AS_OF = TODAY.isoformat()


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr(backup_commands, "utc_now", lambda: CREATED_AT)


def _app(folder: Path, url: str):
    folder.mkdir(parents=True, exist_ok=True)
    return make_app(folder, DATABASE_URL=url, UPLOAD_DIR=str(folder / "uploads"))


def _run(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def _position(app) -> dict:
    result = _run(app, "report", "position", "--json", "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _files(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def _load_demo(app, password_hash: str) -> None:
    with app.app_context():
        db.create_all()
        stamp()
        initialize_fund(
            db.session, actor=SYSTEM, fund_name="Quỹ", currency="VND", timezone="Asia/Ho_Chi_Minh"
        )
        load_demo_fund(
            db.session,
            hash_password=lambda password: password_hash,
            today=TODAY,
            store=FileStore(Path(app.config["LOANFUND"]["UPLOAD_DIR"])),
        )
        db.session.remove()


def _dispose(app) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


class Made:
    """A demo fund on SQLite, its figures and files, and a backup of it."""

    def __init__(self, app, folder: Path, position: dict, uploads: dict, backup: Path) -> None:
        self.app, self.folder, self.position, self.uploads, self.backup = (
            app,
            folder,
            position,
            uploads,
            backup,
        )

    def copy_backup(self, tmp_path: Path) -> Path:
        copy = tmp_path / "copy" / self.backup.name
        shutil.copytree(self.backup, copy)
        return copy


@pytest.fixture(scope="module")
def made(tmp_path_factory, password_hash):
    folder = tmp_path_factory.mktemp("source")
    app = _app(folder, f"sqlite:///{folder / 'fund.sqlite3'}")
    _load_demo(app, password_hash)
    position = _position(app)
    uploads = _files(folder / "uploads")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(backup_commands, "utc_now", lambda: CREATED_AT)
        result = _run(app, "backup", "create", "--out", str(folder / "backups"), "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    backup = folder / "backups" / "loanfund-backup-20261123T023015Z"
    assert f"Backup written to {backup}" in result.stdout
    yield Made(app, folder, position, uploads, backup)
    _dispose(app)


def _empty_target(tmp_path: Path):
    return _app(tmp_path / "target", f"sqlite:///{tmp_path / 'target' / 'restored.sqlite3'}")


def _table_count(app) -> int:
    with app.app_context():
        return len(inspect(db.engine).get_table_names())


# --- SQLite ----------------------------------------------------------------------------------


def test_the_manifest_records_time_versions_every_file_and_the_figures(made):
    manifest = json.loads((made.backup / "manifest.json").read_text(encoding="utf-8"))
    with made.app.app_context():
        revision = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert manifest["format"] == "loanfund-backup" and manifest["format_version"] == 1
    assert manifest["created_at"] == "2026-11-23T02:30:15+00:00"
    assert manifest["app_version"] == loanfund.__version__
    assert manifest["alembic_revision"] == revision
    assert manifest["database"]["kind"] == "sqlite"
    listed = {entry["path"]: entry for entry in manifest["files"]}
    assert len(made.uploads) > 10  # the demo's dossiers and inspection photos
    for relative, content in made.uploads.items():
        entry = listed.pop(f"uploads/{relative}")
        assert entry["size"] == len(content)
        assert entry["sha256"] == hashlib.sha256(content).hexdigest()
    assert list(listed) == ["database.sqlite3"]
    assert manifest["figures"] == made.position
    assert int(made.position["fund"]["loans_outstanding"]) > 0


def test_a_backup_restores_into_an_empty_database_with_every_figure_identical(made, tmp_path):
    verified = _run(made.app, "backup", "verify", str(made.backup))
    assert verified.exit_code == 0, verified.output
    assert f"The backup at {made.backup} is sound." in verified.stdout
    assert "SQLite integrity check ok" in verified.stdout
    # The disaster: rows of the live database are lost.
    with sqlite3.connect(made.folder / "fund.sqlite3") as connection:
        connection.execute("DELETE FROM loan_application WHERE status = 'draft'")
        connection.execute("DELETE FROM notification")
    damaged = _position(made.app)
    assert damaged["applications"] != made.position["applications"]

    target = _empty_target(tmp_path)
    restored = _run(target, "backup", "restore", str(made.backup))
    assert restored.exit_code == 0, restored.output
    assert "Every figure on 2026-11-23 matches the backup" in restored.stdout
    assert _position(target) == made.position
    assert _files(tmp_path / "target" / "uploads") == made.uploads
    _dispose(target)


def test_verify_names_an_uploaded_file_with_one_byte_changed_and_restore_refuses_it(made, tmp_path):
    backup = made.copy_backup(tmp_path)
    victim = sorted((backup / "uploads").rglob("*.pdf"))[0]
    content = bytearray(victim.read_bytes())
    content[len(content) // 2] ^= 0x01
    victim.write_bytes(bytes(content))

    verified = _run(made.app, "backup", "verify", str(backup))
    assert verified.exit_code == 1
    assert f"{victim} has changed" in verified.stderr
    target = _empty_target(tmp_path)
    restored = _run(target, "backup", "restore", str(backup))
    assert restored.exit_code == 1
    assert "Nothing was restored" in restored.stderr and f"{victim} has changed" in restored.stderr
    assert _table_count(target) == 0
    assert not (tmp_path / "target" / "uploads").exists()
    _dispose(target)


def test_verify_reads_the_database_copy_not_only_its_checksum(made, tmp_path):
    backup = made.copy_backup(tmp_path)
    copy = backup / "database.sqlite3"
    with copy.open("r+b") as handle:
        handle.seek(0)
        handle.write(b"\0" * 16)  # the "SQLite format 3" header is gone
    assert _run(made.app, "backup", "verify", str(backup)).exit_code == 1
    # Even with the manifest's checksum made to match, the copy does not read as a database.
    _rewrite_checksum(backup, "database.sqlite3")

    verified = _run(made.app, "backup", "verify", str(backup))
    assert verified.exit_code == 1
    assert f"{copy} cannot be opened as a database" in verified.stderr or (
        f"{copy} is not a readable database" in verified.stderr
    )


def test_verify_names_a_missing_file_and_a_file_not_in_the_manifest(made, tmp_path):
    backup = made.copy_backup(tmp_path)
    missing = sorted((backup / "uploads").rglob("*"))[-1]
    missing.unlink()
    (backup / "uploads" / "stray.txt").write_text("not ours")

    verified = _run(made.app, "backup", "verify", str(backup))
    assert verified.exit_code == 1
    assert f"{missing} is missing." in verified.stderr
    assert f"{backup / 'uploads' / 'stray.txt'} is not in the manifest." in verified.stderr


def test_verify_refuses_a_manifest_of_another_format_version(made, tmp_path):
    backup = made.copy_backup(tmp_path)
    manifest_path = backup / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["format_version"] = 2
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")

    verified = _run(made.app, "backup", "verify", str(backup))
    assert verified.exit_code == 1
    assert "is in backup format version 2; this loanfund reads version 1" in verified.stderr


def test_restore_refuses_a_database_that_is_not_empty(made, tmp_path):
    target = _empty_target(tmp_path)
    with target.app_context():
        db.create_all()
    tables = _table_count(target)

    restored = _run(target, "backup", "restore", str(made.backup))
    assert restored.exit_code == 1
    assert f"The target database is not empty: it has {tables} tables" in restored.stderr
    assert _table_count(target) == tables
    with target.app_context():
        assert db.session.execute(text("SELECT count(*) FROM loan_application")).scalar() == 0
    assert not (tmp_path / "target" / "uploads").exists()
    _dispose(target)


def test_restore_says_which_figures_differ_from_the_manifest(made, tmp_path):
    backup = made.copy_backup(tmp_path)
    manifest_path = backup / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    capital = manifest["figures"]["fund"]["capital"]
    manifest["figures"]["fund"]["capital"] = str(int(capital) + 1)
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")

    target = _empty_target(tmp_path)
    restored = _run(target, "backup", "restore", str(backup))
    assert restored.exit_code == 1
    assert "does NOT show the backup's figures on 2026-11-23 (1 differ)" in restored.stderr
    assert f'fund.capital: "{int(capital) + 1}" in the backup, "{capital}" restored.' in (
        restored.stderr
    )
    _dispose(target)


def test_a_backup_is_made_again_when_the_figures_move_and_refused_when_they_keep_moving(
    tmp_path,
):
    engine = create_engine(f"sqlite:///{tmp_path / 'tiny.sqlite3'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
    readings = iter(range(100))

    def moving() -> dict:
        return {"as_of": AS_OF, "n": next(readings)}

    with pytest.raises(service.BackupProblem, match="changed during each of 3 copies"):
        service.create_backup(
            engine,
            out_dir=tmp_path / "out",
            upload_root=tmp_path / "uploads",
            figures=moving,
            revision="r1",
            app_version="0",
            now=CREATED_AT,
        )
    assert list((tmp_path / "out").iterdir()) == []  # nothing half-made is left

    calls = iter([{"n": 1}, {"n": 2}, {"n": 2}, {"n": 2}])
    made = service.create_backup(
        engine,
        out_dir=tmp_path / "out",
        upload_root=tmp_path / "uploads",
        figures=lambda: next(calls),
        revision="r1",
        app_version="0",
        now=CREATED_AT,
    )
    assert made.figures == {"n": 2}
    assert json.loads((made.path / "manifest.json").read_text())["figures"] == {"n": 2}
    engine.dispose()


def test_a_missing_postgresql_tool_is_named(monkeypatch):
    monkeypatch.setattr(service.shutil, "which", lambda name: None)
    with pytest.raises(service.BackupProblem, match="pg_dump was not found on the PATH"):
        service.pg_tool("pg_dump")


def test_a_pg_dump_of_another_major_version_than_the_server_is_explained(monkeypatch):
    monkeypatch.setattr(service, "_tool_version", lambda tool: (14, "pg_dump (PostgreSQL) 14.9"))
    monkeypatch.setattr(service, "_server_major", lambda engine: 15)
    with pytest.raises(service.BackupProblem) as raised:
        service._check_tool_version("/usr/lib/postgresql/14/bin/pg_dump", engine=None)
    assert "pg_dump is version 14 but the database server is PostgreSQL 15" in str(raised.value)
    assert "postgresql-client-15" in str(raised.value)


def _rewrite_checksum(backup: Path, name: str) -> None:
    manifest_path = backup / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    for entry in manifest["files"]:
        if entry["path"] == name:
            entry["sha256"] = hashlib.sha256((backup / name).read_bytes()).hexdigest()
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")


# --- PostgreSQL ------------------------------------------------------------------------------


def _postgres_skip_reason() -> str | None:
    if not PG_URL.startswith("postgresql"):
        return "PostgreSQL not configured: set LOANFUND_TEST_DATABASE_URL (.ci/run does)"
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        return "pg_dump/pg_restore not on the PATH: install the PostgreSQL client tools"
    return None


@pytest.mark.postgres
@pytest.mark.skipif(_postgres_skip_reason() is not None, reason=str(_postgres_skip_reason()))
def test_a_postgresql_backup_restores_into_a_fresh_database_with_every_figure_identical(
    tmp_path, password_hash
):
    server = make_url(PG_URL)
    names = [f"loanfund_backup_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for name in names:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    source_url, target_url = (
        server.set(database=name).render_as_string(hide_password=False) for name in names
    )
    source = _app(tmp_path / "source", source_url)
    target = _app(tmp_path / "target", target_url)
    try:
        _load_demo(source, password_hash)
        before = _position(source)
        uploads = _files(tmp_path / "source" / "uploads")
        created = _run(source, "backup", "create", "--out", str(tmp_path / "b"), "--as-of", AS_OF)
        assert created.exit_code == 0, created.output
        backup = tmp_path / "b" / "loanfund-backup-20261123T023015Z"
        verified = _run(source, "backup", "verify", str(backup))
        assert verified.exit_code == 0, verified.output
        assert "pg_restore reads its" in verified.stdout

        refused = _run(source, "backup", "restore", str(backup))
        assert refused.exit_code == 1 and "The target database is not empty" in refused.stderr

        damaged = tmp_path / "damaged"
        shutil.copytree(backup, damaged)
        dump = damaged / "database.dump"
        content = bytearray(dump.read_bytes())
        content[len(content) // 2] ^= 0xFF
        dump.write_bytes(bytes(content))
        broken = _run(source, "backup", "verify", str(damaged))
        assert broken.exit_code == 1 and f"{dump} has changed" in broken.stderr
        dump.write_bytes(b"XXXXX" + bytes(content[5:]))  # no longer a pg_dump archive
        _rewrite_checksum(damaged, "database.dump")
        unreadable = _run(source, "backup", "verify", str(damaged))
        assert unreadable.exit_code == 1
        assert f"{dump} is not a readable pg_dump archive" in unreadable.stderr

        restored = _run(target, "backup", "restore", str(backup))
        assert restored.exit_code == 0, restored.output
        assert _position(target) == before
        assert _files(tmp_path / "target" / "uploads") == uploads
    finally:
        _dispose(source)
        _dispose(target)
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
