"""Diacritic folding for search: "Giấy khai sinh" and "giay khai sinh" fold to the same words."""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """Lowercase, strip Vietnamese diacritics (đ → d), keep only words separated by single spaces."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return _NON_WORD.sub(" ", stripped).strip()


def fold_words(text: str) -> list[str]:
    return fold(text).split()
