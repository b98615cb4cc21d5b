"""OCR engines behind one protocol."""

from digitizer.engines.base import OcrEngine, get_engine
from digitizer.engines.settings import engine_from_settings

__all__ = ["OcrEngine", "engine_from_settings", "get_engine"]
