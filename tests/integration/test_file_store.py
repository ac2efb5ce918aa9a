"""Uploaded files on a real disk: random private names, atomic writes, keys that name nothing
else, and a streamed upload that stops at the limit."""

import hashlib
import io
import os
import stat
from pathlib import Path

import pytest

from loanfund.config import (
    DEFAULT_UPLOAD_DIR,
    PROJECT_ROOT,
    STATIC_DIR,
    check_settings,
    load_settings,
    max_upload_bytes,
    upload_dir,
)
from loanfund.domain.documents import PNG
from loanfund.domain.errors import RuleViolation
from loanfund.services.file_store import FileStore, InvalidKey, UploadTooLarge
from tests.unit.test_documents import HTML, JPEG_HEAD, PDF_HEAD, TINY_PNG

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions and symlinks")


@pytest.fixture
def store(tmp_path: Path) -> FileStore:
    return FileStore(tmp_path / "uploads")


def _everything_under(root: Path) -> list[Path]:
    return sorted(root.rglob("*")) if root.exists() else []


def _files_under(root: Path) -> list[Path]:
    return [path for path in _everything_under(root) if path.is_file()]


class CountingStream:
    """An endless upload that counts the bytes taken from it."""

    def __init__(self, head: bytes = PDF_HEAD) -> None:
        self.head = head
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        if size < 0:
            raise AssertionError("the store must never ask for the whole upload")
        start = self.head[self.bytes_read : self.bytes_read + size]
        chunk = start + b"\0" * (size - len(start))
        self.bytes_read += len(chunk)
        return chunk


class BrokenStream:
    """An upload whose connection drops after the first chunk."""

    def __init__(self) -> None:
        self.calls = 0

    def read(self, size: int = -1) -> bytes:
        self.calls += 1
        if self.calls > 1:
            raise OSError("connection reset")
        return PDF_HEAD


# --- Saving ------------------------------------------------------------------------------------


def test_a_saved_file_reads_back_with_its_size_and_sha256(store):
    content = PDF_HEAD + os.urandom(200_000)  # several chunks
    stored = store.save(content, extension="pdf")
    assert store.read(stored.key) == content
    assert stored.size == len(content)
    assert stored.sha256 == hashlib.sha256(content).hexdigest()


def test_a_streamed_file_gets_the_same_sha256_as_its_bytes(store):
    content = TINY_PNG * 10_000
    stored = store.save(io.BytesIO(content), extension="png")
    assert stored.sha256 == hashlib.sha256(content).hexdigest() and stored.size == len(content)
    with store.open(stored.key) as handle:
        assert handle.read() == content


def test_the_same_content_saved_twice_gets_two_keys(store):
    first, second = store.save(TINY_PNG, extension="png"), store.save(TINY_PNG, extension="png")
    assert first.key != second.key and first.sha256 == second.sha256


def test_keys_are_random_and_sharded_into_a_two_character_folder(store):
    stored = store.save(PDF_HEAD, extension="pdf")
    shard, name = stored.key.split("/")
    assert len(shard) == 2 and name.startswith(shard) and name.endswith(".pdf")
    assert len(name) == 32 + len(".pdf")
    assert _files_under(store.root) == [store.root / shard / name]


@posix_only
def test_saved_files_and_their_folders_are_not_readable_by_others(store):
    stored = store.save(PDF_HEAD, extension="pdf")
    path = store.path(stored.key)
    for folder in (store.root, path.parent):
        assert stat.S_IMODE(folder.stat().st_mode) & 0o077 == 0, folder
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@posix_only
def test_files_stay_private_under_a_permissive_umask(store):
    previous = os.umask(0)
    try:
        stored = store.save(PDF_HEAD, extension="pdf")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(store.path(stored.key).stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path(stored.key).parent.stat().st_mode) == 0o700


@pytest.mark.parametrize("extension", ["", "PDF", "p.df", "pdf/..", "../pdf", "verylongext"])
def test_only_plain_extensions_are_accepted(store, extension):
    with pytest.raises(ValueError):
        store.save(PDF_HEAD, extension=extension)
    assert _everything_under(store.root) == []


def test_a_save_over_the_limit_keeps_nothing(store):
    with pytest.raises(UploadTooLarge, match="larger than the limit of 1 KB"):
        store.save(b"x" * 1025, extension="pdf", max_bytes=1024)
    assert _files_under(store.root) == []


def test_a_write_that_fails_midway_leaves_no_file(store):
    with pytest.raises(OSError, match="connection reset"):
        store.save(BrokenStream(), extension="pdf")
    assert _files_under(store.root) == []


# --- Uploads: checked, typed by content, stored under a random name ----------------------------


def test_an_upload_is_stored_under_a_random_name_with_the_type_from_its_content(store):
    filename = "Kế hoạch kinh doanh HTX Đan Điền.pdf"
    upload = store.save_upload(io.BytesIO(TINY_PNG), filename=filename, max_bytes=1024 * 1024)
    assert upload.file_type == PNG and upload.file.key.endswith(".png")  # not .pdf
    assert upload.filename == filename
    stored_names = [str(path.relative_to(store.root)) for path in _everything_under(store.root)]
    assert all("hoạch" not in name and "HTX" not in name for name in stored_names)
    assert upload.file.key in stored_names
    assert upload.file.sha256 == hashlib.sha256(TINY_PNG).hexdigest()


