"""A signed PDF with hybrid cross-reference sections is refused with an explanation, not called broken.

Hybrid files (a classic table whose trailer also names an ``/XRefStm`` stream, as MS Word writes them)
can show different objects to readers that honour the stream and to readers that do not, so pdfsig's
"valid" cannot be confirmed safely; pyHanko refuses to validate them in strict mode.
"""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO

import pytest
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter

from signing.dev import DevPki
from signing.errors import PdfHybridXrefUnverifiable
from signing.keys import SigningKey
from signing.validation import etsi_report, verify_pdf

from .conftest import assert_pdfsig_valid

FONT = b"<< /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >>"


def hybrid_pdf() -> bytes:
    """One page; the trailer names a cross-reference stream (``/XRefStm``) next to the table."""
    content = b"BT /F1 12 Tf 20 100 Td (Ho so so hoa) Tj ET"
    bodies = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R /Resources %s >>" % FONT,
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
    ]
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    stream_at = len(out)
    row = b"\x01" + stream_at.to_bytes(4, "big") + b"\x00"  # the stream lists itself (object 5)
    out += b"5 0 obj\n<< /Type /XRef /Size 6 /W [1 4 1] /Index [5 1] /Length %d >>\nstream\n" % len(row)
    out += row + b"\nendstream\nendobj\n"
    table_at = len(out)
    out += b"xref\n0 5\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % at for at in offsets)
    out += b"trailer\n<< /Size 6 /Root 1 0 R /XRefStm %d >>\nstartxref\n%d\n%%%%EOF\n" % (stream_at, table_at)
    return bytes(out)


@pytest.fixture(scope="module")
def signed_hybrid(operator_key: SigningKey) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(hybrid_pdf()), strict=False)  # pyHanko signs hybrids when lenient
    meta = signers.PdfSignatureMetadata(field_name="Sig1", subfilter=SigSeedSubFilter.PADES)
    return signers.sign_pdf(writer, meta, signer=operator_key.signer).getvalue()


def test_hybrid_signature_is_reported_unverifiable(signed_hybrid: bytes, pki: DevPki) -> None:
    report = verify_pdf(signed_hybrid, pki.trust_roots)

    assert not report.valid and not report.verifiable
    assert report.problems == ["pdf_hybrid_xref"] == [PdfHybridXrefUnverifiable.code.lower()]
    (sig,) = report.signatures
    assert sig.problems == ["not_validated"] and sig.signer_name == "Nguyễn Thị Bình"
    assert report.to_dict()["problems"] == ["pdf_hybrid_xref"]


@pytest.mark.integration
def test_pdfsig_accepts_what_is_refused_here(signed_hybrid: bytes, pdfsig: Callable[[bytes], str]) -> None:
    """The one deliberate disagreement with pdfsig: it validates the file, we explain why we do not."""
    assert_pdfsig_valid(pdfsig(signed_hybrid), 1)


def test_the_report_explains_it_in_vietnamese_and_english(signed_hybrid: bytes, pki: DevPki) -> None:
    report = verify_pdf(signed_hybrid, pki.trust_roots)

    vi = report.render("vi")
    assert "KHÔNG kiểm tra được chữ ký của tài liệu" in vi and "bảng tham chiếu lai" in vi
    assert "Chữ ký chưa được kiểm tra" in vi and "bị hỏng" not in vi
    en = report.render("en")
    assert "hybrid cross-reference sections" in en and "Signature not validated" in en


def test_no_etsi_report_for_a_hybrid_file(signed_hybrid: bytes, pki: DevPki) -> None:
    with pytest.raises(PdfHybridXrefUnverifiable):
        etsi_report(signed_hybrid, pki.trust_roots)


def test_an_unsigned_hybrid_file_is_read(pki: DevPki) -> None:
    assert verify_pdf(hybrid_pdf(), pki.trust_roots).problems == ["no_signatures"]
