"""A loan application's dossier: which documents it needs, and whether an upload may be kept.

A cooperative uploads each paper of its dossier as a PDF, JPEG or PNG file. The type is decided
by the file's first bytes (:func:`sniff`), never by its name or by the content type the browser
sends. :func:`check_upload` lists every reason to refuse a file; the file itself is stored under
a random name by :mod:`loanfund.services.file_store`, and its original name is kept only as a
label (:func:`clean_filename`).
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from typing import Final

from loanfund.domain.i18n import _, fmt_number


class DocumentKind(enum.StrEnum):
    """What a paper of the dossier is."""

    APPLICATION_FORM = "application_form"
    REGISTRATION_CHARTER = "registration_charter"
    MEETING_RESOLUTION = "meeting_resolution"
    BUSINESS_PLAN = "business_plan"
    FINANCIAL_STATEMENTS = "financial_statements"
    PROJECT_PAPERS = "project_papers"
    COLLATERAL_PAPERS = "collateral_papers"
    INFORMATION_REPLY = "information_reply"  # answers an officer's request for information
    OTHER = "other"


def document_kind_label(kind: DocumentKind) -> str:
    """The kind's name in the reader's language ("Business plan")."""
    return {
        DocumentKind.APPLICATION_FORM: _("Loan application form"),
        DocumentKind.REGISTRATION_CHARTER: _("Registration certificate and charter"),
        DocumentKind.MEETING_RESOLUTION: _("General-meeting resolution authorising the borrowing"),
        DocumentKind.BUSINESS_PLAN: _("Business plan"),
        DocumentKind.FINANCIAL_STATEMENTS: _("Financial statements (last 2 years)"),
        DocumentKind.PROJECT_PAPERS: _("Project papers (quotes, designs, permits)"),
        DocumentKind.COLLATERAL_PAPERS: _("Collateral papers"),
        DocumentKind.INFORMATION_REPLY: _("Reply to a request for information"),
        DocumentKind.OTHER: _("Other"),
    }[DocumentKind(kind)]


#: The papers every application needs unless its product says otherwise.
DEFAULT_REQUIRED_KINDS: Final[frozenset[DocumentKind]] = frozenset(
    {
        DocumentKind.APPLICATION_FORM,
        DocumentKind.REGISTRATION_CHARTER,
        DocumentKind.MEETING_RESOLUTION,
        DocumentKind.BUSINESS_PLAN,
        DocumentKind.FINANCIAL_STATEMENTS,
        DocumentKind.PROJECT_PAPERS,
    }
)


def required_kinds(
    product_required: frozenset[DocumentKind] | None, secured: bool
) -> frozenset[DocumentKind]:
    """The papers one application needs.

    Args:
        product_required: the kinds the loan product asks for; ``None`` means
            :data:`DEFAULT_REQUIRED_KINDS`.
        secured: whether the cooperative offers collateral. Collateral papers are required
            exactly when it does, whatever the product lists.

    Returns:
        The required kinds.
    """
    base = DEFAULT_REQUIRED_KINDS if product_required is None else frozenset(product_required)
    if secured:
        return base | {DocumentKind.COLLATERAL_PAPERS}
    return base - {DocumentKind.COLLATERAL_PAPERS}


def missing_documents(
    required: Iterable[DocumentKind | str], present: Iterable[DocumentKind | str]
) -> list[str]:
    """One sentence per required paper not yet in the dossier, in the dossier's order.

    Args:
        required: the kinds the application needs (see :func:`required_kinds`).
        present: the kinds of the documents already uploaded (repeats are fine).

    Returns:
        Sentences such as "Missing document: Business plan."; empty when nothing is missing.
    """
    wanted = {DocumentKind(kind) for kind in required}
    have = {DocumentKind(kind) for kind in present}
    return [
        _("Missing document: %(document)s.", document=document_kind_label(kind))
        for kind in DocumentKind
        if kind in wanted and kind not in have
    ]


# --- Uploaded files ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FileType:
    """A file type the fund accepts, as recognised from the content.

    Attributes:
        mime: the media type to serve the file with (``application/pdf``).
        extension: the extension of the stored file, without a dot (``pdf``).
        name: the format's name as people know it (``PDF``).
    """

    mime: str
    extension: str
    name: str


PDF: Final = FileType("application/pdf", "pdf", "PDF")
JPEG: Final = FileType("image/jpeg", "jpg", "JPEG")
PNG: Final = FileType("image/png", "png", "PNG")

#: The accepted types, each with the bytes its files start with.
_SIGNATURES: Final[tuple[tuple[bytes, FileType], ...]] = (
    (b"%PDF-", PDF),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"\xff\xd8\xff", JPEG),
)

#: How many first bytes of a file :func:`sniff` and :func:`check_upload` need.
SNIFF_BYTES: Final = max(len(signature) for signature, _type in _SIGNATURES)

#: The longest original file name kept (it is a label only; files are stored under random names).
MAX_FILENAME_CHARS: Final = 200

#: Unicode categories refused in a file name: control, format (bidirectional overrides,
#: zero-width characters), unpaired surrogates and line or paragraph separators.
_INVISIBLE: Final = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_SHOWN_CHARS: Final = 80
_KIB: Final = 1024
_MIB: Final = 1024 * 1024


def sniff(head: bytes) -> FileType | None:
    """The type of a file from its first bytes (at least :data:`SNIFF_BYTES` of them).

    Args:
        head: the start of the file's content.

    Returns:
        :data:`PDF`, :data:`PNG` or :data:`JPEG`, or ``None`` for anything else.
    """
    for signature, file_type in _SIGNATURES:
        if head.startswith(signature):
            return file_type
    return None


def clean_filename(filename: str) -> str:
    """The name to keep as a label: NFC-normalised, without any folder part, trimmed.

    Some browsers send a full path (``C:\\Users\\…\\plan.pdf``); only the last part is a name.
    """
    name = unicodedata.normalize("NFC", filename)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    return name.strip()


def _has_invisible(name: str) -> bool:
    return any(unicodedata.category(char) in _INVISIBLE for char in name)


def _shown(name: str) -> str:
    """A name safe to put in a message: invisible characters replaced, long names shortened."""
    if not name:
        return _("unnamed file")
    visible = "".join(
        "\N{REPLACEMENT CHARACTER}" if unicodedata.category(char) in _INVISIBLE else char
        for char in name
    )
    if len(visible) > _SHOWN_CHARS:
        visible = visible[: _SHOWN_CHARS - 10] + "…" + visible[-9:]
    return visible


def _amount(number_of_bytes: int, unit: int, rounding: str) -> Decimal:
    value = (Decimal(number_of_bytes) / unit).quantize(Decimal("0.1"), rounding=rounding)
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value


def _in_megabytes(number: Decimal | int) -> str:
    return _("%(number)s MB", number=fmt_number(number))


def _in_kilobytes(number: Decimal | int) -> str:
    return _("%(number)s KB", number=fmt_number(number))


def _in_bytes(number: Decimal | int) -> str:
    return _("%(number)s bytes", number=fmt_number(number))


def _sizes(size: int | None, max_bytes: int) -> tuple[str, str]:
    """The size and the limit in the limit's unit (MB, KB or bytes).

    The size is rounded up and the limit down, so a file just over the limit never reads as
    equal to it ("10.1 MB; the limit is 10 MB").
    """
    if max_bytes >= _MIB:
        unit, words = _MIB, _in_megabytes
    elif max_bytes >= _KIB:
        unit, words = _KIB, _in_kilobytes
    else:
        unit, words = 1, _in_bytes

    def shown(number_of_bytes: int, rounding: str) -> str:
        return words(number_of_bytes if unit == 1 else _amount(number_of_bytes, unit, rounding))

    return (shown(size, ROUND_UP) if size is not None else ""), shown(max_bytes, ROUND_DOWN)


def file_too_large(filename: str, *, max_bytes: int, size: int | None = None) -> str:
    """The sentence refusing a file over the limit.

    Args:
        filename: the file's original name; empty when the caller has none.
        max_bytes: the limit.
        size: the file's size when known; ``None`` when reading stopped at the limit.
    """
    shown_size, shown_limit = _sizes(size, max_bytes)
    name = clean_filename(filename)
    if not name:
        if size is None:
            return _("The file is larger than the limit of %(limit)s.", limit=shown_limit)
        return _(
            "The file is %(size)s; the limit is %(limit)s.", size=shown_size, limit=shown_limit
        )
    if size is None:
        return _(
            "The file “%(name)s” is larger than the limit of %(limit)s.",
            name=_shown(name),
            limit=shown_limit,
        )
    return _(
        "The file “%(name)s” is %(size)s; the limit is %(limit)s.",
        name=_shown(name),
        size=shown_size,
        limit=shown_limit,
    )


def check_filename(filename: str) -> list[str]:
    """Every problem with an uploaded file's name, as sentences."""
    name = clean_filename(filename)
    problems: list[str] = []
    if not name:
        problems.append(_("The file has no name; rename it and upload it again."))
    if len(name) > MAX_FILENAME_CHARS:
        problems.append(
            _(
                "The file name is %(count)s characters long; the limit is %(limit)s. "
                "Rename the file and upload it again.",
                count=fmt_number(len(name)),
                limit=fmt_number(MAX_FILENAME_CHARS),
            )
        )
    if _has_invisible(name):
        problems.append(
            _(
                "The file name “%(name)s” contains control or invisible characters; "
                "rename the file and upload it again.",
                name=_shown(name),
            )
        )
    return problems


