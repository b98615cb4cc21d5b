"""digitize_files: the pages of one component -> straightened pages, OCR, type, fields, searchable PDF."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from digitizer import images, inkcolour, photo, preprocess
from digitizer.classify import TYPE_UNCERTAIN, UNFAMILIAR_TEXT, classify_pages
from digitizer.engines import OcrEngine, get_engine
from digitizer.errors import ImageEmpty, OcrFailed, TooManyPages
from digitizer.fields import extract_fields
from digitizer.learned import NgramModel
from digitizer.model import DOCUMENT_TYPES, Box, DigitizedComponent, Page, Word
from digitizer.parties import extract_parties, party_warnings
from digitizer.searchable_pdf import PdfPage, build_pdf, encode_jpeg
from sohoa.errors import SohoaError

log = logging.getLogger(__name__)

LOW_OCR_CONFIDENCE = 0.5
REVIEW_WARNINGS = {
    "TYPE_MISMATCH",
    "ID_NUMBER_INVALID",
    "ID_BIRTH_YEAR_MISMATCH",
    "NO_TEXT",
    "LOW_OCR_CONFIDENCE",
    UNFAMILIAR_TEXT,
    TYPE_UNCERTAIN,
}


@dataclass(frozen=True)
class DigitizeOptions:
    engine: OcrEngine | None = None
    languages: str = "vie"
    min_dpi: int = 200
    max_pixels: int = 120_000_000
    max_pages: int = 200
    declared_type: str | None = None
    review_threshold: float = 0.8
    timeout_s: int = 120
    page_workers: int = 1
    ocr_dpi: int | None = None
    # The document-type model (the active retrained one, ``digitizer.model_store``); None: the shipped one.
    classifier: NgramModel | None = field(default=None, compare=False, hash=False, repr=False)


_DEFAULT_ENGINES: dict[tuple[int, int], OcrEngine] = {}


def default_engine(options: DigitizeOptions) -> OcrEngine:
    """The process-wide Tesseract engine for these options (handles stay loaded between calls)."""
    key = (options.page_workers, options.timeout_s)
    if key not in _DEFAULT_ENGINES:
        _DEFAULT_ENGINES[key] = get_engine(
            "tesseract", timeout_s=options.timeout_s, workers=max(1, options.page_workers)
        )
    return _DEFAULT_ENGINES[key]


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


UPSAMPLE_TO_DPI = 300  # Tesseract reads best at 300 dpi or more ("Improving the quality of the output")
MAX_UPSAMPLE = 2.0


def _ocr_scale(dpi: float, ocr_dpi: int | None, min_dpi: int) -> float:
    """How much the OCR copy is resampled: up to 300 dpi (at most 2×) below ``min_dpi``, where small
    text's diacritics are a few pixels high and Tesseract loses them; down to ``ocr_dpi`` when set."""
    if 0 < dpi < min_dpi:
        return min(MAX_UPSAMPLE, UPSAMPLE_TO_DPI / dpi)
    if ocr_dpi is None or dpi <= ocr_dpi * 1.1:
        return 1.0
    return ocr_dpi / dpi


def _to_page_frame(words: Sequence[Word], scale: float) -> list[Word]:
    if scale == 1.0:
        return list(words)
    return [Word(w.text, _scaled(w.box, scale), w.confidence, w.line) for w in words]


def _scaled(box: Box, scale: float) -> Box:
    left, top, width, height = (round(v / scale) for v in box)
    return left, top, width, height


def _shift(words: Sequence[Word], origin: tuple[int, int]) -> list[Word]:
    if origin == (0, 0):
        return list(words)
    dx, dy = origin
    return [Word(w.text, (w.box[0] + dx, w.box[1] + dy, w.box[2], w.box[3]), w.confidence, w.line) for w in words]


