"""A dossier's documents: which papers are required, and which uploads may be kept."""

import struct
import zlib
from decimal import Decimal

import pytest

from loanfund.domain import i18n
from loanfund.domain.documents import (
    DEFAULT_REQUIRED_KINDS,
    JPEG,
    MAX_FILENAME_CHARS,
    PDF,
    PNG,
    SNIFF_BYTES,
    DocumentKind,
    check_upload,
    clean_filename,
    document_kind_label,
    file_too_large,
    missing_documents,
    required_kinds,
    sniff,
)

MB = 1024 * 1024
LIMIT = 10 * MB


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


#: A complete 1×1 grey PNG image.
TINY_PNG = (
    b"\x89PNG\r\n\x1a\n"
    + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    + _png_chunk(b"IDAT", zlib.compress(b"\x00\x80"))
    + _png_chunk(b"IEND", b"")
)
#: The start of a JFIF JPEG as cameras and scanners write it (SOI, APP0 "JFIF").
JPEG_HEAD = bytes.fromhex("FFD8FFE000104A46494600010101004800480000")
#: The start of a PDF as word processors write it.
PDF_HEAD = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


# --- Which papers ------------------------------------------------------------------------------


def test_an_unsecured_application_needs_the_six_default_papers_and_no_collateral_papers():
    assert required_kinds(None, secured=False) == DEFAULT_REQUIRED_KINDS
    assert len(DEFAULT_REQUIRED_KINDS) == 6
    assert DocumentKind.COLLATERAL_PAPERS not in DEFAULT_REQUIRED_KINDS


def test_offering_collateral_adds_the_collateral_papers():
    assert required_kinds(None, secured=True) == DEFAULT_REQUIRED_KINDS | {
        DocumentKind.COLLATERAL_PAPERS
    }


def test_a_product_list_replaces_the_default_and_collateral_follows_the_offer_only():
    product = frozenset({DocumentKind.APPLICATION_FORM, DocumentKind.COLLATERAL_PAPERS})
    assert required_kinds(product, secured=False) == {DocumentKind.APPLICATION_FORM}
    assert required_kinds(product, secured=True) == product


def test_missing_papers_are_named_in_the_dossier_order():
    required = required_kinds(None, secured=True)
    present = [DocumentKind.APPLICATION_FORM, "business_plan", DocumentKind.APPLICATION_FORM]
    assert missing_documents(required, present) == [
        "Missing document: Registration certificate and charter.",
        "Missing document: General-meeting resolution authorising the borrowing.",
        "Missing document: Financial statements (last 2 years).",
        "Missing document: Project papers (quotes, designs, permits).",
        "Missing document: Collateral papers.",
    ]


def test_nothing_is_missing_when_every_required_paper_is_there():
    required = required_kinds(None, secured=False)
    assert missing_documents(required, [*required, DocumentKind.OTHER]) == []


def test_every_kind_has_its_own_label():
    labels = [document_kind_label(kind) for kind in DocumentKind]
    assert len(set(labels)) == len(DocumentKind) == 9
    assert document_kind_label(DocumentKind.FINANCIAL_STATEMENTS) == (
        "Financial statements (last 2 years)"
    )


# --- Recognising the type from the content -----------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"), [(PDF_HEAD, PDF), (TINY_PNG, PNG), (JPEG_HEAD, JPEG)]
)
def test_real_pdf_png_and_jpeg_files_are_recognised_and_accepted(content, expected):
    assert sniff(content[:SNIFF_BYTES]) == expected
    assert check_upload("hồ sơ vay", len(content), content[:SNIFF_BYTES], max_bytes=LIMIT) == []


@pytest.mark.parametrize(
    "content",
    [
        HTML,
        b"GIF89a\x01\x00\x01\x00",  # another image format
        b"PK\x03\x04\x14\x00\x06\x00",  # a .docx or .xlsx (zip)
        b"%PDF",  # a truncated signature
        b"\x89PNG\r\n\x1a",  # a PNG signature missing its last byte
        b"\xff\xd8",  # a JPEG signature missing its third byte
        b" %PDF-1.7",  # the signature must come first
    ],
)
def test_other_content_is_not_recognised(content):
    assert sniff(content) is None


def test_an_html_page_named_jpg_is_refused_because_its_content_decides():
    assert check_upload("photo.jpg", len(HTML), HTML[:SNIFF_BYTES], max_bytes=LIMIT) == [
        "“photo.jpg” is not a PDF, JPEG or PNG file (its content says otherwise)."
    ]


def test_a_png_named_pdf_is_accepted_because_its_content_decides():
    assert check_upload("scan.pdf", len(TINY_PNG), TINY_PNG[:SNIFF_BYTES], max_bytes=LIMIT) == []
    assert sniff(TINY_PNG).extension == "png"


# --- Size --------------------------------------------------------------------------------------


