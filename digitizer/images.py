"""Load and validate scanned files: format sniffing, pixel limits before decoding, EXIF orientation,
resolution from metadata (or estimated from A4), RGB conversion, multi-frame TIFF, rasterised PDF."""

from __future__ import annotations

import logging
import struct
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from digitizer import pdf_input
from digitizer.errors import FileNotFound, ImageCorrupt, ImageEmpty, ImageTooLarge, NotAnImage

log = logging.getLogger(__name__)

RASTER_FORMATS = {"JPEG", "MPO", "PNG", "TIFF", "BMP", "WEBP"}
A4_INCHES = (8.27, 11.69)
PLAUSIBLE_DPI = (50.0, 2400.0)
BLANK_STDDEV = 1.0
_EXIF_ROTATION = {1: 0, 2: 0, 3: 180, 4: 180, 5: 90, 6: 90, 7: 270, 8: 270}


@dataclass
class SourcePage:
    """One page as scanned: upright per EXIF, RGB, with its resolution."""

    image: Image.Image
    dpi: float
    rotation: int = 0
    warnings: list[str] = field(default_factory=list)
    source: str = ""
    jpeg: bytes | None = None
    jpeg_size: tuple[int, int] | None = None
    jpeg_gray: bool = False


TIFF_MAGICS = (b"II*\x00", b"MM\x00*")  # classic TIFF, both byte orders (BigTIFF is not read)


def sniff(head: bytes) -> str | None:
    """Container kind from the first bytes: "raster", "pdf" or None when unsupported."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    raster_magics = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", *TIFF_MAGICS, b"BM")
    if head.startswith(raster_magics) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return "raster"
    return None


def _check_file(path: Path) -> str:
    if not path.is_file():
        raise FileNotFound(path.name)
    if path.stat().st_size == 0:
        raise ImageEmpty(f"{path.name}: 0 bytes")
    with path.open("rb") as fh:
        head = fh.read(16)
    kind = sniff(head)
    if kind is None:
        raise NotAnImage(path.name)
    return kind


# What Pillow raises on a damaged file besides its I/O errors: a TIFF frame cut off inside its
# directory has no size (``TypeError("Missing dimensions")``, met on seeking to it), a bad tag
# table an IndexError or struct.error. Each is the file's fault: IMAGE_CORRUPT, never a retry.
_UNREADABLE = (OSError, SyntaxError, ValueError, TypeError, struct.error, EOFError, IndexError)


def _open(path: Path, max_pixels: int) -> Image.Image:
    """Open lazily (header only) and refuse oversized images before any pixel is decoded."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge(f"{path.name}: {exc}") from exc
    except UnidentifiedImageError as exc:
        raise NotAnImage(path.name) from exc
    except _UNREADABLE as exc:
        raise ImageCorrupt(f"{path.name}: {exc}") from exc
    if image.format not in RASTER_FORMATS:
        image.close()
        raise NotAnImage(f"{path.name}: {image.format}")
    _check_pixels(image, path.name, max_pixels)
    return image


def _check_pixels(image: Image.Image, name: str, max_pixels: int) -> None:
    width, height = image.size
    if width <= 0 or height <= 0:
        raise ImageCorrupt(f"{name}: {width}x{height}")
    if width * height > max_pixels:
        raise ImageTooLarge(f"{name}: {width}x{height} > {max_pixels} pixels")


def count_pages(path: Path, max_pixels: int) -> int:
    """Pages the file will contribute, read from headers only; validates format and pixel limits."""
    kind = _check_file(path)
    if kind == "pdf":
        return pdf_input.inspect(path, max_pixels).page_count
    image = _open(path, max_pixels)
    with image:
        try:
            return int(getattr(image, "n_frames", 1))
        except _UNREADABLE as exc:
            raise ImageCorrupt(f"{path.name}: {exc}") from exc


