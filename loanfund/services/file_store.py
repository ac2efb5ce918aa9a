"""Uploaded files on disk: random names, atomic writes, private permissions, strict keys.

A :class:`FileStore` keeps files in one folder outside the web root (``UPLOAD_DIR``, resolved by
:func:`loanfund.config.upload_dir`). Each file gets a random key such as
``Xy/Xy3k…Q.pdf``: a two-character shard folder, then a random token and the extension of the
type recognised from the content. The original file name never reaches the disk; callers keep it
(with the key, size and SHA-256) in the database as a label.

Writes go to a temporary file in the final folder, are flushed to disk and renamed into place,
so a reader never sees half a file. Folders are created ``0o700`` and files ``0o600``.
:meth:`FileStore.open`, :meth:`FileStore.read` and :meth:`FileStore.delete` accept only keys of
exactly the generated form, so no key can name a path outside the store.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final, Protocol

from loanfund.domain.documents import (
    SNIFF_BYTES,
    FileType,
    check_content,
    check_filename,
    check_upload,
    clean_filename,
    file_too_large,
    sniff,
)
from loanfund.domain.errors import RuleViolation

log = logging.getLogger(__name__)

#: Random bytes in a key's token: 32 URL-safe characters, as :data:`_KEY` expects.
_TOKEN_BYTES: Final = 24
_KEY: Final = re.compile(
    r"(?P<shard>[A-Za-z0-9_-]{2})/(?P<token>[A-Za-z0-9_-]{32})\.(?P<extension>[a-z0-9]{1,8})"
)
_EXTENSION: Final = re.compile(r"[a-z0-9]{1,8}")
_CHUNK_BYTES: Final = 64 * 1024
_TEMP_PREFIX: Final = ".upload-"
_FOLDER_MODE: Final = 0o700
_FILE_MODE: Final = 0o600


class Readable(Protocol):
    """A binary stream: an open file, ``io.BytesIO``, Werkzeug's ``FileStorage``."""

    def read(self, size: int = -1, /) -> bytes: ...


class InvalidKey(ValueError):
    """A key that the store did not generate (tampered with, or a path); never served."""


