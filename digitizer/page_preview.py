"""A page of a digitised component as a bounded PNG, for the officer's review workspace."""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from pathlib import Path

from PIL import Image

from digitizer.errors import OcrEngineUnavailable

MAX_SIDE = 1600  # pixels: sharp enough to compare with the paper on a counter screen, a few hundred KiB


def pdf_page_png(pdf: Path, page: int, *, max_side: int = MAX_SIDE, timeout_s: int = 60) -> bytes:
    """Page ``page`` (1-based) of ``pdf`` rendered by pdftoppm, its longer side at most ``max_side`` pixels."""
    binary = shutil.which("pdftoppm")
    if binary is None:
        raise OcrEngineUnavailable("pdftoppm (poppler-utils) is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "page"
        subprocess.run(
            [
                binary,
                "-png",
                "-f",
                str(page),
                "-l",
                str(page),
                "-scale-to",
                str(max_side),
                "-singlefile",
                str(pdf),
                out,
            ],
            check=True,
            capture_output=True,
            timeout=timeout_s,
        )
        return (out.with_suffix(".png")).read_bytes()


def image_png(path: Path, *, max_side: int = MAX_SIDE, max_pixels: int = 120_000_000) -> bytes:
    """A raw scan (JPEG, PNG, TIFF: its first frame) as a PNG, its longer side at most ``max_side`` pixels."""
    try:
        with Image.open(path) as img:
            if img.width * img.height > max_pixels:
                raise ValueError(f"{img.width}x{img.height} pixels is more than {max_pixels}")
            img.draft("RGB", (max_side, max_side))
            frame = img.convert("RGB")
    except Image.DecompressionBombError as exc:
        raise ValueError(str(exc)) from exc
    frame.thumbnail((max_side, max_side))
    buf = io.BytesIO()
    frame.save(buf, "PNG", optimize=True)
    return buf.getvalue()
