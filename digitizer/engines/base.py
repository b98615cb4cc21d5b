"""The OCR engine protocol and the factory that picks an engine by name."""

from __future__ import annotations

import logging
from typing import Any, Protocol, runtime_checkable

from PIL import Image

from digitizer.errors import OcrEngineUnavailable
from digitizer.model import Word

log = logging.getLogger(__name__)


@runtime_checkable
class OcrEngine(Protocol):
    """Recognises the words of one page image, in reading order, boxes in that image's pixels."""

    name: str

    def recognize(self, image: Image.Image, *, languages: str) -> list[Word]: ...


def get_engine(name: str = "tesseract", **kwargs: Any) -> OcrEngine:
    """Build the engine called ``name`` ("tesseract" or "easyocr") with engine-specific options.

    Tesseract runs in-process (tesserocr, long-lived handles, ``workers`` pages at a time) unless
    ``mode="cli"`` or a ``binary`` is given, which run one ``tesseract`` process per page.
    """
    if name == "tesseract":
        mode = kwargs.pop("mode", "auto")
        if mode not in ("auto", "api", "cli"):
            raise OcrEngineUnavailable(f"unknown tesseract mode {mode!r}")
        if mode == "cli" or "binary" in kwargs:
            from digitizer.engines.tesseract import TesseractEngine

            kwargs.pop("workers", None)
            return TesseractEngine(**kwargs)
        from digitizer.engines.tesseract_api import TesseractApiEngine

        try:
            return TesseractApiEngine(**kwargs)
        except OcrEngineUnavailable:
            if mode == "api":
                raise
            log.warning("in-process tesseract unavailable, falling back to one tesseract process per page")
            from digitizer.engines.tesseract import TesseractEngine

            kwargs.pop("workers", None)
            return TesseractEngine(**kwargs)
    if name == "easyocr":
        from digitizer.engines.easyocr_engine import EasyOcrEngine

        return EasyOcrEngine(**kwargs)
    raise OcrEngineUnavailable(f"unknown OCR engine {name!r}")
