"""Inspection photos: checked, re-encoded without their metadata, with the camera's time and
place kept apart as evidence.

A photo is accepted when its first bytes say JPEG, PNG or WEBP (never the name), it is within
the size limit, its pixels within the limit (checked before decoding, against decompression
bombs), and it decodes completely. It is stored as a fresh JPEG, turned upright, at most
``MAX_SIDE`` pixels on its longer side, with no EXIF: what is served carries no location. The
EXIF time taken and GPS position, when present, are returned for the inspection's record.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from loanfund.domain.errors import RuleViolation
from loanfund.domain.i18n import _, fmt_number
from loanfund.services.file_store import FileStore, StoredFile

MAX_BYTES = 15 * 1024 * 1024
MAX_PIXELS = 50_000_000
MAX_SIDE = 2048

_SIGNATURES = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
)


def _kind(head: bytes) -> str | None:
    for signature, kind in _SIGNATURES:
        if head.startswith(signature):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return None


@dataclass(frozen=True, slots=True)
class Photo:
    stored: StoredFile
    width: int
    height: int
    taken_at: str
    latitude: str
    longitude: str


def _fraction(part: Any) -> Fraction:
    if hasattr(part, "numerator") and hasattr(part, "denominator"):
        return Fraction(int(part.numerator), int(part.denominator))
    return Fraction(str(part))


def _degrees(value: Any, ref: Any) -> str:
    """An EXIF GPS coordinate (degrees, minutes, seconds as rationals) in decimal degrees,
    to 6 places (about 10 cm)."""
    try:
        d, m, s = (_fraction(part) for part in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return ""
    degrees = d + m / 60 + s / 3600
    if str(ref).upper() in ("S", "W"):
        degrees = -degrees
    exact = Decimal(degrees.numerator) / Decimal(degrees.denominator)
    return str(exact.quantize(Decimal("0.000001")))


def _evidence(image: Image.Image) -> tuple[str, str, str]:
    exif = image.getexif()
    taken = str(exif.get_ifd(0x8769).get(0x9003) or exif.get(0x0132) or "")
    gps = exif.get_ifd(0x8825)
    latitude = _degrees(gps.get(2), gps.get(1)) if gps.get(2) else ""
    longitude = _degrees(gps.get(4), gps.get(3)) if gps.get(4) else ""
    return taken[:40], latitude, longitude


def process_photo(data: bytes, *, filename: str, store: FileStore) -> Photo:
    """Check, clean and store one photo.

    Raises:
        RuleViolation: every reason it is refused, in the user's words.
    """
    name = filename[:80] or _("the photo")
    if len(data) > MAX_BYTES:
        raise RuleViolation(
            _(
                "%(name)s is %(size)s MB; a photo may be at most %(limit)s MB.",
                name=name,
                size=fmt_number(round(len(data) / 1024 / 1024, 1)),
                limit=MAX_BYTES // 1024 // 1024,
            )
        )
    if _kind(data[:16]) is None:
        raise RuleViolation(
            _("%(name)s is not a JPEG, PNG or WEBP photo (whatever its name says).", name=name)
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise RuleViolation(
                    _(
                        "%(name)s is %(width)s × %(height)s pixels; at most %(limit)s million "
                        "pixels are accepted.",
                        name=name,
                        width=fmt_number(width),
                        height=fmt_number(height),
                        limit=MAX_PIXELS // 1_000_000,
                    )
                )
            taken, latitude, longitude = _evidence(image)
            image.load()
    except RuleViolation:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise RuleViolation(
            _(
                "%(name)s has more than %(limit)s million pixels, the most accepted.",
                name=name,
                limit=MAX_PIXELS // 1_000_000,
            )
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise RuleViolation(
            _("%(name)s could not be read as a picture: it may be damaged.", name=name)
        ) from None
    upright = ImageOps.exif_transpose(image).convert("RGB")
    upright.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    upright.save(out, format="JPEG", quality=85, optimize=True)  # no EXIF is written
    stored = store.save(out.getvalue(), extension="jpg")
    return Photo(stored, upright.width, upright.height, taken, latitude, longitude)
