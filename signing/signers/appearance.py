"""Visible signature appearances (NĐ 30/2020 Phụ lục I, TT 01/2023 Điều 8).

Text is set in an embedded TrueType font with Vietnamese glyphs (see ``signing.signers.fonts``), black,
10 pt; times are shown in Vietnam time, ISO 8601 with ``+07:00``.
"""

from __future__ import annotations

import dataclasses
import io
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np
import pikepdf
from PIL import Image, ImageFont
from pyhanko.pdf_utils import layout
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.stamp import TextStampStyle

from signing.errors import PdfAlreadySigned
from signing.signers.fonts import VietnameseFontFactory, find_font
from signing.signers.pdfupdate import open_for_update
from signing.vntime import iso_vn

Anchor = Literal["top-left", "top-right", "bottom-left", "bottom-right"]

FONT_SIZE = 10
LEADING = 12
TEXT_MARGIN = 4
CM = 72 / 2.54
SEAL_SIZE_PT = 4 * CM


@dataclass(frozen=True)
class Appearance:
    """A stamp style plus where to put it; the box is resolved against the page when signing."""

    style: TextStampStyle
    width: float
    height: float
    page: int = 0
    anchor: Anchor = "top-left"
    margin_x: float = 1.5 * CM
    margin_y: float = 1.0 * CM

    def box_on(self, page_box: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
        """Field rectangle (x1, y1, x2, y2) in the page's user space for a page's visible box."""
        left, bottom, right, top = page_box
        x1 = left + self.margin_x if self.anchor.endswith("left") else right - self.margin_x - self.width
        y2 = top - self.margin_y if self.anchor.startswith("top") else bottom + self.margin_y + self.height
        return round(x1), round(y2 - self.height), round(x1 + self.width), round(y2)

    def page_index(self, page_count: int) -> int:
        """Resolve ``page`` (negative counts from the end) to a 0-based index."""
        index = self.page if self.page >= 0 else page_count + self.page
        if not 0 <= index < page_count:
            raise ValueError(f"appearance page {self.page} outside a {page_count}-page document")
        return index


def copy_stamp(
    signer_name: str,
    signed_at: datetime,
    copy_type: str = "Bản sao điện tử",
    agency: str | None = None,
    *,
    page: int = 0,
    anchor: Anchor = "top-left",
) -> Appearance:
    """Text-only stamp for digitised copies: copy type, agency, signer, signing time."""
    lines = [copy_type]
    if agency:
        lines.append(f"Cơ quan: {agency}")
    lines += [f"Người ký: {signer_name}", f"Thời gian ký: {iso_vn(signed_at)}"]
    width = _text_width(lines) + 2 * TEXT_MARGIN
    height = len(lines) * LEADING + 2 * TEXT_MARGIN
    style = TextStampStyle(
        stamp_text="\n".join(_escape(line) for line in lines),
        text_box_style=_text_box_style(),
        inner_content_layout=_text_layout(layout.AxisAlignment.ALIGN_MIN, TEXT_MARGIN),
        border_width=0,
        background=None,
    )
    return Appearance(style=style, width=width, height=height, page=page, anchor=anchor)


def result_seal(
    agency_name: str,
    seal_png: Path,
    signed_at: datetime,
    *,
    page: int = -1,
    anchor: Anchor = "bottom-right",
    seal_size_pt: float = SEAL_SIZE_PT,
) -> Appearance:
    """E-result appearance: red seal at actual size on the left, agency and time as text.

    The text starts at one third of the seal's width, so the seal overlaps the signature
    block by about a third as NĐ 30/2020 describes.
    """
    lines = ["Ký bởi:", agency_name, f"Thời gian ký: {iso_vn(signed_at)}"]
    text_left = seal_size_pt * 2 / 3
    width = text_left + _text_width(lines) + 2 * TEXT_MARGIN
    style = TextStampStyle(
        stamp_text="\n".join(_escape(line) for line in lines),
        text_box_style=_text_box_style(),
        inner_content_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MIN,
            y_align=layout.AxisAlignment.ALIGN_MID,
            margins=layout.Margins(left=round(text_left), right=TEXT_MARGIN),
            inner_content_scaling=layout.InnerScaling.NO_SCALING,
        ),
        border_width=0,
        background=PdfImage(_seal_image(Path(seal_png).resolve(), Path(seal_png).stat().st_mtime_ns)),
        background_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MIN,
            y_align=layout.AxisAlignment.ALIGN_MID,
            inner_content_scaling=layout.InnerScaling.SHRINK_TO_FIT,
        ),
        background_opacity=1.0,
    )
    return Appearance(style=style, width=width, height=seal_size_pt, page=page, anchor=anchor)


def _escape(line: str) -> str:
    # pyHanko interpolates stamp_text with %-formatting.
    return line.replace("%", "%%")


def _text_layout(x_align: layout.AxisAlignment, margin: int) -> layout.SimpleBoxLayoutRule:
    return layout.SimpleBoxLayoutRule(
        x_align=x_align,
        y_align=layout.AxisAlignment.ALIGN_MID,
        margins=layout.Margins.uniform(margin),
        inner_content_scaling=layout.InnerScaling.NO_SCALING,
    )


@cache
def _text_box_style() -> TextBoxStyle:
    font = VietnameseFontFactory(str(find_font()), font_size=FONT_SIZE)
    return TextBoxStyle(
        font=font,
        font_size=FONT_SIZE,
        leading=LEADING,
        border_width=0,
        box_layout_rule=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MIN,
            y_align=layout.AxisAlignment.ALIGN_MID,
            margins=layout.Margins.uniform(0),
            inner_content_scaling=layout.InnerScaling.NO_SCALING,
        ),
    )


