"""QR code stamp (TT 01/2023; ISO/IEC 18004 = TCVN 7322).

The code carries the dossier code, procedure code, applicant ID, document name, issuing system
and time (plus validity and scope for e-results) and the verification link, as UTF-8 text, one
``label: value`` line each. The symbol starts with an ECI designator for UTF-8 (ECI 000026), so
decoders (zbar, phone cameras) read the Vietnamese letters as UTF-8 rather than guessing
Shift-JIS. It is drawn as vector modules into the page content before signing, with optional
caption lines (the result code) under it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import segno
from fpdf import FPDF

from signing.signers.appearance import CM, Appearance
from signing.signers.drawing import new_document, overlay_page, text_width
from signing.vntime import iso_vn

QR_SIZE_PT = 2.5 * CM
RESULT_QR_SIZE_PT = 3 * CM  # an e-result's code carries more (validity, scope, link): modules stay near 0.4 mm
QR_GAP_PT = 0.4 * CM
CAPTION_SIZE = 7.0
CAPTION_LEADING = 8.5
CAPTION_GAP = 3.0


@dataclass(frozen=True)
class QrPayload:
    """The minimum data of TT 01/2023 Điều 8; ``valid_until`` and ``scope`` for e-results."""

    dossier_code: str
    procedure_code: str
    applicant_id: str
    document_name: str
    issuing_system: str
    issued_at: datetime
    valid_until: str | None = None
    verify_url: str | None = None
    scope: str | None = None

    def text(self) -> str:
        lines = [
            f"Mã hồ sơ: {self.dossier_code}",
            f"Mã thủ tục: {self.procedure_code}",
            f"Số định danh: {self.applicant_id}",
            f"Tên giấy tờ: {self.document_name}",
            f"Hệ thống: {self.issuing_system}",
            f"Thời gian: {iso_vn(self.issued_at)}",
        ]
        if self.valid_until:
            lines.append(f"Hiệu lực: {self.valid_until}")
        if self.scope:
            lines.append(f"Phạm vi: {self.scope}")
        if self.verify_url:
            lines.append(f"Tra cứu: {self.verify_url}")
        return "\n".join(lines)


def qr_matrix(text: str) -> list[list[bool]]:
    """Modules of the QR symbol for ``text``: byte mode, UTF-8 ECI, error correction level M."""
    code = segno.make_qr(text, error="m", encoding="utf-8", eci=True, boost_error=False)
    return [[bool(m) for m in row] for row in code.matrix]


@dataclass(frozen=True)
class QrBlock:
    """A QR code of ``size`` points with caption lines under it; ``width``/``height`` include the caption."""

    size: float = QR_SIZE_PT
    caption: tuple[str, ...] = ()

    def caption_width(self, doc: FPDF) -> float:
        return max((text_width(doc, line, "", CAPTION_SIZE) for line in self.caption), default=0.0)

    @property
    def height(self) -> float:
        return self.size + (CAPTION_GAP + CAPTION_LEADING * len(self.caption) if self.caption else 0.0)

    def draw(self, doc: FPDF, text: str, x: float, y: float) -> None:
        """Draw at (x, y), fpdf2's top-left coordinates; a white quiet zone of two modules around it."""
        matrix = qr_matrix(text)
        n = len(matrix)
        module = self.size / n
        quiet = 2 * module
        doc.set_fill_color(255, 255, 255)
        doc.rect(x - quiet, y - quiet, self.size + 2 * quiet, self.size + 2 * quiet, style="F")
        doc.set_fill_color(0, 0, 0)
        for r, row in enumerate(matrix):
            c = 0
            while c < n:
                if not row[c]:
                    c += 1
                    continue
                start = c
                while c < n and row[c]:
                    c += 1
                doc.rect(x + start * module, y + r * module, (c - start) * module, module, style="F")
        doc.set_text_color(0, 0, 0)
        for i, line in enumerate(self.caption):
            text_width(doc, line, "", CAPTION_SIZE)  # selects the caption font
            doc.text(x, y + self.size + CAPTION_GAP + CAPTION_LEADING * i + CAPTION_SIZE, line)


def caption_block_width(block: QrBlock) -> float:
    """Width of ``block`` with its caption, measured in the embedded font."""
    return max(block.size, block.caption_width(new_document(100, 100)))


def add_qr(
    pdf: bytes,
    payload: QrPayload,
    *,
    size_pt: float = QR_SIZE_PT,
    margin_x: float = 1.5 * CM,
    margin_y: float = 1.0 * CM,
    page: int = 0,
    caption: Sequence[str] = (),
) -> bytes:
    """Draw the QR code (and caption) with its top-left corner ``margin_x``/``margin_y`` inside the
    top-left corner of page ``page``'s media box (leave the room first: :func:`make_room`)."""
    block = QrBlock(size_pt, tuple(caption))
    text = payload.text()
    return overlay_page(pdf, page, lambda doc, _height: block.draw(doc, text, margin_x, margin_y))


def beside_qr(appearance: Appearance, *, size_pt: float = QR_SIZE_PT, gap: float = QR_GAP_PT) -> Appearance:
    """The same stamp moved right of a top-left QR code so the two never overlap."""
    return dataclasses.replace(appearance, margin_x=appearance.margin_x + size_pt + gap)
