"""Snippets of a document's text around the words a search matched, as structured spans.

Matching is diacritic-insensitive (the text is folded one character at a time, so each folded
character points back at the original): "nguyen van an" marks "Nguyễn Văn An" in the original
spelling. Spans are ``{"text": ..., "mark": bool}``; callers render them (escaped) as they wish,
so no HTML ever travels in the API.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from storage.catalogue.folding import fold_words


@dataclass(frozen=True)
class Span:
    text: str
    mark: bool

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "mark": self.mark}


def _fold_char(ch: str) -> str:
    if ch in "đĐ":
        return "d"
    base = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c)).lower()
    return base if len(base) == 1 and base.isascii() and base.isalnum() else " "


def _folded(text: str) -> str:
    """``text`` folded character for character: same length, so positions are shared."""
    return "".join(_fold_char(ch) for ch in text)


def match_ranges(text: str, query: str) -> list[tuple[int, int]]:
    """(start, end) of every whole word of ``text`` that is one of the query's words, in order."""
    words = sorted(set(fold_words(query)), key=len, reverse=True)
    if not words:
        return []
    pattern = re.compile(r"(?<![0-9a-z])(?:" + "|".join(map(re.escape, words)) + r")(?![0-9a-z])")
    return [m.span() for m in pattern.finditer(_folded(text))]


def score(text: str, query: str) -> tuple[int, int]:
    """How well ``text`` answers ``query``: (the query as a phrase occurs, distinct query words present)."""
    words = fold_words(query)
    folded = " ".join(fold_words(text))
    phrase = int(bool(words) and f" {' '.join(words)} " in f" {folded} ")
    present = set(folded.split())
    return phrase, sum(1 for w in set(words) if w in present)


def snippet(text: str, query: str, width: int = 160) -> list[Span]:
    """About ``width`` characters of ``text`` around its densest run of matches, matches marked.

    Whitespace (page breaks, new lines) becomes single spaces; ``…`` marks a cut.
    """
    flat = re.sub(r"\s+", " ", text).strip()
    ranges = match_ranges(flat, query)
    if not ranges:
        head = flat[:width]
        return [Span(head + ("…" if len(flat) > width else ""), False)] if head else []
    # The window holding the most matches, starting a little before its first one.
    best, best_count = 0, 0
    for i, (start, _) in enumerate(ranges):
        count = sum(1 for s, e in ranges[i:] if e <= start + width)
        if count > best_count:
            best, best_count = i, count
    lo = max(0, ranges[best][0] - width // 4)
    if lo > 0:
        space = flat.find(" ", lo)
        lo = space + 1 if 0 <= space < ranges[best][0] else lo
    hi = min(len(flat), lo + width)
    if hi < len(flat):
        space = flat.rfind(" ", lo, hi)
        hi = space if space > lo and space >= max(e for s, e in ranges if s < hi) else hi
    spans: list[Span] = []
    pos = lo
    for s, e in ranges:
        if s < lo or e > hi:
            continue
        if s > pos:
            spans.append(Span(flat[pos:s], False))
        spans.append(Span(flat[s:e], True))
        pos = e
    if pos < hi:
        spans.append(Span(flat[pos:hi], False))
    if lo > 0:
        spans.insert(0, Span("…", False))
    if hi < len(flat):
        spans.append(Span("…", False))
    return spans
