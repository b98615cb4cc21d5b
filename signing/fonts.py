"""Locate a TrueType font with Vietnamese glyphs for appearances and the seal image."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from signing.errors import SignatureFontUnavailable

# Liberation Serif is metric-compatible with Times New Roman (NĐ 30/2020 asks for Times 10).
SERIF_CANDIDATES: tuple[str, ...] = (
    "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)
SERIF_BOLD_CANDIDATES: tuple[str, ...] = (
    "/usr/share/fonts/truetype/liberation/LiberationSerif-Bold.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationSerif-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    *SERIF_CANDIDATES,
)


@cache
def find_font(bold: bool = False) -> Path:
    """First installed serif font (Times-compatible first, DejaVu as fallback)."""
    for candidate in SERIF_BOLD_CANDIDATES if bold else SERIF_CANDIDATES:
        path = Path(candidate)
        if path.is_file():
            return path
    raise SignatureFontUnavailable(", ".join(SERIF_CANDIDATES))
