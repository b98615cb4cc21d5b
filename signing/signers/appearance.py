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
SIGNATURE_BLOCK_WIDTH = 9 * CM  # the right column of an A4 form (NĐ 30/2020), where the signer signs


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

    def at(self, page: int, page_box: tuple[float, float, float, float], x1: float, y2: float) -> Appearance:
        """The same appearance with its top-left corner at (x1, y2) of page ``page`` (user space)."""
        left, _bottom, _right, top = page_box
        return dataclasses.replace(self, page=page, anchor="top-left", margin_x=x1 - left, margin_y=top - y2)

    def scaled(self, factor: float) -> Appearance:
        """The appearance drawn ``factor`` times its size (its style shrinks the content to fit)."""
        return dataclasses.replace(self, width=self.width * factor, height=self.height * factor)

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
        inner_content_layout=_text_layout(
            layout.AxisAlignment.ALIGN_MIN, TEXT_MARGIN, layout.InnerScaling.SHRINK_TO_FIT
        ),
        border_width=0,
        background=None,
    )
    return Appearance(style=style, width=width, height=height, page=page, anchor=anchor)


def result_seal(
    agency_name: str,
    seal_png: Path | None,
    signed_at: datetime,
    *,
    page: int = -1,
    anchor: Anchor = "bottom-right",
    seal_size_pt: float = SEAL_SIZE_PT,
    width: float | None = None,
) -> Appearance:
    """E-result appearance: the signature block's signature space (NĐ 30/2020 Phụ lục I).

    The red seal, at actual size, sits at the block's left, covering about its left third as the
    decree asks; the signing information (agency, time in ISO 8601 Vietnam time) is set to its
    right, never over it. ``width`` is the block's width (:data:`SIGNATURE_BLOCK_WIDTH` by
    default); without a seal image the block holds the text alone.
    """
    width = SIGNATURE_BLOCK_WIDTH if width is None else width
    text_left = seal_size_pt + TEXT_MARGIN if seal_png else TEXT_MARGIN
    lines = [
        *wrap_text(f"Ký bởi: {agency_name}", width - text_left - TEXT_MARGIN),
        "Thời gian ký:",
        iso_vn(signed_at),
    ]
    height = max(seal_size_pt, len(lines) * LEADING + 2 * TEXT_MARGIN)
    seal = Path(seal_png).resolve() if seal_png else None
    style = TextStampStyle(
        stamp_text="\n".join(_escape(line) for line in lines),
        text_box_style=_text_box_style(),
        inner_content_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MIN,
            y_align=layout.AxisAlignment.ALIGN_MID,
            margins=layout.Margins(left=round(text_left), right=TEXT_MARGIN),
            inner_content_scaling=layout.InnerScaling.SHRINK_TO_FIT,
        ),
        border_width=0,
        background=PdfImage(_seal_image(seal, seal.stat().st_mtime_ns)) if seal else None,
        background_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MIN,
            y_align=layout.AxisAlignment.ALIGN_MID,
            inner_content_scaling=layout.InnerScaling.SHRINK_TO_FIT,
        ),
        background_opacity=1.0,
    )
    return Appearance(style=style, width=width, height=height, page=page, anchor=anchor)


def wrap_text(text: str, width: float) -> list[str]:
    """``text`` broken at spaces into lines no wider than ``width`` points in the appearance font."""
    font = _measure_font()
    lines: list[str] = []
    for word in text.split():
        if lines and font.getlength(f"{lines[-1]} {word}") / 10 <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [""]


def _escape(line: str) -> str:
    # pyHanko interpolates stamp_text with %-formatting.
    return line.replace("%", "%%")


def _text_layout(
    x_align: layout.AxisAlignment, margin: int, scaling: layout.InnerScaling = layout.InnerScaling.NO_SCALING
) -> layout.SimpleBoxLayoutRule:
    return layout.SimpleBoxLayoutRule(
        x_align=x_align,
        y_align=layout.AxisAlignment.ALIGN_MID,
        margins=layout.Margins.uniform(margin),
        inner_content_scaling=scaling,
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
    """Shrink the stamp's page content so the stamp sits in a blank band above (top anchors) or below it.

    The page keeps its size (an A4 scan stays A4): its content, text layer included, is drawn
    scaled down by ``(height - band) / height`` through a ``cm`` transform, centred across, and its
    annotations' rectangles follow. ``min_band`` makes the band at least that tall (room for a QR
    code beside the stamp). Fit a stamp wider than the page first (:meth:`Appearance.scaled`).

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
        width, height = right - left, top - bottom
        band = min(max(appearance.height, min_band) + appearance.margin_y + gap, height / 2)
        scale = (height - band) / height
        dx = left + width * (1 - scale) / 2 - scale * left
        dy = bottom - scale * bottom if appearance.anchor.startswith("top") else bottom + band - scale * bottom
        _transform_page(doc, page, (scale, 0.0, 0.0, scale, dx, dy))
        out = io.BytesIO()
        doc.save(out, deterministic_id=True)
        return out.getvalue()


Matrix = tuple[float, float, float, float, float, float]


def _transform_page(doc: pikepdf.Pdf, page: pikepdf.Page, m: Matrix) -> None:
    """Draw the page's content through ``m`` and move its annotations with it."""
    a, _b, _c, d, e, f = m
    page.contents_add(doc.make_stream(b"q %.6f 0 0 %.6f %.4f %.4f cm\n" % (a, d, e, f)), prepend=True)
    page.contents_add(doc.make_stream(b"\nQ\n"))

    def point(x: float, y: float) -> tuple[float, float]:
        return a * x + e, d * y + f

    for annot in page.obj.get("/Annots", []):
        rect = annot.get("/Rect")
        if rect is not None and len(rect) == 4:
            x1, y1 = point(float(rect[0]), float(rect[1]))
            x2, y2 = point(float(rect[2]), float(rect[3]))
            annot.Rect = pikepdf.Array([x1, y1, x2, y2])
        quads = annot.get("/QuadPoints")
        if quads is not None:
            values = [float(v) for v in quads]
            moved = [c for i in range(0, len(values) - 1, 2) for c in point(values[i], values[i + 1])]
            annot.QuadPoints = pikepdf.Array(moved)


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
