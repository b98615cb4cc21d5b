"""Vector drawing in the Vietnamese font: fpdf2 pages, and overlays merged onto existing pages.

fpdf2 lays out text (embedded TrueType subsets, wrapping, justification) with a top-left origin in
points; :func:`overlay_page` merges such a page onto a page of an existing PDF with pikepdf
(a form XObject drawn after the page's own content, which is wrapped in ``q … Q``).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime

import pikepdf
from fpdf import FPDF

from signing.signers.fonts import find_font

FAMILY = "viet"
A4 = (595.28, 841.89)
MM = 72 / 25.4


def new_document(width: float, height: float) -> FPDF:
    """An fpdf2 document in points, no automatic page breaks, the four Vietnamese font styles loaded."""
    doc = FPDF(unit="pt", format=(width, height))
    doc.set_auto_page_break(False)
    doc.set_margins(0, 0, 0)
    doc.c_margin = 0
    doc.set_creation_date(datetime(2000, 1, 1, tzinfo=UTC))  # the bytes depend only on what is drawn
    for style, bold, italic in (("", False, False), ("B", True, False), ("I", False, True), ("BI", True, True)):
        doc.add_font(FAMILY, style, str(find_font(bold=bold, italic=italic)))
    doc.set_font(FAMILY, "", 12)
    return doc


def document_bytes(doc: FPDF) -> bytes:
    return bytes(doc.output())


def overlay_page(pdf: bytes, index: int, draw: Callable[[FPDF, float], None]) -> bytes:
    """``pdf`` with what ``draw(doc, page_height)`` draws over page ``index`` (its media box, 1:1).

    ``draw`` works in fpdf2's top-left coordinates over the page's media box: PDF user point
    (x, y) is (x - left, top - y) there.
    """
    with pikepdf.open(io.BytesIO(pdf)) as target:
        page = target.pages[index]
        left, bottom, right, top = (float(v) for v in page.mediabox)
        doc = new_document(right - left, top - bottom)
        doc.add_page()
        draw(doc, top - bottom)
        with pikepdf.open(io.BytesIO(document_bytes(doc))) as drawn:  # open until saved: copies read lazily
            page.add_overlay(drawn.pages[0], pikepdf.Rectangle(left, bottom, right, top))
            out = io.BytesIO()
            target.save(out, deterministic_id=True)
            return out.getvalue()


def text_width(doc: FPDF, text: str, style: str, size: float) -> float:
    doc.set_font(FAMILY, style, size)
    return float(doc.get_string_width(text))
