"""OCR engines behind one protocol."""

from digitizer.engines.base import OcrEngine, get_engine

__all__ = ["OcrEngine", "get_engine"]
