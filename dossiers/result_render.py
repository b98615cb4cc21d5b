"""Render e-result PDFs: the NĐ 30/2020 administrative form (:func:`render_form`) and a plain page of lines.

The form follows Phụ lục I of Nghị định 30/2020/NĐ-CP (thể thức văn bản hành chính): A4 portrait,
margins top 20, bottom 20, left 30, right 15 mm; Times-compatible font (Liberation Serif) embedded
as vector text. Header in two columns: the parent agency (uppercase) over the issuing agency
(uppercase bold) with a short rule under it, then "Số: …/…"; the quốc hiệu (uppercase bold) over
the tiêu ngữ (bold, ruled) on the right, then the place and date line in italic. The title
(uppercase bold, centred), the content (justified), the signer's block bottom-right (authority and
title uppercase bold, the signature space, the full name bold) and "Nơi nhận:" bottom-left.

The QR code and the signature are added when the result is signed: the form records where it
left room for them (:func:`signing.signers.marks.reserve`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from fpdf import FPDF

from signing.signers.appearance import SEAL_SIZE_PT, SIGNATURE_BLOCK_WIDTH
from signing.signers.drawing import A4, FAMILY, MM, document_bytes, new_document, text_width
from signing.signers.marks import reserve
from signing.signers.qr import CAPTION_GAP, CAPTION_LEADING, RESULT_QR_SIZE_PT

MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 30 * MM, 15 * MM, 20 * MM, 20 * MM
CONTENT_WIDTH = A4[0] - MARGIN_LEFT - MARGIN_RIGHT
LEFT_COLUMN = 0.42 * CONTENT_WIDTH  # agency name; the quốc hiệu needs the wider right column
QR_BAND = RESULT_QR_SIZE_PT + CAPTION_GAP + 2 * CAPTION_LEADING + 4  # QR code and a two-line caption (the result code)
QUOC_HIEU = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
TIEU_NGU = "Độc lập - Tự do - Hạnh phúc"


@dataclass(frozen=True)
class ResultForm:
    """What the form prints. ``signer_title`` lines are printed in order (e.g. ``("KT. CHỦ TỊCH",
    "PHÓ CHỦ TỊCH")``); ``body`` items are paragraphs; ``recipients`` are the "Nơi nhận" lines."""

    agency: str
    place: str
    issued_on: date
    title: str
    parent_agency: str | None = None
    number: str | None = None
    symbol: str | None = None
    body: Sequence[str] = ()
    signer_title: Sequence[str] = ()
    signer_name: str | None = None
    recipients: Sequence[str] = ()
    result_code: str | None = None


def date_line(place: str, day: date) -> str:
    """ "<place>, ngày dd tháng m năm yyyy": days under 10 and months 1, 2 get a leading zero (NĐ 30/2020)."""
    month = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    return f"{place}, ngày {day.day:02d} tháng {month} năm {day.year}"


_PLACE_AFTER = re.compile(r"\b(?:phường|xã|thị trấn|quận|huyện|thị xã|thành phố|tỉnh|TP\.?)\s+", re.IGNORECASE)


def place_of(agency: str) -> str:
    """The địa danh of an agency's name: what follows its last administrative unit word
    ("UBND phường Ba Đình" → "Ba Đình"), else the name itself; parenthesised notes dropped."""
    name = re.sub(r"\s*\([^)]*\)", "", agency).strip()
    found = list(_PLACE_AFTER.finditer(name))
    return name[found[-1].end() :].strip() if found else name


def number_line(number: str | None, symbol: str | None) -> str | None:
    if not number and not symbol:
        return None
    if not symbol:
        return f"Số: {number}"
    return f"Số: {number or ' ' * 8}/{symbol}"


class PageWriter:
    """Top-down layout on the current page of ``size`` (points): ``y`` is the next line's top (fpdf2
    coordinates). Also lays out the appointment slip (``dossiers.appointment_slip``, A4 or A5)."""

    def __init__(self, size: tuple[float, float] = A4, top: float = MARGIN_TOP, bottom: float = MARGIN_BOTTOM) -> None:
        self.size, self.top, self.bottom = size, top, bottom
        self.doc: FPDF = new_document(*size)
        self.doc.add_page()
        self.y = top

    def lines(self, text: str, x: float, width: float, style: str, size: float, align: str = "C") -> float:
        """Wrap ``text`` into the column at ``self.y``; returns the bottom of the last line."""
        doc = self.doc
        doc.set_font(FAMILY, style, size)
        doc.set_xy(x, self.y)
        doc.multi_cell(width, size * 1.2, text, align=align, new_x="LEFT", new_y="NEXT")
        return float(doc.get_y())

    def widest(self, text: str, width: float, style: str, size: float) -> float:
        return min(width, max(text_width(self.doc, part, style, size) for part in text.split("\n")))

    def rule(self, x_centre: float, y: float, length: float) -> None:
        self.doc.set_line_width(0.5)
        self.doc.line(x_centre - length / 2, y, x_centre + length / 2, y)

    def page_break_if(self, height: float) -> None:
        if self.y + height > self.size[1] - self.bottom:
            self.doc.add_page()
            self.y = self.top


def render_form(form: ResultForm, *, document_id: bytes | None = None) -> bytes:
    """The e-result as an NĐ 30/2020 form, with room recorded for the QR code and the signature.

    The bytes depend only on ``form`` and ``document_id`` (the trailer /ID; pass random bytes to
    make each issue of the same text a distinct file).
    """
    w = PageWriter()
    doc = w.doc
    left, right_col = MARGIN_LEFT, MARGIN_LEFT + LEFT_COLUMN
    right_width = CONTENT_WIDTH - LEFT_COLUMN
    qr_box = (left, A4[1] - MARGIN_TOP - QR_BAND, left + RESULT_QR_SIZE_PT, A4[1] - MARGIN_TOP)
    if form.result_code:
        doc.set_font(FAMILY, "", 7)
        doc.text(left, MARGIN_TOP + RESULT_QR_SIZE_PT + CAPTION_GAP + 7, "Mã kết quả:")
        doc.text(left, MARGIN_TOP + RESULT_QR_SIZE_PT + CAPTION_GAP + CAPTION_LEADING + 7, form.result_code)
    w.y = MARGIN_TOP + QR_BAND + 4

    top = w.y
    y = top
    if form.parent_agency:
        y = w.lines(form.parent_agency.upper(), left, LEFT_COLUMN, "", 12)
        w.y = y
    agency = form.agency.upper()
    y = w.lines(agency, left, LEFT_COLUMN, "B", 12)
    w.rule(left + LEFT_COLUMN / 2, y + 2, w.widest(agency, LEFT_COLUMN, "B", 12) / 3)
    w.y = y + 8
    numbered = number_line(form.number, form.symbol)
    left_bottom = w.y
    if numbered:
        left_bottom = w.lines(numbered, left, LEFT_COLUMN, "", 13)

    w.y = top
    y = w.lines(QUOC_HIEU, right_col, right_width, "B", 12)
    w.y = y
    y = w.lines(TIEU_NGU, right_col, right_width, "B", 13)
    w.rule(right_col + right_width / 2, y + 1, w.widest(TIEU_NGU, right_width, "B", 13))
    w.y = max(y + 8, left_bottom - 13 * 1.2 if numbered else y + 8)
    right_bottom = w.lines(date_line(form.place, form.issued_on), right_col, right_width, "I", 13)

    w.y = max(left_bottom, right_bottom) + 18
    w.y = w.lines(form.title.upper(), left, CONTENT_WIDTH, "B", 14) + 12
    doc.set_margins(MARGIN_LEFT, MARGIN_TOP, MARGIN_RIGHT)
    doc.set_auto_page_break(True, MARGIN_BOTTOM)  # a paragraph runs on to the next page, justified
    for paragraph in form.body:
        w.page_break_if(13 * 1.3)
        w.y = w.lines(paragraph, left, CONTENT_WIDTH, "", 13, align="J" if len(paragraph) > 60 else "L") + 4
    doc.set_auto_page_break(False)

    titles = [line.upper() for line in form.signer_title]
    block = 14 * 1.2 * (len(titles) + 1) + SEAL_SIZE_PT + 16
    recipients_height = 12 * 1.2 + 11 * 1.2 * len(form.recipients)
    w.page_break_if(max(block, recipients_height) + 12)
    w.y += 12
    block_top = w.y
    for line in titles:
        w.y = w.lines(line, right_col, right_width, "B", 13)
    sign_top = w.y + 4
    box_width = min(SIGNATURE_BLOCK_WIDTH, right_width)
    centre = right_col + right_width / 2
    signature_box = (
        centre - box_width / 2,
        A4[1] - (sign_top + SEAL_SIZE_PT),
        centre + box_width / 2,
        A4[1] - sign_top,
    )
    w.y = sign_top + SEAL_SIZE_PT + 8
    if form.signer_name:
        w.lines(form.signer_name, right_col, right_width, "B", 13)
    if form.recipients:
        w.y = block_top
        w.y = w.lines("Nơi nhận:", left, LEFT_COLUMN, "BI", 12, align="L")
        for recipient in form.recipients:
            w.y = w.lines(f"- {recipient}", left, LEFT_COLUMN, "", 11, align="L")
    signature_page = doc.page - 1
    modified = f"D:{form.issued_on:%Y%m%d}000000+07'00'"
    return reserve(
        document_bytes(doc),
        qr=qr_box,
        signature=(signature_page, signature_box),
        code=form.result_code,
        modified=modified,
        document_id=document_id,
    )


def render_result_pdf(lines: list[str], *, font_size: int = 12) -> bytes:
    """A plain A4 page of ``lines`` (left-aligned, embedded font): a stand-in result for tests and demos."""
    w = PageWriter()
    w.y = MARGIN_TOP + QR_BAND + 12  # room for the QR code and its caption, clear of the text
    for line in lines:
        w.page_break_if(font_size * 1.5)
        w.y = w.lines(line or " ", MARGIN_LEFT, CONTENT_WIDTH, "", font_size, align="L") + font_size * 0.3
    return document_bytes(w.doc)