@cache
def _measure_font() -> ImageFont.FreeTypeFont:
    # 1 pixel = 1 pt at this size, so getlength gives the advance in points.
    return ImageFont.truetype(str(find_font()), size=FONT_SIZE * 10)


def _text_width(lines: list[str]) -> float:
    font = _measure_font()
    return max(font.getlength(line) for line in lines) / 10 + 2


@cache
def _seal_image(path: Path, mtime_ns: int) -> Image.Image:
    with Image.open(path) as img:
        return img.convert("RGBA")


def make_room(pdf: bytes, appearance: Appearance, *, gap: float = 0.3 * CM, min_band: float = 0.0) -> bytes:
    """Grow the stamp's page so the stamp sits in a blank band beside the content instead of over it.

    Only the page box changes: the scanned image and its text layer keep their size and
    position (100% scale), with a band added above (top anchors) or below, and to the
    side when the page is narrower than the stamp. ``min_band`` makes the band at least that
    tall (room for a QR code beside the stamp).

    This is a full rewrite, so it is only for sohoa's own unsigned copies (a digitised copy, an
    officer's unsigned result draft, whose edit history carries nothing to preserve) before their
    first signature: an encrypted, signed or certified input is refused (PDF_ENCRYPTED,
    PDF_ALREADY_SIGNED) rather than silently decrypted or stripped of its signatures. A damaged
    or hybrid-reference draft is rewritten by qpdf first, as the signer would. Stamps on other
    documents are drawn in the signature's own incremental update (``sohoa sign`` does that).
    """
    pdf, parsed = open_for_update(pdf)
    try:
        if parsed.facts.signed or parsed.facts.certified:
            raise PdfAlreadySigned("make_room on a signed or certified PDF")
    finally:
        parsed.close()
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        page = doc.pages[appearance.page_index(len(doc.pages))]
        left, bottom, right, top = (float(v) for v in page.mediabox)
        band = max(appearance.height, min_band) + appearance.margin_y + gap
        need_width = appearance.width + 2 * appearance.margin_x
        right = max(right, left + need_width)
        if appearance.anchor.startswith("top"):
            top += band
        else:
            bottom -= band
        page.mediabox = pikepdf.Array([left, bottom, right, top])
        if "/CropBox" in page.obj:
            del page.obj["/CropBox"]
        out = io.BytesIO()
        doc.save(out, deterministic_id=True)
        return out.getvalue()


def in_blank_space(
    pdf: bytes, appearance: Appearance, *, dpi: int = 36, step: float = 0.25 * CM, clearance: float = 8.0
) -> Appearance:
    """The appearance moved to the first blank spot of its page nearest its corner, if there is one.

    On a document sohoa did not make, the stamp is drawn in the signature's own update (the page is
    never rebuilt), so it would print over the page's heading. The page is rendered (poppler, at
    low resolution, its visible box) and the stamp goes to the first place, scanning from its
    anchor corner across the top quarter of the page, where it covers no ink; where there is none
    (or the page is rotated, or cannot be rendered) it stays where it was asked to be.
    """
    ink = _ink_map(pdf, appearance, dpi)
    if ink is None:
        return appearance
    scale = dpi / 72
    height_px, width_px = ink.shape
    want_w, want_h = int(appearance.width * scale) + 2, int(appearance.height * scale) + 2
    if want_w >= width_px or want_h >= height_px:
        return appearance
    summed = np.pad(ink.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    stride = max(1, int(step * scale))
    pad = int(clearance * scale) + 1  # keep clear of the text around, not only off it
    first_y = int(appearance.margin_y * 0.5 * scale)
    left_side = appearance.anchor.endswith("left")
    for y in range(first_y, max(first_y + 1, height_px // 4), stride):
        if y + want_h > height_px:
            break
        xs = range(int(0.5 * CM * scale), width_px - want_w, stride)
        for x in xs if left_side else reversed(xs):
            top, bottom = max(0, y - pad), min(height_px, y + want_h + pad)
            left, right = max(0, x - pad), min(width_px, x + want_w + pad)
            covered = summed[bottom, right] - summed[top, right] - summed[bottom, left] + summed[top, left]
            if covered == 0:
                margin_x = x / scale if left_side else (width_px - x - want_w) / scale
                return dataclasses.replace(appearance, margin_x=margin_x, margin_y=y / scale)
    return appearance


def _ink_map(pdf: bytes, appearance: Appearance, dpi: int) -> np.ndarray | None:
    """Where page ``appearance.page`` has ink (True), rendered over its visible box; None if unknown."""
    if not appearance.anchor.startswith("top"):
        return None
    try:
        with pikepdf.open(io.BytesIO(pdf)) as doc:
            index = appearance.page_index(len(doc.pages))
            if int(doc.pages[index].obj.get("/Rotate", 0)) % 360:
                return None
    except (pikepdf.PdfError, ValueError, TypeError):
        return None
    with tempfile.TemporaryDirectory(prefix="sohoa-stamp-") as tmp:
        source = Path(tmp) / "in.pdf"
        source.write_bytes(pdf)
        page = str(index + 1)
        args = ["pdftoppm", "-f", page, "-l", page, "-r", str(dpi), "-gray", "-cropbox", str(source), f"{tmp}/p"]
        try:
            subprocess.run(args, check=True, capture_output=True, timeout=30)
            rendered = next(Path(tmp).glob("p*.pgm"))
        except (OSError, subprocess.SubprocessError, StopIteration):
            return None
        with Image.open(rendered) as image:
            return np.asarray(image.convert("L")) < 230
