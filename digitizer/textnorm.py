"""Vietnamese text normalisation: NFC, whitespace folding and diacritic folding for matching."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def fold_whitespace(text: str) -> str:
    """Collapse every run of whitespace (newlines included) into one space."""
    return _SPACES.sub(" ", text).strip()


def fold(text: str) -> str:
    """Lowercase and strip Vietnamese diacritics: "Họ và tên" -> "ho va ten", "Đ" -> "d"."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.lower()


def fold_words(text: str) -> str:
    """Fold and keep only letters and digits separated by single spaces (punctuation becomes space)."""
    return fold_whitespace(re.sub(r"[^0-9a-z]+", " ", fold(text)))
