"""Which way up: Tesseract's orientation detection (OSD) as the second opinion on a quarter turn.

The ink-profile heuristics in ``preprocess`` are cheap and right on pages of running text, but a page
whose few lines sit at its top (a short notice, a ruled form) can fool them. OSD classifies hundreds of
glyphs in each of the four orientations: reliable, but it costs about as much as a fifth to a third of
the page's OCR, so it runs only when the heuristics want to turn the page or cannot tell (``decide``).

A page is turned only on clear evidence: OSD agreeing with the heuristics, or OSD alone beyond the
confidence OCRmyPDF requires before it turns a page. When the two disagree the page stays as scanned:
OCR of an upright page left alone is fine, OCR of an upright page turned over is garbage.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from PIL import Image

from digitizer.engines.tesseract_api import _import_tesserocr, find_tessdata
from digitizer.errors import OcrEngineUnavailable

log = logging.getLogger(__name__)

# Tesseract's orientation confidence is a margin between the best and the runner-up orientation.
# Below 2 the four orientations are practically tied (seen on text too small or too sparse to classify);
# on 200 dpi pages of a few lines or more it is 7-17.
AGREE_CONFIDENCE = 2.0
# OCRmyPDF's default --rotate-pages-threshold: OSD alone must be this sure to turn a page.
ALONE_CONFIDENCE = 14.0
# OSD reads glyph shapes: below ~150 dpi its confidence collapses (0.1-3 at 100 dpi against 10-16 at
# 200 dpi on the same pages), above 200 dpi it only costs time. The longest side of an A4 page at 200 dpi.
OSD_MAX_SIDE = 2400


@dataclass(frozen=True)
class Osd:
    """OSD's verdict: the clockwise quarter turn that makes the page upright, and its confidence."""

    correction_cw: int
    confidence: float


class _Handles:
    """Long-lived OSD handles (loading ``osd.traineddata`` costs ~50 ms), one per concurrent caller."""

    def __init__(self) -> None:
        self._idle: queue.LifoQueue[Any] = queue.LifoQueue()
        self._lock = threading.Lock()
        self._unavailable: str | None = None

    def _new(self) -> Any:
        tesserocr = _import_tesserocr()
        return tesserocr.PyTessBaseAPI(path=f"{find_tessdata()}/", lang="osd", psm=tesserocr.PSM.OSD_ONLY)

    @contextmanager
    def borrow(self) -> Iterator[Any]:
        try:
            api = self._idle.get_nowait()
        except queue.Empty:
            with self._lock:
                if self._unavailable is not None:
                    raise OcrEngineUnavailable(self._unavailable) from None
            try:
                api = self._new()
            except (OcrEngineUnavailable, RuntimeError) as exc:
                with self._lock:
                    self._unavailable = f"tesseract OSD: {exc}"
                raise OcrEngineUnavailable(f"tesseract OSD: {exc}") from exc
        try:
            yield api
        finally:
            api.Clear()
            self._idle.put(api)


_HANDLES = _Handles()


def detect(image: Image.Image) -> Osd | None:
    """Tesseract's orientation verdict on ``image``; None when it cannot say (too few glyphs, no OSD model)."""
    gray = image if image.mode == "L" else image.convert("L")
    scale = OSD_MAX_SIDE / max(gray.size)
    if scale < 1:
        gray = gray.resize(
            (max(1, round(gray.width * scale)), max(1, round(gray.height * scale))), Image.Resampling.BOX
        )
    try:
        with _HANDLES.borrow() as api:
            api.SetImage(gray)
            result = api.DetectOrientationScript()
    except OcrEngineUnavailable as exc:
        log.warning("orientation detection unavailable: %s", exc)
        return None
    if not result:
        return None
    return Osd(correction_cw=(360 - int(result["orient_deg"])) % 360, confidence=float(result["orient_conf"]))


def decide(heuristic: int, clear: bool, osd: Osd | None) -> int:
    """The clockwise quarter turn to apply, from the heuristics' proposal (``clear`` when its evidence is
    strong) and OSD's verdict (None when OSD could not say)."""
    if osd is None:
        return heuristic if clear else 0
    if osd.correction_cw == heuristic and osd.confidence >= AGREE_CONFIDENCE:
        return heuristic
    if osd.confidence >= ALONE_CONFIDENCE:
        return osd.correction_cw
    if clear and heuristic % 180 == 90 and osd.correction_cw % 180 == 90 and osd.confidence >= AGREE_CONFIDENCE:
        # Both see the lines running vertically; OSD reads glyphs, so it knows the direction better.
        return osd.correction_cw
    return 0
