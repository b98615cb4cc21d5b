"""Scanned PDFs as input: refuse encrypted or active PDFs; take each page's scan as it is embedded.

A page that only paints one image covering the page (what scanners, img2pdf, Ghostscript and
OCRmyPDF write, with or without an invisible text layer) gives that image at its own pixel size:
no resampling, and a JPEG keeps its bytes for the output PDF. Any other page is rasterised by
pdftoppm at the resolution its images are painted at.
"""

from __future__ import annotations

import logging
import math
import shutil
import subprocess
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pikepdf
from PIL import Image

from digitizer.errors import ImageCorrupt, ImageTooLarge, OcrEngineUnavailable, OcrFailed, PdfActiveContent
from digitizer.errors import PdfEncrypted as PdfEncryptedError

log = logging.getLogger(__name__)

DEFAULT_DPI = 300.0
MIN_DPI, MAX_DPI = 72.0, 1200.0
ACTIVE_KEYS = ("/JS", "/JavaScript", "/Launch", "/AA", "/RichMedia")
# How far (as a share of the page side) the painted image may fall short of the page edges and
# still count as "the page": scanners and converters place it at the media box, give or take a point.
FULL_PAGE_TOLERANCE = 0.02
# Operators that put visible marks on a page besides the one image (text showing is checked apart:
# invisible text, render mode 3, is an OCR layer and allowed).
_PAINTING = {"S", "s", "f", "F", "f*", "B", "B*", "b", "b*", "sh", "BI", "EI", "ID"}
_SHOWING = {"Tj", "TJ", "'", '"'}


@dataclass(frozen=True)
class PdfInfo:
    page_count: int
    page_dpi: tuple[float, ...]
    page_size_pt: tuple[tuple[float, float], ...]


def _open(path: Path) -> pikepdf.Pdf:
    try:
        pdf = pikepdf.open(path)
    except pikepdf.PasswordError as exc:
        raise PdfEncryptedError(path.name) from exc
    except (pikepdf.PdfError, OSError, ValueError) as exc:
        raise ImageCorrupt(f"{path.name}: {exc}") from exc
    if pdf.is_encrypted:
        pdf.close()
        raise PdfEncryptedError(path.name)
    return pdf


def _active_content(pdf: pikepdf.Pdf) -> str | None:
    """Name of the first active-content marker found, or None.

    An /OpenAction that is only a destination (open at page N) is harmless and allowed;
    an /OpenAction action dictionary is refused.
    """
    if isinstance(pdf.Root.get("/OpenAction"), pikepdf.Dictionary):
        return "/OpenAction"
    for obj in pdf.objects:
        if not isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
            continue
        for key in ACTIVE_KEYS:
            if key in obj:
                return key
        if obj.get("/S") in (pikepdf.Name.JavaScript, pikepdf.Name.Launch):
            return str(obj.get("/S"))
    return None


def _concat(ctm: tuple[float, ...], operands: Iterable[Any]) -> tuple[float, float, float, float, float, float]:
    """``cm``: the matrix of the operands, then the current transformation matrix (PDF 32000 §8.4.4)."""
    a, b, c, d, e, f = (float(v) for v in operands)
    p, q, r, s, t, u = ctm
    return (a * p + b * r, a * q + b * s, c * p + d * r, c * q + d * s, e * p + f * r + t, e * q + f * s + u)


def _drawn_dpi(page: pikepdf.Page) -> float | None:
    """Highest resolution at which the page's content stream paints one of its images (follows q/Q/cm)."""
    images = {
        str(name): obj
        for name, obj in page.resources.get("/XObject", {}).items()
        if obj.get("/Subtype") == pikepdf.Name.Image
    }
    ctm = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    stack: list[tuple[float, float, float, float, float, float]] = []
    best = 0.0
    for instruction in pikepdf.parse_content_stream(page, "q Q cm Do"):
        operands, op = instruction.operands, str(instruction.operator)
        if op == "q":
            stack.append(ctm)
        elif op == "Q" and stack:
            ctm = stack.pop()
        elif op == "cm" and len(operands) == 6:
            ctm = _concat(ctm, operands)
        elif op == "Do" and operands and str(operands[0]) in images:
            drawn_width_in = math.hypot(ctm[0], ctm[1]) / 72.0
            width_px = int(images[str(operands[0])].get("/Width", 0))
            if drawn_width_in > 0 and width_px > 0:
                best = max(best, width_px / drawn_width_in)
    return best or None


