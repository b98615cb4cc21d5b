"""Build the OCR engine a worker pool is configured for (``sohoa.settings.OcrSettings`` or alike)."""

from __future__ import annotations

from typing import Any

from digitizer.engines.base import OcrEngine, get_engine


def engine_from_settings(ocr: Any) -> OcrEngine:
    """The engine named by ``ocr.engine`` with its options (EasyOCR model folder, Tesseract mode,
    tessdata folder, parallel handles, timeout); missing attributes take the engine defaults."""
    if ocr.engine == "easyocr":
        return get_engine("easyocr", model_dir=getattr(ocr, "model_dir", None))
    return get_engine(
        "tesseract",
        mode=getattr(ocr, "tesseract_mode", "auto"),
        workers=getattr(ocr, "workers", 2),
        tessdata_dir=getattr(ocr, "tessdata_dir", None),
        timeout_s=getattr(ocr, "timeout_s", 120),
    )
