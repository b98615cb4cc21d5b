"""QR code stamp, top-left of page 1 (TT 01/2023; ISO/IEC 18004 = TCVN 7322).

The code carries the dossier code, procedure code, applicant ID, document name, issuing system
and time (plus validity for e-results) as UTF-8 text, one ``label: value`` line each. It is
drawn as vector modules into the page content before signing, in the blank band that
:func:`signing.signers.appearance.make_room` adds; the copy stamp moves to its right (:func:`beside_qr`).
"""

from __future__ import annotations

import dataclasses
import io
from dataclasses import dataclass
from datetime import datetime

import pikepdf
import qrcode
from qrcode.constants import ERROR_CORRECT_M

from signing.signers.appearance import CM, Appearance
from signing.vntime import iso_vn

QR_SIZE_PT = 2.5 * CM
QR_GAP_PT = 0.4 * CM


@dataclass(frozen=True)
class QrPayload:
    dossier_code: str
    procedure_code: str
    applicant_id: str
    document_name: str
    issuing_system: str
    issued_at: datetime
    valid_until: str | None = None
    verify_url: str | None = None

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
        if self.verify_url:
            lines.append(f"Tra cứu: {self.verify_url}")
        return "\n".join(lines)


def qr_matrix(text: str) -> list[list[bool]]:
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0)
    code.add_data(text.encode("utf-8"))
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


def qr_content(matrix: list[list[bool]], x: float, y_top: float, size: float) -> bytes:
    """Content stream drawing ``matrix`` with its top-left at (x, y_top), ``size`` points wide."""
    n = len(matrix)
    module = size / n
    quiet = 2 * module
    ops = [
        b"q 1 1 1 rg %.3f %.3f %.3f %.3f re f 0 0 0 rg"
        % (x - quiet, y_top - size - quiet, size + 2 * quiet, size + 2 * quiet)
    ]
    for r, row in enumerate(matrix):
        c = 0
        while c < n:
            if not row[c]:
                c += 1
                continue
            start = c
            while c < n and row[c]:
                c += 1
            ops.append(
                b"%.3f %.3f %.3f %.3f re" % (x + start * module, y_top - (r + 1) * module, (c - start) * module, module)
            )
    ops.append(b"f Q")
    return b"\n".join(ops)


def add_qr(
    pdf: bytes,
    payload: QrPayload,
    *,
    size_pt: float = QR_SIZE_PT,
    margin_x: float = 1.5 * CM,
    margin_y: float = 1.0 * CM,
) -> bytes:
    """Draw the QR code top-left of page 1 (run :func:`make_room` first so it lands in a blank band)."""
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        page = doc.pages[0]
        left, _bottom, _right, top = (float(v) for v in page.mediabox)
        drawing = qr_content(qr_matrix(payload.text()), left + margin_x, top - margin_y, size_pt)
        page.contents_add(doc.make_stream(b"q\n"), prepend=True)
        page.contents_add(doc.make_stream(b"\nQ\n" + drawing))
        out = io.BytesIO()
        doc.save(out, deterministic_id=True)
        return out.getvalue()


def beside_qr(appearance: Appearance, *, size_pt: float = QR_SIZE_PT, gap: float = QR_GAP_PT) -> Appearance:
    """The same stamp moved right of a top-left QR code so the two never overlap."""
    return dataclasses.replace(appearance, margin_x=appearance.margin_x + size_pt + gap)
