"""Digitizer: scanned pages -> upright pages, OCR text, document type, fields and a searchable PDF.

Pure library: no Celery, web framework, database, storage or signing imports.
"""

from digitizer.engines import OcrEngine, get_engine
from digitizer.model import DOCUMENT_TYPES, DigitizedComponent, Field, Page, Word
from digitizer.pipeline import DigitizeOptions, digitize_files

__all__ = [
    "DOCUMENT_TYPES",
    "DigitizeOptions",
    "DigitizedComponent",
    "Field",
    "OcrEngine",
    "Page",
    "Word",
    "digitize_files",
    "get_engine",
]
