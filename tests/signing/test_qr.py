"""QR code top-left of page 1 beside the copy stamp: decoded from the rendered page."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pikepdf
from PIL import Image
from pyzbar.pyzbar import decode

from signing.dev import DevPki
from signing.keys import SigningKey
from signing.signers import QR_SIZE_PT, QrPayload, add_qr, beside_qr, copy_stamp, make_room, sign_pdf
from signing.validation import verify_pdf

from .conftest import _make_pdf

PAYLOAD = QrPayload(
    dossier_code="000.00.12.H26-250301-0001",
    procedure_code="1.001193",
    applicant_id="001085012345",
    document_name="Giấy xác nhận thông tin về cư trú",
    issuing_system="sohoa - Trung tâm Phục vụ hành chính công",
    issued_at=datetime(2025, 3, 1, 2, 30, tzinfo=UTC),
    valid_until="2026-03-01",
)


def test_qr_decodes_from_the_rendered_page_and_does_not_overlap_the_stamp(
    pki: DevPki, operator_key: SigningKey, tmp_path: Path
) -> None:
    stamp = beside_qr(copy_stamp(operator_key.subject_name, datetime.now(UTC)))
    pdf = add_qr(make_room(_make_pdf(2), stamp, min_band=QR_SIZE_PT), PAYLOAD)
    with pikepdf.open(BytesIO(pdf)) as doc:
        assert [float(v) for v in doc.pages[0].mediabox] == [0, 0, 595, 842]  # no page grows
    signed = sign_pdf(pdf, operator_key, appearance=stamp)
    assert verify_pdf(signed, [pki.root_cert]).valid
    (tmp_path / "signed.pdf").write_bytes(signed)
    subprocess.run(
        ["pdftoppm", "-r", "150", "-f", "1", "-l", "1", "-png", str(tmp_path / "signed.pdf"), str(tmp_path / "p")],
        check=True,
    )
    image = Image.open(next(tmp_path.glob("p*.png")))
    decoded = [d.data.decode("utf-8") for d in decode(image)]
    assert decoded == [PAYLOAD.text()]
    assert "Mã hồ sơ: 000.00.12.H26-250301-0001" in decoded[0] and "Hiệu lực: 2026-03-01" in decoded[0]
    assert "Thời gian: 2025-03-01T09:30:00+07:00" in decoded[0]
    with pikepdf.open(BytesIO(signed)) as doc:
        page = doc.pages[0]
        left, _, _, top = (float(v) for v in page.mediabox)
        widget = next(a for a in page.Annots if a.get("/FT") == "/Sig")
        x1, y1, _x2, y2 = (float(v) for v in widget.Rect)
    qr_right = left + stamp.margin_x - 0.4 * 72 / 2.54  # margin_x = page margin + QR + gap
    assert x1 >= qr_right and y2 <= top  # stamp to the right of the QR, inside the page
    assert y1 >= top - stamp.margin_y - max(stamp.height, QR_SIZE_PT) - 1  # both in the freed top band