def _native_dpi(page: pikepdf.Page, width_pt: float) -> float:
    """Resolution of the images as painted; else of the widest image, assuming it spans the page width."""
    try:
        drawn = _drawn_dpi(page)
    except (pikepdf.PdfError, TypeError, ValueError, AttributeError):
        drawn = None
    if drawn:
        return min(MAX_DPI, max(MIN_DPI, round(drawn)))
    widest = 0
    try:
        for image in page.get_images().values():
            widest = max(widest, int(image.get("/Width", 0)))
    except (pikepdf.PdfError, TypeError, ValueError):
        widest = 0
    if widest <= 0 or width_pt <= 0:
        return DEFAULT_DPI
    return min(MAX_DPI, max(MIN_DPI, round(widest * 72.0 / width_pt)))


def inspect(path: Path, max_pixels: int) -> PdfInfo:
    """Validate a PDF (not encrypted, no active content, pages within pixel limits) and describe its pages."""
    with _open(path) as pdf:
        key = _active_content(pdf)
        if key is not None:
            raise PdfActiveContent(f"{path.name}: {key}")
        dpis: list[float] = []
        sizes: list[tuple[float, float]] = []
        try:
            for index, page in enumerate(pdf.pages):
                box = [float(v) for v in page.mediabox]
                width_pt, height_pt = abs(box[2] - box[0]), abs(box[3] - box[1])
                dpi = _native_dpi(page, width_pt)
                pixels = (width_pt * dpi / 72.0) * (height_pt * dpi / 72.0)
                if pixels > max_pixels:
                    raise ImageTooLarge(f"{path.name} page {index + 1}: {pixels:.0f} > {max_pixels} pixels")
                dpis.append(dpi)
                sizes.append((width_pt, height_pt))
        except (pikepdf.PdfError, TypeError, ValueError) as exc:
            raise ImageCorrupt(f"{path.name}: {exc}") from exc
    return PdfInfo(page_count=len(dpis), page_dpi=tuple(dpis), page_size_pt=tuple(sizes))


@dataclass
class PdfPageImage:
    """One page of a PDF as an image: upright (the page's /Rotate applied), with its resolution.

    ``embedded`` is True when the image is the page's own scan at its pixel size; then ``jpeg`` holds
    its bytes when they are a baseline-embeddable JPEG (stored as scanned: ``rotation`` clockwise
    turns them upright, as an EXIF orientation would), else None.
    """

    image: Image.Image
    dpi: float
    embedded: bool = False
    rotation: int = 0
    jpeg: bytes | None = None
    jpeg_size: tuple[int, int] | None = None
    jpeg_gray: bool = False


def _invisible_form(form: pikepdf.Object, render_mode: int, depth: int = 0) -> bool:
    """True when a form XObject paints nothing visible: only invisible text (render mode 3), state
    changes and forms of the same kind (a few levels deep)."""
    if depth > 3:
        return False
    resources = form.get("/Resources", pikepdf.Dictionary())
    xobjects = resources.get("/XObject", pikepdf.Dictionary())
    stack: list[int] = []
    for instruction in pikepdf.parse_content_stream(form):
        operands, op = instruction.operands, str(instruction.operator)
        if op == "q":
            stack.append(render_mode)
        elif op == "Q" and stack:
            render_mode = stack.pop()
        elif op == "Tr" and operands:
            render_mode = int(operands[0])
        elif (op in _SHOWING and render_mode != 3) or op in _PAINTING:
            return False
        elif op == "Do":
            obj = xobjects.get(str(operands[0])) if operands else None
            if obj is None or obj.get("/Subtype") != pikepdf.Name.Form:
                return False
            if not _invisible_form(obj, render_mode, depth + 1):
                return False
    return True


def _full_page_image(page: pikepdf.Page) -> tuple[pikepdf.Object, float] | None:
    """The one image a page paints over its whole media box, upright, and its resolution; None when
    the page paints anything else visible (vector marks, visible text, forms, inline or more images)."""
    box = [float(v) for v in page.mediabox]
    width_pt, height_pt = abs(box[2] - box[0]), abs(box[3] - box[1])
    xobjects: Any = page.resources.get("/XObject", {})
    ctm = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    stack: list[tuple[tuple[float, ...], int]] = []
    render_mode = 0
    found: tuple[pikepdf.Object, tuple[float, ...]] | None = None
    for instruction in pikepdf.parse_content_stream(page):
        operands, op = instruction.operands, str(instruction.operator)
        if op == "q":
            stack.append((ctm, render_mode))
        elif op == "Q" and stack:
            ctm, render_mode = stack.pop()  # type: ignore[assignment]
        elif op == "cm" and len(operands) == 6:
            ctm = _concat(ctm, operands)
        elif op == "Tr" and operands:
            render_mode = int(operands[0])
        elif (op in _SHOWING and render_mode != 3) or op in _PAINTING:
            return None
        elif op == "Do":
            obj = xobjects.get(str(operands[0])) if operands else None
            if obj is not None and obj.get("/Subtype") == pikepdf.Name.Form and _invisible_form(obj, render_mode):
                continue  # e.g. OCRmyPDF's text layer: a form holding only invisible text
            if found is not None or obj is None or obj.get("/Subtype") != pikepdf.Name.Image:
                return None
            found = (obj, ctm)
    if found is None:
        return None
    image, (a, b, c, d, e, f) = found
    # Painted upright (no turn, no flip) and covering the page: the unit square maps onto the media box.
    if abs(b) > 1e-6 or abs(c) > 1e-6 or a <= 0 or d <= 0:
        return None
    tol_x, tol_y = FULL_PAGE_TOLERANCE * width_pt, FULL_PAGE_TOLERANCE * height_pt
    left, bottom = min(box[0], box[2]), min(box[1], box[3])
    if abs(e - left) > tol_x or abs(f - bottom) > tol_y or abs(a - width_pt) > tol_x or abs(d - height_pt) > tol_y:
        return None
    if image.get("/ImageMask") or "/SMask" in image or "/Mask" in image:
        return None
    width_px = int(image.get("/Width", 0))
    if width_px <= 0:
        return None
    return image, min(MAX_DPI, max(MIN_DPI, round(width_px * 72.0 / a, 2)))


