"""`verify_pdf` agrees with pdfsig and OpenSSL on untampered PDFs made by other producers and signed
by another signer (pyHanko used directly, as a third party would).

The case that started it: Pillow writes the free-list head of its cross-reference table as
``0000000000 65536 f`` (generation 65536, one above the maximum). pyHanko's strict reader refused the
whole file, so a valid signature on any Pillow-made PDF was reported "unreadable (damaged or
encrypted)" while pdfsig and ``openssl cms -verify`` accepted it. ``signing.pdfcompat`` tolerates that
one entry, and only that one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import pikepdf
import pytest
from PIL import Image
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter

from signing.dev import DevPki
from signing.errors import PdfInvalid
from signing.keys import SigningKey
from signing.validation import verify_pdf

from .conftest import assert_pdfsig_valid

pytestmark = pytest.mark.integration


def pillow_pdf(pages: int = 1) -> bytes:
    out = BytesIO()
    images = [Image.new("RGB", (300, 200), (255, 255 - 40 * n, 255)) for n in range(pages)]
    images[0].save(out, "PDF", save_all=True, append_images=images[1:], title="Hồ sơ số hóa")
    return out.getvalue()


def ghostscript_pdf(tmp_path: Path) -> bytes:
    if shutil.which("gs") is None:
        pytest.skip("ghostscript is not installed (make bench installs it)")
    out = tmp_path / "gs.pdf"
    program = "/Helvetica findfont 20 scalefont setfont 72 700 moveto (Ho so so hoa) show showpage"
    subprocess.run(["gs", "-q", "-dSAFER", "-sDEVICE=pdfwrite", "-o", str(out), "-c", program], check=True)
    return out.read_bytes()


def pikepdf_xref_stream_pdf() -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    out = BytesIO()
    pdf.save(out, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out.getvalue()


def sign_with_pyhanko(pdf: bytes, key: SigningKey) -> bytes:
    """A PAdES B-B signature made by pyHanko itself, opened leniently like a third-party signer would."""
    writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    meta = signers.PdfSignatureMetadata(field_name="Sig1", subfilter=SigSeedSubFilter.PADES)
    return signers.sign_pdf(writer, meta, signer=key.signer).getvalue()


def openssl_verifies(pdf: bytes, pki: DevPki, tmp_path: Path) -> bool:
    """``openssl cms -verify`` of the (only) signature over its byte range, against the dev PKI's chain."""
    with pikepdf.open(BytesIO(pdf)) as doc:
        sig = next(field.V for field in doc.Root.AcroForm.Fields if field.get("/FT") == "/Sig")
        start, length, start2, length2 = (int(n) for n in sig.ByteRange)
        contents = bytes(sig.Contents)
    (tmp_path / "signed.bin").write_bytes(pdf[start : start + length] + pdf[start2 : start2 + length2])
    (tmp_path / "sig.der").write_bytes(contents)
    (tmp_path / "chain.pem").write_bytes(pki.root_cert.read_bytes() + pki.ca_cert.read_bytes())
    args = ["-binary", "-inform", "DER", "-in", str(tmp_path / "sig.der"), "-content", str(tmp_path / "signed.bin")]
    proc = subprocess.run(
        [
            "openssl",
            "cms",
            "-verify",
            *args,
            "-CAfile",
            str(tmp_path / "chain.pem"),
            "-purpose",
            "any",
            "-out",
            os.devnull,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return proc.returncode == 0 and "Verification successful" in proc.stderr


PRODUCERS: dict[str, Callable[[Path], bytes]] = {
    "pillow": lambda _: pillow_pdf(1),
    "pillow-3-pages": lambda _: pillow_pdf(3),
    "ghostscript": ghostscript_pdf,
    "pikepdf-xref-stream": lambda _: pikepdf_xref_stream_pdf(),
}


@pytest.mark.parametrize("producer", PRODUCERS)
def test_verify_agrees_with_pdfsig_and_openssl(
    producer: str, pki: DevPki, operator_key: SigningKey, pdfsig: Callable[[bytes], str], tmp_path: Path
) -> None:
    signed = sign_with_pyhanko(PRODUCERS[producer](tmp_path), operator_key)

    assert_pdfsig_valid(pdfsig(signed), 1)
    assert openssl_verifies(signed, pki, tmp_path)
    report = verify_pdf(signed, pki.trust_roots)
    assert report.valid, report.render("en")
    sig = report.signatures[0]
    assert sig.intact and sig.trusted and sig.level == "B-B" and sig.covers_whole_file


def test_pillow_writes_the_generation_that_strict_pyhanko_refused() -> None:
    """Pins the cause: if Pillow ever writes 65535, this test (not the fix) is what needs revisiting."""
    assert b"\nxref\n0 " in pillow_pdf() and b"0000000000 65536 f" in pillow_pdf()


def test_a_pillow_pdf_altered_after_signing_is_still_caught(pki: DevPki, operator_key: SigningKey) -> None:
    signed = bytearray(sign_with_pyhanko(pillow_pdf(), operator_key))
    at = signed.index(b"/MediaBox")
    signed[at + 1 : at + 9] = b"MediaBoy"

    report = verify_pdf(bytes(signed), pki.trust_roots)
    assert not report.valid and "integrity_broken" in report.signatures[0].problems


def test_only_object_zero_is_tolerated(pki: DevPki) -> None:
    """Generation 65536 anywhere but in object 0's entry is still refused, as strict mode wants."""
    pdf = pillow_pdf().replace(b"0000000000 65536 f", b"0000000000 65535 f")
    entry = pdf.index(b" 00000 n", pdf.index(b"\nxref\n"))
    broken = pdf[:entry] + b" 65536 n" + pdf[entry + 8 :]

    assert verify_pdf(pdf, pki.trust_roots).problems == ["no_signatures"]
    with pytest.raises(PdfInvalid):
        verify_pdf(broken, pki.trust_roots)
