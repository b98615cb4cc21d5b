"""Scanned PDFs as input: refuse encrypted or active PDFs, rasterise each page at its native resolution."""

from __future__ import annotations

import logging
import math
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pikepdf
from PIL import Image

from digitizer.errors import ImageCorrupt, ImageTooLarge, OcrEngineUnavailable, OcrFailed, PdfActiveContent
from digitizer.errors import PdfEncrypted as PdfEncryptedError

log = logging.getLogger(__name__)

DEFAULT_DPI = 300.0
MIN_DPI, MAX_DPI = 72.0, 1200.0
ACTIVE_KEYS = ("/JS", "/JavaScript", "/Launch", "/AA", "/RichMedia")


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
            a, b, c, d, e, f = (float(v) for v in operands)
            p, q_, r, s_, t, u = ctm
            ctm = (
                a * p + b * r,
                a * q_ + b * s_,
                c * p + d * r,
                c * q_ + d * s_,
                e * p + f * r + t,
                e * q_ + f * s_ + u,
            )
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


def rasterise(path: Path, *, max_pixels: int, timeout_s: int = 120) -> Iterator[tuple[Image.Image, float]]:
    """Yield (RGB image, dpi) for each page, rendered by pdftoppm at the page's native resolution."""
    info = inspect(path, max_pixels)
    binary = shutil.which("pdftoppm")
    if binary is None:
        raise OcrEngineUnavailable("pdftoppm (poppler-utils) is not installed")
    with tempfile.TemporaryDirectory(prefix="sohoa-pdf-") as tmp:
        for index, dpi in enumerate(info.page_dpi, 1):
            prefix = Path(tmp) / f"p{index}"
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
            yield rgb, float(dpi)
