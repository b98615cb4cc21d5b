"""digitize_files: the pages of one component -> straightened pages, OCR, type, fields, searchable PDF."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from digitizer import images, preprocess
from digitizer.classify import classify_pages
from digitizer.engines import OcrEngine, get_engine
from digitizer.errors import ImageEmpty, OcrFailed, TooManyPages
from digitizer.fields import extract_fields
from digitizer.model import DOCUMENT_TYPES, DigitizedComponent, Page, Word
from digitizer.searchable_pdf import PdfPage, build_pdf, encode_jpeg
from sohoa.errors import SohoaError

log = logging.getLogger(__name__)

LOW_OCR_CONFIDENCE = 0.5
REVIEW_WARNINGS = {"TYPE_MISMATCH", "ID_NUMBER_INVALID", "ID_BIRTH_YEAR_MISMATCH", "NO_TEXT", "LOW_OCR_CONFIDENCE"}


@dataclass(frozen=True)
class DigitizeOptions:
    engine: OcrEngine | None = None
    languages: str = "vie"
    min_dpi: int = 200
    max_pixels: int = 120_000_000
    max_pages: int = 200
    declared_type: str | None = None
    review_threshold: float = 0.6
    timeout_s: int = 120


@contextmanager
def _timed(stage: str, page: int | None = None) -> Iterator[None]:
    start = time.perf_counter()
    yield
    log.debug("stage %s page %s took %.3f s", stage, page if page is not None else "-", time.perf_counter() - start)


def page_text(words: Sequence[Word]) -> str:
    """Words joined by spaces within a line and by newlines between lines."""
    lines: list[list[str]] = []
    previous = None
    for word in words:
        if previous is None or word.line != previous:
            lines.append([])
        lines[-1].append(word.text)
        previous = word.line
    return "\n".join(" ".join(line) for line in lines)


def _recognize(engine: OcrEngine, source: images.SourcePage, index: int, options: DigitizeOptions) -> tuple[
    Page, PdfPage
]:
    with _timed("straighten", index):
        image, geometry = preprocess.straighten(source.image)
    ocr_image = preprocess.ocr_copy(image)
    ocr_image.info["dpi"] = (source.dpi, source.dpi)
    with _timed("ocr", index):
        try:
            words = engine.recognize(ocr_image, languages=options.languages)
        except SohoaError:
            raise
        except Exception as exc:
            raise OcrFailed(f"{engine.name} on page {index + 1}: {type(exc).__name__}: {exc}") from exc
    confidence = sum(w.confidence for w in words) / len(words) if words else 0.0
    warnings = list(source.warnings)
    if source.dpi < options.min_dpi:
        warnings.append("LOW_RESOLUTION")
    if not words:
        warnings.append("NO_TEXT")
    elif confidence < LOW_OCR_CONFIDENCE:
        warnings.append("LOW_OCR_CONFIDENCE")
    page = Page(
        index=index,
        width_px=image.width,
        height_px=image.height,
        dpi=source.dpi,
        text=page_text(words),
        confidence=round(confidence, 4),
        words=words,
        rotation=(source.rotation + geometry.rotation) % 360,
        skew_deg=round(geometry.skew_deg, 2),
        warnings=warnings,
    )
    with _timed("encode", index):
        pdf_page = PdfPage(encode_jpeg(image, source.dpi), image.width, image.height, source.dpi, words)
    return page, pdf_page


def _count_pages(paths: Sequence[Path], options: DigitizeOptions) -> int:
    total = 0
    for path in paths:
        total += images.count_pages(path, options.max_pixels)
        if total > options.max_pages:
            raise TooManyPages(f"more than {options.max_pages} pages")
    return total


def digitize_files(paths: Sequence[Path], options: DigitizeOptions) -> DigitizedComponent:
    """Digitise the files of one component (its pages, in order) into pages, type, fields and a PDF."""
    paths = [Path(p) for p in paths]
    if not paths:
        raise ImageEmpty("the component has no files")
    with _timed("validate"):
        expected = _count_pages(paths, options)
    engine = options.engine or get_engine("tesseract", timeout_s=options.timeout_s)
    pages: list[Page] = []
    pdf_pages: list[PdfPage] = []
    for path in paths:
        with _timed("load"):
            sources = images.load_pages(path, max_pixels=options.max_pixels, timeout_s=options.timeout_s)
            for source in sources:
                page, pdf_page = _recognize(engine, source, len(pages), options)
                pages.append(page)
                pdf_pages.append(pdf_page)
    if len(pages) != expected:
        log.warning("expected %s pages from the headers, decoded %s", expected, len(pages))
    with _timed("classify"):
        result = classify_pages([p.text for p in pages])
    with _timed("fields"):
        fields, field_warnings = extract_fields(pages)
    with _timed("pdf"):
        pdf = build_pdf(pdf_pages)

    warnings: list[str] = []
    for code in (w for page in pages for w in page.warnings):
        if code not in warnings:
            warnings.append(code)
    warnings += field_warnings
    declared = options.declared_type
    if declared is not None and declared not in DOCUMENT_TYPES:
        warnings.append("UNKNOWN_DECLARED_TYPE")
        declared = None
    confident = result.confidence >= options.review_threshold
    doc_type = result.doc_type if confident or declared is None else declared
    if declared is not None and confident and result.doc_type != declared:
        warnings.append("TYPE_MISMATCH")
    unclassified_other = result.doc_type == "other" and declared == "other"
    needs_review = (not confident and not unclassified_other) or bool(REVIEW_WARNINGS.intersection(warnings))
    log.info(
        "digitised %s pages: type=%s confidence=%.2f needs_review=%s warnings=%s",
        len(pages), doc_type, result.confidence, needs_review, ",".join(warnings) or "-",
    )
    return DigitizedComponent(
        doc_type=doc_type,
        confidence=result.confidence,
        needs_review=needs_review,
        pages=pages,
        fields=fields,
        pdf=pdf,
        warnings=warnings,
    )