def _recognize(
    engine: OcrEngine, source: images.SourcePage, index: int, options: DigitizeOptions
) -> tuple[Page, PdfPage]:
    with _timed("photo", index):
        source = photo.correct_source(source)  # a phone photo of a page becomes the corrected page
    with _timed("ink-colour", index):
        gray = inkcolour.ocr_gray(source.image)  # seals and pen signatures dropped; the stored page keeps them
    with _timed("geometry", index):
        geometry = preprocess.detect_geometry(gray)
    scale = _ocr_scale(source.dpi, options.ocr_dpi, options.min_dpi)
    with _timed("ocr-image", index):
        straight = preprocess.straighten_gray(gray, geometry, scale)
        origin = (0, 0)
        if geometry.card_box is not None:
            left, top, right, bottom = geometry.card_box
            crop = (
                round(left * straight.width),
                round(top * straight.height),
                round(right * straight.width),
                round(bottom * straight.height),
            )
            straight, origin = straight.crop(crop), crop[:2]
        ocr_image = preprocess.ocr_copy(straight)
    ocr_dpi = round(source.dpi * scale)
    ocr_image.info["dpi"] = (ocr_dpi, ocr_dpi)
    width, height = preprocess.canvas_size(
        preprocess.rotate_quarter(source.image, geometry.rotation).size, geometry.skew_deg
    )
    with _timed("ocr", index):
        try:
            words = _to_page_frame(_shift(engine.recognize(ocr_image, languages=options.languages), origin), scale)
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
        width_px=width,
        height_px=height,
        dpi=source.dpi,
        text=page_text(words),
        confidence=round(confidence, 4),
        words=words,
        rotation=(source.rotation + geometry.rotation) % 360,
        skew_deg=round(geometry.skew_deg, 2),
        warnings=warnings,
    )
    skew = geometry.skew_deg if abs(geometry.skew_deg) >= preprocess.MIN_CORRECTED_SKEW_DEG else 0.0
    with _timed("encode", index):
        if source.jpeg is not None:
            pdf_page = PdfPage(
                source.jpeg,
                width,
                height,
                source.dpi,
                words,
                image_size=source.jpeg_size,
                rotation_cw=source.rotation + geometry.rotation + skew,
                gray=source.jpeg_gray,
            )
        else:
            pdf_page = PdfPage(
                encode_jpeg(source.image, source.dpi),
                width,
                height,
                source.dpi,
                words,
                image_size=source.image.size,
                rotation_cw=geometry.rotation + skew,
            )
    return page, pdf_page


def _recognize_all(engine: OcrEngine, paths: Sequence[Path], options: DigitizeOptions) -> list[tuple[Page, PdfPage]]:
    """OCR every page of every file in order, ``options.page_workers`` pages at a time."""

    def sources() -> Iterator[images.SourcePage]:
        for path in paths:
            yield from images.load_pages(path, max_pixels=options.max_pixels, timeout_s=options.timeout_s)

    if options.page_workers <= 1:
        return [_recognize(engine, source, i, options) for i, source in enumerate(sources())]
    results: list[tuple[Page, PdfPage]] = []
    with ThreadPoolExecutor(options.page_workers, thread_name_prefix="ocr-page") as pool:
        pending: deque[Future[tuple[Page, PdfPage]]] = deque()
        for i, source in enumerate(sources()):
            pending.append(pool.submit(_recognize, engine, source, i, options))
            while len(pending) > options.page_workers:  # bound decoded pages held in memory
                results.append(pending.popleft().result())
        results.extend(f.result() for f in pending)
    return results


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
    engine = options.engine or default_engine(options)
    with _timed("recognize"):
        recognized = _recognize_all(engine, paths, options)
    pages = [page for page, _ in recognized]
    pdf_pages = [pdf_page for _, pdf_page in recognized]
    if len(pages) != expected:
        log.warning("expected %s pages from the headers, decoded %s", expected, len(pages))
    with _timed("classify"):
        result = classify_pages([p.text for p in pages], options.classifier)
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
    # Below the review threshold, or rejected by the classifier's open-set rule (the text is unlike any
    # known type: ``other``), the type is not trusted: a declared type stands in, else the classifier's
    # answer; either way an officer confirms it, and the warning says why.
    confident = result.confidence >= options.review_threshold and result.reason is None
    doc_type = result.doc_type if confident or declared is None else declared
    with _timed("parties"):
        parties = extract_parties(pages, doc_type)
    warnings += [code for code in party_warnings(parties) if code not in warnings]
    if declared is not None and confident and result.doc_type != declared:
        warnings.append("TYPE_MISMATCH")
    unclassified_other = result.doc_type == "other" and declared == "other"
    if not confident and not unclassified_other:
        warnings.append(result.reason or TYPE_UNCERTAIN)
    needs_review = bool(REVIEW_WARNINGS.intersection(warnings))
    log.info(
        "digitised %s pages: type=%s (guess %s) confidence=%.2f needs_review=%s warnings=%s",
        len(pages),
        doc_type,
        result.guess,
        result.confidence,
        needs_review,
        ",".join(warnings) or "-",
    )
    return DigitizedComponent(
        doc_type=doc_type,
        confidence=result.confidence,
        needs_review=needs_review,
        pages=pages,
        fields=fields,
        pdf=pdf,
        warnings=warnings,
        parties=parties,
        guess=result.guess,
    )
