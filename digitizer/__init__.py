"""Digitizer: scanned pages -> upright pages, OCR text, document type, fields and a searchable PDF.

Pure library: no Celery, web framework, database, storage or signing imports.
"""

from digitizer.batch_digitize import ComponentResult, digitize_batch
from digitizer.engines import OcrEngine, engine_from_settings, get_engine
from digitizer.model import DOCUMENT_TYPES, DigitizedComponent, Field, Page, Party, Word
from digitizer.pipeline import DigitizeOptions, digitize_files

__all__ = [
    "DOCUMENT_TYPES",
    "ComponentResult",
    "DigitizeOptions",
    "DigitizedComponent",
    "Field",
    "OcrEngine",
    "Page",
    "Party",
    "Word",
    "digitize_batch",
    "digitize_files",
    "engine_from_settings",
    "get_engine",
]
