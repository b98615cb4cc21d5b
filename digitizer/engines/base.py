"""The OCR engine protocol and the factory that picks an engine by name."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from PIL import Image

from digitizer.errors import OcrEngineUnavailable
from digitizer.model import Word


@runtime_checkable
class OcrEngine(Protocol):
    """Recognises the words of one page image, in reading order, boxes in that image's pixels."""

    name: str

    def recognize(self, image: Image.Image, *, languages: str) -> list[Word]: ...


def get_engine(name: str = "tesseract", **kwargs: Any) -> OcrEngine:
    """Build the engine called ``name`` ("tesseract" or "easyocr") with engine-specific options."""
    if name == "tesseract":
        from digitizer.engines.tesseract import TesseractEngine

        return TesseractEngine(**kwargs)
    if name == "easyocr":
        from digitizer.engines.easyocr_engine import EasyOcrEngine

        return EasyOcrEngine(**kwargs)
    raise OcrEngineUnavailable(f"unknown OCR engine {name!r}")