def _embedded(page: pikepdf.Page) -> PdfPageImage | None:
    """The page's scan as embedded, or None when it must be rasterised."""
    try:
        found = _full_page_image(page)
        if found is None:
            return None
        stream, dpi = found
        if not isinstance(stream, pikepdf.Stream):
            return None
        pdf_image = pikepdf.PdfImage(stream)
        image = pdf_image.as_pil_image()
        image.load()
        rotate = int(page.obj.get("/Rotate", 0)) % 360
    except Exception as exc:  # any decoder failure: rasterise the page instead
        log.debug("page image not taken as embedded (%s: %s): rasterising", type(exc).__name__, exc)
        return None
    if rotate % 90:
        return None
    jpeg = None
    filters = [str(f) for f in pdf_image.filters]
    gray = image.mode == "L"
    plain = not any(pdf_image.decode_parms) and "/Decode" not in stream
    if filters in (["/DCTDecode"], ["/FlateDecode", "/DCTDecode"]) and image.mode in ("RGB", "L") and plain:
        # The JPEG as scanned (OCRmyPDF wraps it in Flate too: take that off, keep the JPEG bytes).
        raw = stream.read_raw_bytes()
        jpeg = zlib.decompress(raw) if len(filters) > 1 else raw
    turn = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_90}
    upright = image.transpose(turn[rotate]) if rotate else image
    return PdfPageImage(
        upright,
        float(dpi),
        embedded=True,
        rotation=rotate,
        jpeg=jpeg,
        jpeg_size=image.size if jpeg is not None else None,
        jpeg_gray=gray and jpeg is not None,
    )


def page_images(path: Path, *, max_pixels: int, timeout_s: int = 120) -> Iterator[PdfPageImage]:
    """Each page in order: its embedded scan when it is one full-page image, else rasterised. Pages are
    decoded one at a time (a long PDF is never held in memory whole)."""
    info = inspect(path, max_pixels)
    binary = shutil.which("pdftoppm")
    with _open(path) as pdf, tempfile.TemporaryDirectory(prefix="sohoa-pdf-") as tmp:
        for index, dpi in enumerate(info.page_dpi, 1):
            page = _embedded(pdf.pages[index - 1])
            if page is not None and page.image.width * page.image.height <= max_pixels:
                log.debug("%s page %s: embedded image %sx%s at %s dpi", path.name, index, *page.image.size, page.dpi)
                yield page
                continue
            if binary is None:
                raise OcrEngineUnavailable("pdftoppm (poppler-utils) is not installed")
            yield PdfPageImage(_rasterise_page(binary, path, index, dpi, Path(tmp), timeout_s), float(dpi))


def _rasterise_page(binary: str, path: Path, index: int, dpi: float, tmp: Path, timeout_s: int) -> Image.Image:
    prefix = tmp / f"p{index}"
    page = str(index)
    cmd = [binary, "-r", str(dpi), "-f", page, "-l", page, "-singlefile", "-png", str(path), str(prefix)]
    try:
        subprocess.run(cmd, check=True, capture_output=True, timeout=timeout_s)
    except subprocess.TimeoutExpired as exc:
        raise OcrFailed(f"{path.name} page {index}: pdftoppm timed out") from exc
    except subprocess.CalledProcessError as exc:
        detail = exc.stderr.decode(errors="replace")[-200:]
        raise ImageCorrupt(f"{path.name} page {index}: {detail}") from exc
    png = prefix.with_suffix(".png")
    with Image.open(png) as image:
        rgb = image.convert("RGB")
    png.unlink()
    log.debug("%s page %s rasterised at %s dpi", path.name, index, dpi)
    return rgb
