"""Tesseract in-process through tesserocr: a pool of long-lived TessBaseAPI handles, one page each at a time.

Loading the ``vie`` model costs 0.2–0.5 s; a handle keeps it loaded across pages, so no page pays
start-up. Handles are created lazily (at most ``workers``) and borrowed by whichever thread OCRs a
page, so callers can recognise ``workers`` pages in parallel from a thread pool; tesserocr releases
the GIL while Tesseract runs. OpenMP is pinned to one thread per handle (oversubscription on a
2-core machine is 6× slower, DESIGN §5).
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from PIL import Image

from digitizer.engines.tesseract import FULL_PAGE_PSM, dpi_of, parse_tsv
from digitizer.errors import OcrEngineUnavailable, OcrFailed
from digitizer.model import Word

log = logging.getLogger(__name__)

TESSDATA_CANDIDATES = (
    Path("/usr/share/tesseract-ocr/5/tessdata"),
    Path("/usr/share/tesseract-ocr/4.00/tessdata"),
    Path("/usr/share/tessdata"),
    Path("/usr/local/share/tessdata"),
)
# The API's TSV has no header row; the CLI's has this one.
TSV_HEADER = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n"
# Tesseract settings that cost time without helping scanned office documents.
FAST_VARIABLES = {
    "tessedit_do_invert": "0",  # no second pass on inverted (white on black) text
}


def find_tessdata(explicit: Path | None = None) -> Path:
    """The tessdata folder: ``explicit``, else $TESSDATA_PREFIX, else the Debian locations."""
    candidates = [explicit] if explicit is not None else []
    if os.environ.get("TESSDATA_PREFIX"):
        candidates.append(Path(os.environ["TESSDATA_PREFIX"]))
    candidates += TESSDATA_CANDIDATES
    for folder in candidates:
        if any(folder.glob("*.traineddata")):
            return folder
    raise OcrEngineUnavailable("no tessdata folder with *.traineddata (apt-get install tesseract-ocr-vie)")


def _import_tesserocr() -> Any:
    os.environ["OMP_THREAD_LIMIT"] = "1"
    try:
        import tesserocr
    except ImportError as exc:
        raise OcrEngineUnavailable(f"tesserocr is not installed: {exc}") from exc
    return tesserocr


class TesseractApiEngine:
    """In-process Tesseract with up to ``workers`` long-lived handles per language set."""

    name = "tesseract"

    def __init__(
        self,
        *,
        workers: int = 2,
        psm: int = FULL_PAGE_PSM,
        timeout_s: float = 120,
        tessdata_dir: Path | None = None,
    ) -> None:
        self._tesserocr = _import_tesserocr()
        self.tessdata_dir = find_tessdata(tessdata_dir)
        self.workers = max(1, workers)
        self.psm = psm
        self.timeout_s = timeout_s
        self._idle: dict[str, queue.LifoQueue[Any]] = {}
        self._created: dict[str, int] = {}
        self._lock = threading.Lock()

    def _new_handle(self, languages: str) -> Any:
        try:
            api = self._tesserocr.PyTessBaseAPI(
                path=f"{self.tessdata_dir}/", lang=languages, psm=self.psm, oem=self._tesserocr.OEM.LSTM_ONLY
            )
        except RuntimeError as exc:
            raise OcrEngineUnavailable(f"tesseract languages {languages!r} in {self.tessdata_dir}: {exc}") from exc
        for key, value in FAST_VARIABLES.items():
            api.SetVariable(key, value)
        log.debug("tesseract handle for %s created (%s)", languages, self.tessdata_dir)
        return api

    @contextmanager
    def _handle(self, languages: str) -> Iterator[Any]:
        with self._lock:
            idle = self._idle.setdefault(languages, queue.LifoQueue())
            create = idle.empty() and self._created.get(languages, 0) < self.workers
            if create:
                self._created[languages] = self._created.get(languages, 0) + 1
        if create:
            try:
                api = self._new_handle(languages)
            except BaseException:
                with self._lock:
                    self._created[languages] -= 1
                raise
        else:
            api = idle.get()
        try:
            yield api
        finally:
            idle.put(api)

    def recognize(self, image: Image.Image, *, languages: str) -> list[Word]:
        """OCR one page; resolution from ``image.info["dpi"]``; boxes in that image's pixels."""
        gray = image if image.mode == "L" else image.convert("L")
        dpi = dpi_of(image)
        with self._handle(languages) as api:
            api.SetImageBytes(gray.tobytes(), gray.width, gray.height, 1, gray.width)
            if dpi:
                api.SetSourceResolution(dpi)
            if not api.Recognize(timeout=int(self.timeout_s * 1000)):
                api.Clear()
                raise OcrFailed(f"tesseract gave up on a {gray.width}x{gray.height} page (timeout {self.timeout_s} s)")
            tsv = api.GetTSVText(0)
            api.Clear()
        return parse_tsv(tsv if tsv.startswith("level") else TSV_HEADER + tsv)

    def close(self) -> None:
        """Free every idle handle (their models)."""
        with self._lock:
            for idle in self._idle.values():
                while not idle.empty():
                    idle.get().End()
            self._idle.clear()
            self._created.clear()
