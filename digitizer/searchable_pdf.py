"""Searchable PDF: each page is the colour scan as JPEG with an invisible text layer on top.

The text layer uses a glyph-less font the way Tesseract and OCRmyPDF do: a Type0 font with
Identity-H encoding over a CIDFontType2 that embeds Tesseract's ``pdf.ttf`` (every CID maps to
one empty glyph), CIDs are the UTF-16 code units of the text and a ToUnicode CMap maps each CID
to itself, so copy/paste and ``pdftotext`` return the recognised Vietnamese text.
"""

from __future__ import annotations

import io
import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path

import pikepdf
from PIL import Image

from digitizer.model import Word
from digitizer.pdfa import add_pdfa_identity, glyphless_font
from digitizer.textnorm import nfc

GLYPHLESS_TTF = Path("/usr/share/tesseract-ocr/5/tessdata/pdf.ttf")
JPEG_QUALITY = 85
CHAR_WIDTH = 500  # glyph width in 1/1000 em (DW of the CIDFont)
PRODUCER = "sohoa"

_TO_UNICODE = b"""/CIDInit /ProcSet findresource begin
12 dict begin
begincmap
/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
/CMapName /Adobe-Identity-UCS def
/CMapType 2 def
1 begincodespacerange
<0000> <FFFF>
endcodespacerange
1 beginbfrange
<0000> <FFFF> <0000>
endbfrange
endcmap
CMapName currentdict /CMapDefineResource pop
end
end
"""


@dataclass
class PdfPage:
    """What one PDF page needs: the encoded scan, its geometry and the recognised words.

    ``width_px`` x ``height_px`` is the upright, deskewed page (the frame of the words). The JPEG may
    be the scan exactly as stored (``image_size`` its pixel size, ``gray`` for one component), drawn
    turned clockwise by ``rotation_cw`` degrees about the page centre, so the colour original is
    kept byte for byte at 100% scale while the page shows straight.
    """

    jpeg: bytes
    width_px: int
    height_px: int
    dpi: float
    words: list[Word] = field(default_factory=list)
    image_size: tuple[int, int] | None = None
    rotation_cw: float = 0.0
    gray: bool = False

    def image_draw(self) -> bytes:
        """Content-stream operators that paint the image XObject /Im0 onto the page."""
        scale = 72.0 / self.dpi
        iw, ih = self.image_size or (self.width_px, self.height_px)
        w, h = iw * scale, ih * scale
        if not self.rotation_cw % 360:
            return f"q {w:.4f} 0 0 {h:.4f} 0 0 cm /Im0 Do Q\n".encode("ascii")
        a = math.radians(self.rotation_cw)
        cos, sin = math.cos(a), math.sin(a)
        cx, cy = self.width_px * scale / 2.0, self.height_px * scale / 2.0
        return (
            f"q 1 0 0 1 {cx:.4f} {cy:.4f} cm {cos:.6f} {-sin:.6f} {sin:.6f} {cos:.6f} 0 0 cm "
            f"{w:.4f} 0 0 {h:.4f} {-w / 2:.4f} {-h / 2:.4f} cm /Im0 Do Q\n"
        ).encode("ascii")


def encode_jpeg(image: Image.Image, dpi: float, quality: int = JPEG_QUALITY) -> bytes:
    buf = io.BytesIO()
    image.convert("RGB").save(buf, "JPEG", quality=quality, optimize=True, dpi=(dpi, dpi))
    return buf.getvalue()


def _glyphless_font_program() -> bytes:
    try:
        return GLYPHLESS_TTF.read_bytes()
    except OSError:
        return glyphless_font()