def load_pages(path: Path, *, max_pixels: int, timeout_s: int = 120) -> Iterator[SourcePage]:
    """Yield the pages of one file in order (every frame of a TIFF, every page of a PDF)."""
    kind = _check_file(path)
    if kind == "pdf":
        for item in pdf_input.page_images(path, max_pixels=max_pixels, timeout_s=timeout_s):
            page = _finish(to_rgb(item.image), item.dpi, estimated=False, rotation=item.rotation, name=path.name)
            page.jpeg, page.jpeg_size, page.jpeg_gray = item.jpeg, item.jpeg_size, item.jpeg_gray
            yield page
        return
    image = _open(path, max_pixels)
    with image:
        try:
            for index, frame in enumerate(ImageSequence.Iterator(image)):
                _check_pixels(frame, f"{path.name}[{index}]", max_pixels)
                page = _decode_frame(frame, path.name)
                if index == 0 and _embeddable_jpeg(image):
                    page.jpeg = path.read_bytes()
                    page.jpeg_size = image.size
                    page.jpeg_gray = image.mode == "L"
                yield page
        except Image.DecompressionBombError as exc:
            raise ImageTooLarge(f"{path.name}: {exc}") from exc
        except _UNREADABLE as exc:
            raise ImageCorrupt(f"{path.name}: {exc}") from exc


def _embeddable_jpeg(image: Image.Image) -> bool:
    """True when the file's bytes can go into a PDF as they are (DCTDecode), turned by a matrix."""
    orientation = image.getexif().get(0x0112, 1)
    return (
        image.format == "JPEG"
        and image.mode in ("RGB", "L")
        and orientation in (None, 1, 3, 6, 8)
        and int(getattr(image, "n_frames", 1)) == 1
    )


def _decode_frame(frame: Image.Image, name: str) -> SourcePage:
    frame.load()
    orientation = frame.getexif().get(0x0112, 1)
    rotation = _EXIF_ROTATION.get(orientation, 0) if isinstance(orientation, int) else 0
    dpi = _metadata_dpi(frame.info)
    upright = ImageOps.exif_transpose(frame) if rotation or orientation not in (1, None) else frame
    rgb = to_rgb(upright)
    if rgb is frame:
        rgb = frame.copy()  # detach from the file, whose next seek would change this frame
    if dpi is None:
        return _finish(rgb, estimate_dpi(rgb.size), estimated=True, rotation=rotation, name=name)
    return _finish(rgb, dpi, estimated=False, rotation=rotation, name=name)


def _finish(image: Image.Image, dpi: float, *, estimated: bool, rotation: int, name: str) -> SourcePage:
    if _is_uniform(image):
        raise ImageEmpty(f"{name}: uniform image")
    page = SourcePage(image=image, dpi=dpi, rotation=rotation, source=name)
    if estimated:
        page.warnings.append("DPI_ESTIMATED")
        log.debug("%s: no resolution in metadata, estimated %.1f dpi from A4", name, dpi)
    return page


def _metadata_dpi(info: Mapping[str | tuple[int, int], Any]) -> float | None:
    value = info.get("dpi")
    if value is None:
        return None
    try:
        x, y = (float(v) for v in value) if isinstance(value, tuple | list) else (float(value),) * 2
    except (TypeError, ValueError):
        return None
    dpi = min(x, y)
    if PLAUSIBLE_DPI[0] <= dpi <= PLAUSIBLE_DPI[1]:
        return dpi
    return None


def estimate_dpi(size: tuple[int, int]) -> float:
    """Resolution at which a page of ``size`` pixels fits on A4 (portrait or landscape)."""
    short, long = sorted(size)
    return round(max(short / A4_INCHES[0], long / A4_INCHES[1]), 1)


def to_rgb(image: Image.Image) -> Image.Image:
    """RGB copy; transparency is composited on white, 16-bit gray scaled to 8 bits."""
    if image.mode == "RGB":
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(image, dtype=np.float64)
        top = arr.max() if arr.max() > 255 else 255.0
        return Image.fromarray(np.clip(arr * 255.0 / top, 0, 255).astype(np.uint8), "L").convert("RGB")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def _is_uniform(image: Image.Image) -> bool:
    small = image.convert("L")
    small.thumbnail((400, 400))
    return float(np.asarray(small, dtype=np.float32).std()) < BLANK_STDDEV
