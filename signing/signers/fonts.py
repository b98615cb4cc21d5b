"""Locate a font that really has the Vietnamese glyphs, for appearances and the seal image.

Liberation Serif is metric-compatible with Times New Roman (NĐ 30/2020 asks for Times 10), but
only Liberation 2.x (Debian ``fonts-liberation2``) carries the Vietnamese letters; the 1.07 files of
``fonts-liberation`` lack Ư, ờ, ệ and others. Each candidate is therefore checked for coverage and
DejaVu Serif is the fallback.
"""

from __future__ import annotations

import logging
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

from fontTools import subset
from fontTools.ttLib import TTFont
from fontTools.ttLib.scaleUpem import scale_upem
from pyhanko.pdf_utils.font.opentype import GlyphAccumulator, GlyphAccumulatorFactory
from pyhanko.pdf_utils.writer import BasePdfFileWriter

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
_ITALIC: tuple[str, ...] = (
    "/usr/share/fonts/truetype/liberation2/LiberationSerif-Italic.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSerif-Italic.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Italic.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Oblique.ttf",
)
_BOLD_ITALIC: tuple[str, ...] = (
    "/usr/share/fonts/truetype/liberation2/LiberationSerif-BoldItalic.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSerif-BoldItalic.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif-BoldItalic.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-BoldOblique.ttf",
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
def find_font(bold: bool = False, italic: bool = False) -> Path:
    """First installed serif font of that style with full Vietnamese coverage (Times-compatible first).

    Liberation 2 and DejaVu (``fonts-liberation2``, ``fonts-dejavu-core``/``fonts-dejavu-extra``)
    carry every style the NĐ 30/2020 form needs: regular, bold, italic, bold italic.
    """
    candidates = {(False, False): _REGULAR, (True, False): _BOLD, (False, True): _ITALIC, (True, True): _BOLD_ITALIC}[
        (bold, italic)
    ]
    for candidate in candidates:
        path = Path(candidate)
        if path.is_file() and covers_vietnamese(path):
            return path
        if path.is_file():
            log.info("Font %s lacks Vietnamese glyphs; trying the next one", path)
    raise SignatureFontUnavailable(", ".join(candidates))


# Unicode blocks kept in the embedded subset: Basic Latin, Latin-1, Latin Extended-A/B,
# combining diacritics, Latin Extended Additional (Vietnamese), punctuation, ★ and a few symbols.
_KEEP_RANGES = (
    (0x20, 0x24F),
    (0x300, 0x36F),
    (0x1E00, 0x1EFF),
    (0x2000, 0x206F),
    (0x20AB, 0x20AB),
    (0x2116, 0x2116),
    (0x2605, 0x2605),
)


@cache
def prepared_font_bytes(font_file: str) -> bytes:
    """The font cut to Latin + Vietnamese and rescaled to 1000 units per em.

    pyHanko 0.38 writes glyph widths (/W) and TJ adjustments in font units, which PDF reads as
    1/1000 em: right for 1000-upem CFF fonts, but TrueType fonts (2048 upem: DejaVu, Liberation)
    then render with every glyph twice as far apart. Rescaling the font avoids that; cutting it
    first makes the rescale (once per process) and every later parse cheap.
    """
    font = TTFont(font_file)
    if "FFTM" in font:  # FontForge timestamp table; fontTools cannot subset it and warns
        del font["FFTM"]
    options = subset.Options()
    options.hinting = False
    options.layout_features = ["*"]
    options.notdef_outline = True
    options.name_IDs = ["*"]
    subsetter = subset.Subsetter(options=options)
    subsetter.populate(unicodes=[cp for lo, hi in _KEEP_RANGES for cp in range(lo, hi + 1)])
    subsetter.subset(font)
    if font["head"].unitsPerEm != 1000:
        scale_upem(font, 1000)
    buf = BytesIO()
    font.save(buf)
    return buf.getvalue()


class VietnameseFontFactory(GlyphAccumulatorFactory):
    """GlyphAccumulatorFactory that embeds :func:`prepared_font_bytes` of ``font_file``."""

    def create_font_engine(self, writer: BasePdfFileWriter, obj_stream: Any = None) -> GlyphAccumulator:
        if obj_stream is None and writer.stream_xrefs and self.create_objstream_if_needed:
            obj_stream = writer.prepare_object_stream()
        return GlyphAccumulator(
            writer=writer,
            font_handle=BytesIO(prepared_font_bytes(self.font_file)),
            font_size=self.font_size,
            ot_script_tag=self.ot_script_tag,
            ot_language_tag=self.ot_language_tag,
            writing_direction=self.writing_direction,
            bcp47_lang_code=self.bcp47_lang_code,
            obj_stream=obj_stream,
        )