class UploadTooLarge(RuleViolation):
    """The upload went over the limit; reading stopped there and nothing was kept."""

    def __init__(self, problems: str | list[str], *, max_bytes: int) -> None:
        super().__init__(problems)
        self.max_bytes = max_bytes


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file in the store.

    Attributes:
        key: where the store keeps it (``Xy/Xy3k….pdf``); the only way to read it back.
        size: its size in bytes.
        sha256: the SHA-256 of its content, as 64 hexadecimal digits.
    """

    key: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class StoredUpload:
    """An uploaded file that passed :func:`loanfund.domain.documents.check_upload` and was kept.

    Attributes:
        file: the stored file.
        file_type: the type recognised from its content (serve it with ``file_type.mime``).
        filename: the original name, cleaned, to show as a label (never a path).
    """

    file: StoredFile
    file_type: FileType
    filename: str


@dataclass(slots=True)
class _Written:
    """A temporary copy of the source (already removed when it went over the limit)."""

    temp: Path
    token: str
    size: int
    sha256: str
    head: bytes
    is_over_limit: bool


def _chunks(
    source: bytes | bytearray | memoryview | Readable, limit: int | None
) -> Iterator[bytes]:
    """The source in chunks, reading at most ``limit + 1`` bytes (enough to see it is over)."""
    if isinstance(source, bytes | bytearray | memoryview):
        view = memoryview(source).cast("B")
        end = len(view) if limit is None else min(len(view), limit + 1)
        for start in range(0, end, _CHUNK_BYTES):
            yield bytes(view[start : min(start + _CHUNK_BYTES, end)])
        return
    taken = 0
    while True:
        wanted = _CHUNK_BYTES if limit is None else min(_CHUNK_BYTES, limit + 1 - taken)
        if wanted <= 0:
            return
        chunk = source.read(wanted)
        if not chunk:
            return
        if not isinstance(chunk, bytes | bytearray):
            raise TypeError(f"The upload must be read as bytes, not {type(chunk).__name__}.")
        taken += len(chunk)
        yield bytes(chunk)


def _fsync_folder(folder: Path) -> None:
    """Make a rename inside ``folder`` durable (POSIX; elsewhere a no-op)."""
    if os.name != "posix":
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class FileStore:
    """Files under one folder, each under a random key.

    Args:
        root: the folder; created (``0o700``) on the first save. It must lie outside every
            folder the web server serves.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"FileStore({str(self.root)!r})"

    # --- writing ---------------------------------------------------------------------------

    def save(
        self,
        data: bytes | bytearray | memoryview | Readable,
        *,
        extension: str,
        max_bytes: int | None = None,
    ) -> StoredFile:
        """Store bytes or a stream under a new random key.

        Args:
            data: the content, or a binary stream read in chunks (never whole into memory).
            extension: the stored file's extension, e.g. ``FileType.extension`` (``pdf``);
                1–8 lower-case letters or digits.
            max_bytes: the largest size accepted; ``None`` for no limit.

        Returns:
            The key, size and SHA-256 of the stored file.

        Raises:
            UploadTooLarge: the content went over ``max_bytes``; reading stopped just past the
                limit and nothing was kept.
            ValueError: ``extension`` is not of the accepted form.
        """
        if not _EXTENSION.fullmatch(extension):
            raise ValueError(f"Extension {extension!r} is not 1–8 lower-case letters or digits.")
        written = self._write(data, max_bytes=max_bytes)
        if written.is_over_limit and max_bytes is not None:
            raise UploadTooLarge(file_too_large("", max_bytes=max_bytes), max_bytes=max_bytes)
        return self._keep(written, extension)

    def save_upload(
        self, source: bytes | bytearray | memoryview | Readable, *, filename: str, max_bytes: int
    ) -> StoredUpload:
        """Check and store an uploaded file; its type is read from the content, not the name.

        Args:
            source: the uploaded content or stream (e.g. Werkzeug's ``FileStorage``).
            filename: the name the browser sent; kept only as a label.
            max_bytes: the largest size accepted.

        Returns:
            The stored file, its recognised type and the cleaned original name.

        Raises:
            UploadTooLarge: the upload went over ``max_bytes`` (with every other problem found in
                the part that was read).
            RuleViolation: every other problem of
                :func:`loanfund.domain.documents.check_upload` (empty, not a PDF/JPEG/PNG file,
                a bad name). Nothing is kept.
        """
        written = self._write(source, max_bytes=max_bytes)
        try:
            if written.is_over_limit:
                problems = [
                    *check_filename(filename),
                    file_too_large(filename, max_bytes=max_bytes),
                    *check_content(filename, written.head),
                ]
                raise UploadTooLarge(problems, max_bytes=max_bytes)
            problems = check_upload(filename, written.size, written.head, max_bytes=max_bytes)
            file_type = sniff(written.head)
            if problems or file_type is None:
                raise RuleViolation(problems)
        except BaseException:
            written.temp.unlink(missing_ok=True)
            raise
        stored = self._keep(written, file_type.extension)
        return StoredUpload(file=stored, file_type=file_type, filename=clean_filename(filename))

    def _folder(self, token: str) -> Path:
        self.root.mkdir(mode=_FOLDER_MODE, parents=True, exist_ok=True)
        folder = self.root / token[:2]
        folder.mkdir(mode=_FOLDER_MODE, exist_ok=True)
        return folder

    def _write(
        self, source: bytes | bytearray | memoryview | Readable, *, max_bytes: int | None
    ) -> _Written:
        """Copy the source to a private temporary file in its final folder, flushed to disk."""
        if max_bytes is not None and max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive, not {max_bytes}.")
        token = secrets.token_urlsafe(_TOKEN_BYTES)
        descriptor, temp_name = tempfile.mkstemp(
            dir=self._folder(token), prefix=_TEMP_PREFIX, suffix=".part"
        )
        temp = Path(temp_name)
        digest = hashlib.sha256()
        size = 0
        head = b""
        is_over_limit = False
        try:
            with os.fdopen(descriptor, "wb") as handle:
                if hasattr(os, "fchmod"):
                    os.fchmod(handle.fileno(), _FILE_MODE)
                for chunk in _chunks(source, max_bytes):
                    size += len(chunk)
                    if len(head) < SNIFF_BYTES:
                        head += chunk[: SNIFF_BYTES - len(head)]
                    if max_bytes is not None and size > max_bytes:
                        is_over_limit = True
                        break
                    digest.update(chunk)
                    handle.write(chunk)
                if not is_over_limit:
                    handle.flush()
                    os.fsync(handle.fileno())
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        if is_over_limit:
            temp.unlink()  # the part read so far is not kept
            return _Written(temp, token, size, "", head, is_over_limit=True)
        return _Written(temp, token, size, digest.hexdigest(), head, is_over_limit=False)

    def _keep(self, written: _Written, extension: str) -> StoredFile:
        """Rename the temporary file into place under its key."""
        key = f"{written.token[:2]}/{written.token}.{extension}"
        final = self._path(key)
        try:
            os.replace(written.temp, final)
        except BaseException:
            written.temp.unlink(missing_ok=True)
            raise
        _fsync_folder(final.parent)
        log.info("Stored %s (%s bytes)", key, written.size)
        return StoredFile(key=key, size=written.size, sha256=written.sha256)

    # --- reading and deleting ----------------------------------------------------------------

    def _path(self, key: str) -> Path:
        match = _KEY.fullmatch(key) if isinstance(key, str) else None
        if match is None or match["shard"] != match["token"][:2]:
            raise InvalidKey(f"{key!r} is not a key of this file store.")
        return self.root / match["shard"] / f"{match['token']}.{match['extension']}"

    def path(self, key: str) -> Path:
        """Where the file of ``key`` lies (for ``send_file``); the key is checked first.

        Raises:
            InvalidKey: the key is not of the generated form.
        """
        return self._path(key)

    def open(self, key: str) -> BinaryIO:
        """The stored file, open for reading in binary; the caller closes it.

        Raises:
            InvalidKey: the key is not of the generated form.
            FileNotFoundError: no file has that key (deleted, or lost from the disk).
        """
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
        return os.fdopen(os.open(self._path(key), flags), "rb")

    def read(self, key: str) -> bytes:
        """The whole content of a stored file (see :meth:`open` for the errors)."""
        with self.open(key) as handle:
            return handle.read()

    def delete(self, key: str) -> bool:
        """Remove a stored file; ``False`` when there was none.

        Raises:
            InvalidKey: the key is not of the generated form.
        """
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            return False
        log.info("Deleted %s", key)
        return True
