"""Shared fixtures: dev PKIs, a test PKI served on 127.0.0.1 (OCSP/CRL/TSA), small real PDFs,
an NSS db for pdfsig trusting every root, and a SoftHSM2 token with a key generated inside it."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import pikepdf
import pytest

from signing.dev import DevPki, DevPkiHttp, ensure_dev_pki
from signing.keys import SigningKey, load_pkcs12_signer
from testkit.pki import ServedPki

MARKER = b"TAMPER-ME-MARKER"


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory, dev_pki_http: DevPkiHttp) -> DevPki:
    return ensure_dev_pki(tmp_path_factory.mktemp("pki") / "rsa", base_url=dev_pki_http.base_url("rsa"))


@pytest.fixture(scope="session")
def pki_ec(tmp_path_factory: pytest.TempPathFactory, dev_pki_http: DevPkiHttp) -> DevPki:
    directory = tmp_path_factory.mktemp("pki") / "ec"
    return ensure_dev_pki(directory, key_algorithm="ecdsa-p256", base_url=dev_pki_http.base_url("ec"))


@pytest.fixture(scope="session")
def operator_key(pki: DevPki) -> SigningKey:
    return load_pkcs12_signer(pki.operator_p12, pki.passphrase())


@pytest.fixture(scope="session")
def agency_key(pki: DevPki) -> SigningKey:
    return load_pkcs12_signer(pki.agency_p12, pki.passphrase())


def _make_pdf(pages: int = 1, *, xref_stream: bool = False) -> bytes:
    pdf = pikepdf.new()
    font = pdf.make_indirect(
        pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica)
    )
    for n in range(1, pages + 1):
        text = b"BT /F1 14 Tf 72 700 Td (Ho so so hoa - trang %d) Tj 0 -20 Td (%s) Tj ET" % (n, MARKER)
        page = pikepdf.Page(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Page,
                MediaBox=[0, 0, 595, 842],
                Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font)),
                Contents=pdf.make_stream(text),
            )
        )
        pdf.pages.append(page)
    out = BytesIO()
    if xref_stream:
        pdf.save(out, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    else:
        pdf.save(out, compress_streams=False, object_stream_mode=pikepdf.ObjectStreamMode.disable)
    return out.getvalue()


@pytest.fixture(scope="session")
def make_pdf() -> Callable[[int], bytes]:
    return _make_pdf


@pytest.fixture(scope="session")
def pdf_1page() -> bytes:
    return _make_pdf(1)


@pytest.fixture(scope="session")
def pdf_10pages() -> bytes:
    return _make_pdf(10)


@pytest.fixture(scope="session")
def nss_db(tmp_path_factory: pytest.TempPathFactory, pki: DevPki, pki_ec: DevPki, served: ServedPki) -> Path:
    """NSS database trusting the dev PKIs' and the served PKI's root and issuing CA (for pdfsig)."""
    if shutil.which("certutil") is None or shutil.which("pdfsig") is None:
        pytest.fail("certutil/pdfsig not installed (make test installs libnss3-tools and poppler-utils)")
    db = tmp_path_factory.mktemp("nssdb")
    subprocess.run(["certutil", "-N", "-d", f"sql:{db}", "--empty-password"], check=True, stdin=subprocess.DEVNULL)
    for name, cert in (
        ("rsa-root", pki.root_cert),
        ("rsa-ca", pki.ca_cert),
        ("ec-root", pki_ec.root_cert),
        ("ec-ca", pki_ec.ca_cert),
        ("served-root", served.root_cert),
        ("served-ca", served.ca_cert),
    ):
        subprocess.run(
            ["certutil", "-A", "-d", f"sql:{db}", "-n", name, "-t", "CT,C,C", "-i", str(cert)],
            check=True,
            stdin=subprocess.DEVNULL,
        )
    return db


@pytest.fixture(scope="session")
def pdfsig(nss_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[[bytes], str]:
    out_dir = tmp_path_factory.mktemp("pdfsig")
    counter = iter(range(1_000_000))

    def run(pdf: bytes) -> str:
        path = out_dir / f"doc{next(counter)}.pdf"
        path.write_bytes(pdf)
        proc = subprocess.run(
            ["pdfsig", "-nssdir", f"sql:{nss_db}", str(path)], capture_output=True, text=True, timeout=60
        )
        return proc.stdout + proc.stderr

    return run


def assert_pdfsig_valid(output: str, count: int) -> None:
    assert output.count("Signature Validation: Signature is Valid.") == count, output
    assert output.count("Certificate Validation: Certificate is Trusted.") == count, output
