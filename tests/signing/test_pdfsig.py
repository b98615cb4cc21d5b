"""Independent validation of our signatures with poppler's pdfsig (NSS)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from signing.dev import DevPki, dev_timestamper
from signing.keys import SigningKey, load_pkcs12_signer
from signing.signers import copy_stamp, result_seal, sign_pdf

from .conftest import MARKER

pytestmark = pytest.mark.integration


def _assert_all_valid(output: str, count: int) -> None:
    assert output.count("Signature Validation: Signature is Valid.") == count, output
    assert output.count("Certificate Validation: Certificate is Trusted.") == count, output


def test_b_b_and_b_t(pki: DevPki, agency_key: SigningKey, pdf_1page: bytes, pdfsig: Callable[[bytes], str]) -> None:
    _assert_all_valid(pdfsig(sign_pdf(pdf_1page, agency_key)), 1)
    signed = sign_pdf(pdf_1page, agency_key, level="B-T", timestamper=dev_timestamper(pki))
    out = pdfsig(signed)
    _assert_all_valid(out, 1)
    assert "ETSI.CAdES.detached" in out and "SHA-256" in out


def test_two_signatures_with_appearances(
    pki: DevPki,
    operator_key: SigningKey,
    agency_key: SigningKey,
    pdf_10pages: bytes,
    pdfsig: Callable[[bytes], str],
) -> None:
    now = datetime.now(UTC)
    first = sign_pdf(pdf_10pages, operator_key, appearance=copy_stamp(operator_key.subject_name, now))
    second = sign_pdf(
        first,
        agency_key,
        level="B-T",
        timestamper=dev_timestamper(pki),
        appearance=result_seal(agency_key.subject_name, pki.seal_png, now),
    )
    out = pdfsig(second)
    _assert_all_valid(out, 2)
    assert "Nguyễn Thị Bình" in out and "UBND phường Ba Đình" in out


def test_pkcs1v15_and_ecdsa(pki: DevPki, pki_ec: DevPki, pdf_1page: bytes, pdfsig: Callable[[bytes], str]) -> None:
    v15 = load_pkcs12_signer(pki.agency_p12, pki.passphrase(), prefer_pss=False)
    _assert_all_valid(pdfsig(sign_pdf(pdf_1page, v15)), 1)
    ec = load_pkcs12_signer(pki_ec.agency_p12, pki_ec.passphrase())
    _assert_all_valid(pdfsig(sign_pdf(pdf_1page, ec, level="B-T", timestamper=dev_timestamper(pki_ec))), 1)


def test_tampered_is_not_valid(operator_key: SigningKey, pdf_1page: bytes, pdfsig: Callable[[bytes], str]) -> None:
    signed = sign_pdf(pdf_1page, operator_key)
    at = signed.index(MARKER)
    out = pdfsig(signed[:at] + b"X" + signed[at + 1 :])
    assert "Signature is Valid." not in out
    assert "Signature Validation: Digest Mismatch." in out
