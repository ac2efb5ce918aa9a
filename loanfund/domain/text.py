"""Text helpers: diacritic-insensitive search keys for Vietnamese names."""

from __future__ import annotations

import unicodedata

_EXTRA = str.maketrans({"đ": "d", "Đ": "d"})


def fold(text: str) -> str:
    """A search key: lower case, no diacritics, single spaces (``"Hợp tác xã Đan Điền"`` →
    ``"hop tac xa dan dien"``)."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_EXTRA))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())
