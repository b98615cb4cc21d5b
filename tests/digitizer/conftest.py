"""Shared helpers for digitizer tests: text-to-page and fake engines."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from digitizer.model import Page, Word

ROOT = Path(__file__).resolve().parents[2]

SAMPLES = ROOT / "dossiers" / "samples" / "batch"
# Tesseract is a hard dependency installed by `make test`: its absence must fail, never skip.
needs_tesseract = pytest.mark.integration


def words_from_text(text: str, *, confidence: float = 0.95) -> list[Word]:
    """Words with made-up boxes (one 40-px row per line, 12 px per character)."""
    words: list[Word] = []
    for line_no, line in enumerate(text.splitlines()):
        x = 100
        for token in line.split():
            words.append(Word(token, (x, 100 + 40 * line_no, 12 * len(token), 30), confidence, line_no))
            x += 12 * len(token) + 12
    return words


def page_from_text(text: str, index: int = 0) -> Page:
    words = words_from_text(text)
    return Page(index=index, width_px=1654, height_px=2339, dpi=200.0, text=text, confidence=0.95, words=words)


class FakeEngine:
    """Returns the given lines as words, one call per page, whatever the image."""

    name = "fake"

    def __init__(self, pages: Sequence[str] = ("",)) -> None:
        self.pages = list(pages)
        self.calls = 0

    def recognize(self, image, *, languages: str) -> list[Word]:
        text = self.pages[min(self.calls, len(self.pages) - 1)]
        self.calls += 1
        return words_from_text(text)


class CrashingEngine:
    name = "crashing"

    def recognize(self, image, *, languages: str) -> list[Word]:
        raise RuntimeError("segfault in engine")


@pytest.fixture
def make_page():
    return page_from_text


@pytest.fixture
def fake_engine():
    return FakeEngine


@pytest.fixture
def crashing_engine():
    return CrashingEngine()