def test_an_oversize_file_is_refused_with_its_size_and_the_limit():
    size = int(Decimal("12.4") * MB)
    assert check_upload("plan.pdf", size, PDF_HEAD, max_bytes=LIMIT) == [
        "The file “plan.pdf” is 12.4 MB; the limit is 10 MB."
    ]


def test_a_file_one_byte_over_the_limit_never_reads_as_equal_to_it():
    (problem,) = check_upload("plan.pdf", LIMIT + 1, PDF_HEAD, max_bytes=LIMIT)
    assert problem == "The file “plan.pdf” is 10.1 MB; the limit is 10 MB."


def test_a_file_of_exactly_the_limit_is_accepted():
    assert check_upload("plan.pdf", LIMIT, PDF_HEAD, max_bytes=LIMIT) == []


def test_small_limits_are_shown_in_kilobytes_or_bytes():
    assert file_too_large("a.pdf", max_bytes=2048, size=3000) == (
        "The file “a.pdf” is 3 KB; the limit is 2 KB."
    )
    assert file_too_large("a.pdf", max_bytes=100, size=101) == (
        "The file “a.pdf” is 101 bytes; the limit is 100 bytes."
    )


def test_a_stream_stopped_at_the_limit_is_refused_without_a_size():
    assert file_too_large("a.pdf", max_bytes=LIMIT) == (
        "The file “a.pdf” is larger than the limit of 10 MB."
    )
    assert file_too_large("", max_bytes=LIMIT) == "The file is larger than the limit of 10 MB."


def test_sizes_are_written_with_the_readers_number_format(monkeypatch):
    monkeypatch.setattr(i18n, "_format_number", lambda number: f"<{number}>")
    (problem,) = check_upload("plan.pdf", int(Decimal("12.4") * MB), PDF_HEAD, max_bytes=LIMIT)
    assert problem == "The file “plan.pdf” is <12.4> MB; the limit is <10> MB."


def test_an_empty_file_is_refused():
    assert check_upload("plan.pdf", 0, b"", max_bytes=LIMIT) == ["The file “plan.pdf” is empty."]


def test_no_file_chosen_asks_for_one():
    assert check_upload("", 0, b"", max_bytes=LIMIT) == ["Choose a file to upload."]


def test_impossible_sizes_are_a_programming_error():
    with pytest.raises(ValueError):
        check_upload("a.pdf", -1, PDF_HEAD, max_bytes=LIMIT)
    with pytest.raises(ValueError):
        check_upload("a.pdf", 10, PDF_HEAD, max_bytes=0)


# --- Names -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "filename",
    [
        "plan\x00.pdf",  # NUL
        "plan\n.pdf",  # a line break (header or log injection)
        "invoice\u202efdp.exe",  # right-to-left override: shows as "invoiceexe.pdf"
        "plan\u200b.pdf",  # zero-width space
    ],
)
def test_a_file_name_with_control_or_invisible_characters_is_refused(filename):
    (problem,) = check_upload(filename, len(PDF_HEAD), PDF_HEAD, max_bytes=LIMIT)
    assert "control or invisible characters" in problem
    assert filename not in problem  # the characters themselves are not echoed


def test_a_long_file_name_is_refused_with_its_length_and_the_limit():
    filename = "a" * (MAX_FILENAME_CHARS + 1) + ".pdf"
    (problem,) = check_upload(filename, len(PDF_HEAD), PDF_HEAD, max_bytes=LIMIT)
    assert problem.startswith(
        f"The file name is {MAX_FILENAME_CHARS + 5:,} characters long; "
        f"the limit is {MAX_FILENAME_CHARS}."
    )


def test_vietnamese_names_are_accepted_and_kept_in_one_normal_form():
    decomposed = "Ke\u0302\u0301 hoa\u0323ch kinh doanh.pdf"  # as macOS writes "Kế hoạch"
    assert clean_filename(decomposed) == "Kế hoạch kinh doanh.pdf"
    assert check_upload(decomposed, len(PDF_HEAD), PDF_HEAD, max_bytes=LIMIT) == []


@pytest.mark.parametrize(
    "sent", ["C:\\Users\\hoa\\Desktop\\plan.pdf", "../../plan.pdf", "/etc/plan.pdf", " plan.pdf "]
)
def test_only_the_last_part_of_a_browser_path_is_kept_as_the_name(sent):
    assert clean_filename(sent) == "plan.pdf"


def test_every_problem_is_reported_at_once():
    filename = "x" * (MAX_FILENAME_CHARS + 1) + "\x07.jpg"
    problems = check_upload(filename, 12 * MB, HTML[:SNIFF_BYTES], max_bytes=LIMIT)
    assert len(problems) == 4  # too long, control character, too large, not a PDF/JPEG/PNG
    assert "12 MB" in problems[2] and "10 MB" in problems[2]
    assert "is not a PDF, JPEG or PNG file" in problems[3]
    assert all(len(problem) < 300 for problem in problems)  # long names are shortened
