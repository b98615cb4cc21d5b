"""Locate a font that really has the Vietnamese glyphs, for appearances and the seal image.

Liberation Serif is metric-compatible with Times New Roman (NĐ 30/2020 asks for Times 10), but
only Liberation 2.x (Debian ``fonts-liberation2``) carries the Vietnamese letters; the 1.07 files of
``fonts-liberation`` lack Ư, ờ, ệ and others. Each candidate is therefore checked for coverage and
DejaVu Serif is the fallback.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from fontTools.ttLib import TTFont

from signing.errors import SignatureFontUnavailable

log = logging.getLogger(__name__)

VIETNAMESE_LETTERS = (
    "ĂÂĐÊÔƠƯăâđêôơư"
    "ÀÁẢÃẠẰẮẲẴẶẦẤẨẪẬÈÉẺẼẸỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌỒỐỔỖỘỜỚỞỠỢÙÚỦŨỤỪỨỬỮỰỲÝỶỸỴ"
    "àáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
)

_REGULAR: tuple[str, ...] = (
    "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)
_BOLD: tuple[str, ...] = (
    "/usr/share/fonts/truetype/liberation2/LiberationSerif-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSerif-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
)


def covers_vietnamese(path: Path) -> bool:
    """Whether the font maps every Vietnamese letter to a glyph."""
    try:
        with TTFont(str(path), lazy=True) as font:
            cmap = font.getBestCmap() or {}
    except Exception:
        log.warning("Cannot read font %s", path)
        return False
    return all(ord(ch) in cmap for ch in VIETNAMESE_LETTERS)


@cache
def find_font(bold: bool = False) -> Path:
    """First installed serif font with full Vietnamese coverage (Times-compatible first)."""
    candidates = _BOLD if bold else _REGULAR
    for candidate in candidates:
        path = Path(candidate)
        if path.is_file() and covers_vietnamese(path):
            return path
        if path.is_file():
            log.info("Font %s lacks Vietnamese glyphs; trying the next one", path)
    raise SignatureFontUnavailable(", ".join(candidates))