def check_content(filename: str, head: bytes) -> list[str]:
    """The problem with a file's content, if it is not a PDF, JPEG or PNG file.

    Args:
        filename: the file's original name, only to name it in the message.
        head: the file's first bytes, at least :data:`SNIFF_BYTES` of them when it has that many.
    """
    if sniff(head) is not None:
        return []
    return [
        _(
            "“%(name)s” is not a PDF, JPEG or PNG file (its content says otherwise).",
            name=_shown(clean_filename(filename)),
        )
    ]


def check_upload(filename: str, size: int, head: bytes, *, max_bytes: int) -> list[str]:
    """Every reason to refuse an uploaded file, as sentences; empty when it may be kept.

    Args:
        filename: the name the browser sent (a label only; it decides nothing about the type).
        size: the file's size in bytes.
        head: the file's first bytes, at least :data:`SNIFF_BYTES` of them when it has that many.
        max_bytes: the largest size accepted.

    Returns:
        Problems with the name, the size (empty or over the limit) and the content (not a PDF,
        JPEG or PNG file), in that order.

    Raises:
        ValueError: ``size`` is negative or ``max_bytes`` is not positive (a programming error).
    """
    if size < 0 or max_bytes <= 0:
        raise ValueError(f"size {size} must be ≥ 0 and max_bytes {max_bytes} > 0.")
    if not clean_filename(filename) and size == 0:
        return [_("Choose a file to upload.")]  # what a browser sends when none was chosen
    problems = check_filename(filename)
    if size == 0:
        problems.append(_("The file “%(name)s” is empty.", name=_shown(clean_filename(filename))))
        return problems
    if size > max_bytes:
        problems.append(file_too_large(filename, max_bytes=max_bytes, size=size))
    problems.extend(check_content(filename, head))
    return problems
