"""What a PDF declares is read from its bytes before any sandbox is spent: real files pass, absurd ones are refused."""

from __future__ import annotations

import os

import pytest

from bench.api.costly_pdf import cms_hex_of, signature_heavy_pdf
from signing.errors import PdfTooCostly
from signing.keys import SigningKey
from signing.signers import sign_pdf
from signing.validation import declared_cost as dc


@pytest.fixture(scope="module")
def signed(operator_key: SigningKey, pdf_1page: bytes) -> bytes:
    return sign_pdf(pdf_1page, operator_key)


def test_real_signed_files_pass(signed: bytes, make_pdf, operator_key: SigningKey) -> None:  # type: ignore[no-untyped-def]
    cost = dc.refuse_if_too_costly(signed)
    assert cost.signatures == 1 and cost.revisions == 2 and 0 < cost.largest_hex_digits < 64 * 1024
    twice = sign_pdf(signed, operator_key, field_name="Signature2")
    assert dc.refuse_if_too_costly(twice).signatures == 2
    assert dc.refuse_if_too_costly(make_pdf(200)).pages == 200
    # Inside compressed object streams the pages are not seen: the per-client budget answers for those.
    assert dc.refuse_if_too_costly(make_pdf(200, xref_stream=True)).pages == 0


def test_a_contents_far_larger_than_any_cms_is_refused(signed: bytes) -> None:
    """The flood's file: 19.6 MB of /Contents (half a minute of a verifier), and one just under the bound."""
    cms = cms_hex_of(signed)
    flood = signature_heavy_pdf(cms, contents_hex_digits=19_600_000)
    with pytest.raises(PdfTooCostly) as info:
        dc.refuse_if_too_costly(flood)
    assert info.value.code == "PDF_TOO_COSTLY" and "19600000 hex string digits" in info.value.detail
    assert "quá tải" in info.value.message_vi
    just_under = signature_heavy_pdf(cms, contents_hex_digits=dc.MAX_SIGNATURE_HEX_DIGITS - 2)
    assert dc.refuse_if_too_costly(just_under).largest_hex_digits == dc.MAX_SIGNATURE_HEX_DIGITS - 2


def test_many_signatures_are_bounded_in_total_and_in_number(signed: bytes) -> None:
    cms = cms_hex_of(signed)
    nine_large = signature_heavy_pdf(cms, contents_hex_digits=2_000_000, signatures=9)  # 15 s, each under the bound
    with pytest.raises(PdfTooCostly, match="hex string digits in all"):
        dc.refuse_if_too_costly(nine_large)
    many = signature_heavy_pdf(cms, contents_hex_digits=len(cms) + len(cms) % 2, signatures=dc.MAX_SIGNATURES + 1)
    with pytest.raises(PdfTooCostly, match="signatures"):
        dc.refuse_if_too_costly(many)


@pytest.mark.parametrize(
    ("declaration", "what"),
    [
        (b"trailer\n<< /Size 50000000 /Root 1 0 R >>", "objects"),  # a cross-reference table's claim
        (b"<< /Type /XRef /Index [0 10 20 9000000] /W [1 4 2] >>", "objects"),  # a stream's subsections
        (b"<< /Type /ObjStm /N 2000000 /First 10 >>", "objects"),
        (b"<< /Type /Pages /Kids [3 0 R] /Count 900000 >>", "pages"),
        (b"startxref\n0\n%%EOF\n" * (dc.MAX_REVISIONS + 1), "revisions"),
    ],
)
def test_absurd_declarations_are_refused(signed: bytes, declaration: bytes, what: str) -> None:
    with pytest.raises(PdfTooCostly, match=what):
        dc.refuse_if_too_costly(signed + declaration)


def test_the_scan_reads_hostile_bytes_without_trouble() -> None:
    """No quadratic corner: long runs of digits, of '<', of hex, and random bytes are read in one pass."""
    for blob in (b"0" * 5_000_000, b"<" * 2_000_000, b"<0" * 2_000_000):
        assert dc.declared_cost(blob).excess() is None  # nothing declared: no false alarm
    dc.declared_cost(os.urandom(5_000_000))  # any verdict, but read to the end without an error
    assert dc.declared_cost(b"/Size " + b"9" * 99).excess() == "999999999999999 objects > 1000000"