def test_an_html_upload_named_jpg_is_refused_and_nothing_is_kept(store):
    with pytest.raises(RuleViolation) as refused:
        store.save_upload(io.BytesIO(HTML), filename="photo.jpg", max_bytes=1024 * 1024)
    assert refused.value.problems == (
        "“photo.jpg” is not a PDF, JPEG or PNG file (its content says otherwise).",
    )
    assert _files_under(store.root) == []


def test_an_empty_upload_is_refused(store):
    with pytest.raises(RuleViolation, match="is empty"):
        store.save_upload(io.BytesIO(b""), filename="plan.pdf", max_bytes=1024 * 1024)
    assert _files_under(store.root) == []


def test_a_streamed_upload_stops_reading_just_past_the_limit(store):
    stream = CountingStream()
    limit = 1024 * 1024
    with pytest.raises(UploadTooLarge) as refused:
        store.save_upload(stream, filename="plan.pdf", max_bytes=limit)
    assert refused.value.problems == ("The file “plan.pdf” is larger than the limit of 1 MB.",)
    assert refused.value.max_bytes == limit
    assert stream.bytes_read == limit + 1
    assert _files_under(store.root) == []


def test_an_oversize_upload_also_reports_what_else_is_wrong(store):
    with pytest.raises(UploadTooLarge) as refused:
        store.save_upload(CountingStream(HTML), filename="photo\x00.jpg", max_bytes=4096)
    assert len(refused.value.problems) == 3  # the name, the size and the content


def test_an_upload_of_exactly_the_limit_is_kept(store):
    content = JPEG_HEAD + b"\0" * (4096 - len(JPEG_HEAD))
    upload = store.save_upload(content, filename="scan.jpg", max_bytes=4096)
    assert upload.file.size == 4096 and store.read(upload.file.key) == content


# --- Reading: only keys the store generated ----------------------------------------------------


BAD_KEYS = [
    "../etc/passwd",
    "/abs",
    "/etc/passwd",
    "aa/../../x",
    "..",
    "",
    "aa",
    "aa/",
    "aa\\..\\..\\x",
    "aa/" + "a" * 32,  # no extension
    "ab/" + "a" * 32 + ".pdf",  # shard does not match the name
    "aa/" + "a" * 31 + ".pdf",  # one character short
    "aa/" + "a" * 32 + ".PDF",
    "aa/" + "a" * 32 + ".pdf/../../x",
    "aa/" + "a" * 32 + ".pdf\n",  # a trailing newline slips past a regex anchored with $
    "aa/.upload-" + "a" * 21 + ".part",  # a temporary file
    "./aa/" + "a" * 32 + ".pdf",
]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_keys_the_store_did_not_generate_are_refused(store, key):
    store.save(PDF_HEAD, extension="pdf")
    for use in (store.open, store.read, store.delete, store.path):
        with pytest.raises(InvalidKey):
            use(key)


def test_a_well_formed_key_with_no_file_is_not_found(store):
    key = "aa/" + "a" * 32 + ".pdf"
    with pytest.raises(FileNotFoundError):
        store.read(key)
    assert store.delete(key) is False


@posix_only
def test_a_symlink_planted_under_a_valid_key_is_not_followed(store, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"not for download")
    key = "aa/" + "a" * 32 + ".pdf"
    store.root.joinpath("aa").mkdir(parents=True)
    store.path(key).symlink_to(secret)
    with pytest.raises(OSError):
        store.read(key)


def test_a_deleted_file_is_gone(store):
    stored = store.save(PDF_HEAD, extension="pdf")
    assert store.delete(stored.key) is True
    assert store.delete(stored.key) is False
    with pytest.raises(FileNotFoundError):
        store.read(stored.key)


# --- Settings: where the store lives and how large an upload may be ----------------------------


def test_uploads_go_to_the_instance_folder_by_default():
    settings = load_settings(environ={})
    assert upload_dir(settings) == DEFAULT_UPLOAD_DIR == PROJECT_ROOT / "instance" / "uploads"
    assert max_upload_bytes(settings) == 10 * 1024 * 1024
    assert check_settings(settings) == []


def test_the_upload_folder_and_limit_can_be_set_from_the_environment(tmp_path):
    settings = load_settings(
        environ={"LOANFUND_UPLOAD_DIR": str(tmp_path), "LOANFUND_MAX_UPLOAD_MB": "5"}
    )
    assert upload_dir(settings) == tmp_path and max_upload_bytes(settings) == 5 * 1024 * 1024


def test_a_relative_upload_folder_is_taken_from_the_checkout_not_the_current_folder():
    settings = load_settings(environ={}, overrides={"UPLOAD_DIR": "var/uploads"})
    assert upload_dir(settings) == PROJECT_ROOT / "var" / "uploads"


def test_an_upload_folder_the_web_server_serves_is_refused():
    settings = load_settings(environ={}, overrides={"UPLOAD_DIR": str(STATIC_DIR / "uploads")})
    (problem,) = check_settings(settings)
    assert problem.startswith("UPLOAD_DIR") and "outside" in problem


@pytest.mark.parametrize("upload_mb", [0, 20, 25])
def test_an_upload_limit_must_fit_in_a_request(upload_mb):
    settings = load_settings(environ={}, overrides={"MAX_UPLOAD_MB": upload_mb})
    (problem,) = check_settings(settings)
    assert problem.startswith("MAX_UPLOAD_MB")