def _add_font(pdf: pikepdf.Pdf) -> pikepdf.Object:
    cid_to_gid = pdf.make_stream(zlib.compress(b"\x00\x01" * 65536), Filter=pikepdf.Name.FlateDecode)
    descriptor = pikepdf.Dictionary(
        Type=pikepdf.Name.FontDescriptor,
        FontName=pikepdf.Name.GlyphLessFont,
        Flags=5,
        FontBBox=[0, 0, CHAR_WIDTH, 1000],
        ItalicAngle=0,
        Ascent=1000,
        Descent=-1,
        CapHeight=1000,
        StemV=80,
    )
    descriptor.FontFile2 = pdf.make_stream(_glyphless_font_program())
    cid_font = pikepdf.Dictionary(
        Type=pikepdf.Name.Font,
        Subtype=pikepdf.Name.CIDFontType2,
        BaseFont=pikepdf.Name.GlyphLessFont,
        CIDSystemInfo=pikepdf.Dictionary(Registry="Adobe", Ordering="Identity", Supplement=0),
        FontDescriptor=pdf.make_indirect(descriptor),
        DW=CHAR_WIDTH,
        CIDToGIDMap=cid_to_gid,
    )
    font = pikepdf.Dictionary(
        Type=pikepdf.Name.Font,
        Subtype=pikepdf.Name.Type0,
        BaseFont=pikepdf.Name.GlyphLessFont,
        Encoding=pikepdf.Name("/Identity-H"),
        DescendantFonts=[pdf.make_indirect(cid_font)],
        ToUnicode=pdf.make_stream(_TO_UNICODE),
    )
    return pdf.make_indirect(font)


def _utf16_hex(text: str) -> str:
    return text.encode("utf-16-be").hex().upper()


def text_layer(words: Sequence[Word], height_px: int, dpi: float) -> bytes:
    """Content stream drawing ``words`` invisibly (render mode 3).

    All words of a line share one baseline (the line's lowest box edge) and one font size (the
    line's height), so small marks such as "-" stay on their line for text extraction; each word
    is stretched with Tz to span its box plus the gap to the next word, and words of a line are
    separated by a space.
    """
    scale = 72.0 / dpi
    ops: list[str] = ["BT", "3 Tr"]
    for _line, group in groupby(words, key=lambda w: w.line):
        line_words = [w for w in group if w.box[2] > 0 and w.box[3] > 0 and w.text.strip()]
        if not line_words:
            continue
        top = min(w.box[1] for w in line_words)
        bottom = max(w.box[1] + w.box[3] for w in line_words)
        size = max(1.0, (bottom - top) * scale)
        y = (height_px - bottom) * scale
        for i, word in enumerate(line_words):
            last = i == len(line_words) - 1
            text = nfc(word.text) + ("" if last else " ")
            left, _top, width, _height = word.box
            span = width if last else max(width, line_words[i + 1].box[0] - left)
            units = len(text.encode("utf-16-be")) // 2
            stretch = 100.0 * span * scale / (size * units * CHAR_WIDTH / 1000.0)
            ops.append(
                f"/F1 {size:.2f} Tf {stretch:.2f} Tz 1 0 0 1 {left * scale:.2f} {y:.2f} Tm <{_utf16_hex(text)}> Tj"
            )
    ops.append("ET")
    return "\n".join(ops).encode("ascii")


def build_pdf(pages: Sequence[PdfPage], *, title: str = "") -> bytes:
    """One PDF page per scan page, in order; page size in points = pixels * 72 / dpi; PDF/A-2b (PDF 1.7)."""
    pdf = pikepdf.new()
    font = _add_font(pdf)
    for page in pages:
        width_pt = page.width_px * 72.0 / page.dpi
        height_pt = page.height_px * 72.0 / page.dpi
        image = pdf.make_stream(
            page.jpeg,
            Type=pikepdf.Name.XObject,
            Subtype=pikepdf.Name.Image,
            Width=(page.image_size or (page.width_px, page.height_px))[0],
            Height=(page.image_size or (page.width_px, page.height_px))[1],
            ColorSpace=pikepdf.Name.DeviceGray if page.gray else pikepdf.Name.DeviceRGB,
            BitsPerComponent=8,
            Filter=pikepdf.Name.DCTDecode,
        )
        content = page.image_draw() + text_layer(page.words, page.height_px, page.dpi)
        pdf_page = pikepdf.Dictionary(
            Type=pikepdf.Name.Page,
            MediaBox=[0, 0, round(width_pt, 4), round(height_pt, 4)],
            Resources=pikepdf.Dictionary(
                XObject=pikepdf.Dictionary(Im0=image),
                Font=pikepdf.Dictionary(F1=font),
            ),
            Contents=pdf.make_stream(content),
        )
        pdf.pages.append(pikepdf.Page(pdf_page))
    add_pdfa_identity(pdf, producer=PRODUCER, title=title)
    out = io.BytesIO()
    pdf.save(out, min_version="1.7", compress_streams=True, deterministic_id=True)
    return out.getvalue()
