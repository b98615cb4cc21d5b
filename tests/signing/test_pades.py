from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from signing.dev import DevPki, dev_timestamper
from signing.errors import PdfInvalid, SigningLevelUnsupported, TimestamperRequired
from signing.keys import ECDSA, SigningKey, load_pkcs12_signer
from signing.signers import copy_stamp, result_seal, sign_pdf
from signing.validation import VerificationReport, verify_pdf
from signing.vntime import iso_vn

from .conftest import MARKER


def _only(report: VerificationReport):
    assert len(report.signatures) == 1
    return report.signatures[0]


def test_b_b_validates(pki: DevPki, operator_key: SigningKey, pdf_1page: bytes) -> None:
    signed = sign_pdf(pdf_1page, operator_key, reason="Số hóa hồ sơ", location="Hà Nội")
    assert signed.startswith(pdf_1page)  # incremental update
    report = verify_pdf(signed, [pki.root_cert])
    sig = _only(report)
    assert report.valid
    assert (sig.intact, sig.trusted, sig.covers_whole_file, sig.level) == (True, True, True, "B-B")
    assert sig.signer_name == "Nguyễn Thị Bình"
    assert sig.subfilter == "ETSI.CAdES.detached" and sig.digest_algorithm == "sha256"
    assert sig.signature_algorithm == "rsassa_pss"
    assert sig.timestamp_present is False and "no_timestamp" in sig.warnings
    assert "revocation_not_checked" in sig.warnings


def test_b_t_validates_with_timestamp(pki: DevPki, agency_key: SigningKey, pdf_10pages: bytes) -> None:
    signed = sign_pdf(pdf_10pages, agency_key, level="B-T", timestamper=dev_timestamper(pki))
    report = verify_pdf(signed, [pki.root_cert])
    sig = _only(report)
    assert report.valid and sig.level == "B-T"
    assert sig.timestamp_present and sig.timestamp_valid and sig.timestamp_trusted
    assert abs((sig.timestamp_time - datetime.now(UTC)).total_seconds()) < 120
    assert sig.to_dict()["timestamp"]["time"].endswith("+07:00")


def test_operator_then_agency_both_validate_and_earlier_signature_is_kept(
    pki: DevPki, operator_key: SigningKey, agency_key: SigningKey, pdf_1page: bytes
) -> None:
    now = datetime.now(UTC)
    first = sign_pdf(pdf_1page, operator_key, appearance=copy_stamp(operator_key.subject_name, now))
    second = sign_pdf(
        first,
        agency_key,
        level="B-T",
        timestamper=dev_timestamper(pki),
        appearance=result_seal(agency_key.subject_name, pki.seal_png, now),
    )
    assert second.startswith(first)  # the first revision is byte-for-byte untouched
    report = verify_pdf(second, [pki.root_cert])
    assert report.valid, report.render("en")
    op, ag = report.signatures
    assert (op.field_name, ag.field_name) == ("Signature1", "Signature2")
    assert (op.signer_name, ag.signer_name) == ("Nguyễn Thị Bình", "UBND phường Ba Đình")
    assert op.coverage == "entire_revision" and op.modification_level == "form_filling"
    assert not op.modified_after_signing and ag.covers_whole_file
    assert (op.level, ag.level) == ("B-B", "B-T")


def test_tampering_inside_signed_range_is_detected(pki: DevPki, operator_key: SigningKey, pdf_1page: bytes) -> None:
    signed = sign_pdf(pdf_1page, operator_key)
    at = signed.index(MARKER)
    tampered = signed[:at] + b"X" + signed[at + 1 :]
    report = verify_pdf(tampered, [pki.root_cert])
    sig = _only(report)
    assert not report.valid and not sig.intact and "integrity_broken" in sig.problems
    assert "Tài liệu KHÔNG hợp lệ" in report.render()


def test_untrusted_root(pki: DevPki, pki_ec: DevPki, operator_key: SigningKey, pdf_1page: bytes) -> None:
    signed = sign_pdf(pdf_1page, operator_key)
    report = verify_pdf(signed, [pki_ec.root_cert])
    sig = _only(report)
    assert sig.intact and not sig.trusted and not report.valid
    assert "untrusted" in sig.problems
    assert "Chứng thư số không được tin cậy" in report.render()


def test_ecdsa_p256_pki(pki_ec: DevPki, pdf_1page: bytes) -> None:
    key = load_pkcs12_signer(pki_ec.agency_p12, pki_ec.passphrase())
    assert key.algorithm == ECDSA
    signed = sign_pdf(pdf_1page, key, level="B-T", timestamper=dev_timestamper(pki_ec))
    report = verify_pdf(signed, [pki_ec.root_cert])
    sig = _only(report)
    assert report.valid and sig.level == "B-T" and sig.signature_algorithm == "sha256_ecdsa"


def test_pkcs1v15_remains_selectable(pki: DevPki, pdf_1page: bytes) -> None:
    key = load_pkcs12_signer(pki.agency_p12, pki.passphrase(), prefer_pss=False)
    report = verify_pdf(sign_pdf(pdf_1page, key), [pki.root_cert])
    assert report.valid and _only(report).signature_algorithm == "sha256_rsa"


def test_vietnamese_report(pki: DevPki, operator_key: SigningKey, pdf_1page: bytes) -> None:
    report = verify_pdf(sign_pdf(pdf_1page, operator_key), [pki.root_cert])
    text = report.render()
    for phrase in (
        "Chữ ký hợp lệ",
        "Tài liệu không bị thay đổi sau khi ký",
        "Không kiểm tra được trạng thái thu hồi chứng thư số",
        "Nguyễn Thị Bình",
        "+07:00",
    ):
        assert phrase in text
    assert "Signature is valid" in report.render("en")
    assert report.to_dict()["signatures"][0]["warnings"] == ["revocation_not_checked", "no_timestamp"]


def test_unsigned_and_garbled_pdfs(pki: DevPki, pdf_1page: bytes) -> None:
    report = verify_pdf(pdf_1page, [pki.root_cert])
    assert not report.valid and report.problems == ["no_signatures"]
    assert "Tài liệu không có chữ ký số." in report.render()
    with pytest.raises(PdfInvalid) as info:
        verify_pdf(b"%PDF-1.7\nthis is not a pdf", [pki.root_cert])
    assert info.value.code == "PDF_INVALID"


def test_a_fault_of_ours_is_logged_as_one_not_only_called_unreadable(
    pki: DevPki,
    operator_key: SigningKey,
    pdf_1page: bytes,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.WARNING, logger="signing.validation.verify")
    with pytest.raises(PdfInvalid):
        verify_pdf(b"%PDF-1.7\nthis is not a pdf", [pki.root_cert])  # the file's fault: a warning
    assert [r.levelno for r in caplog.records] == [logging.WARNING] and caplog.records[0].exc_info is None
    caplog.clear()

    # A bug of ours: one of our functions handed the reader where it expects a time (raises in signing/vntime.py).
    monkeypatch.setattr("signing.validation.verify._dss_summary", iso_vn)
    signed = sign_pdf(pdf_1page, operator_key)
    with pytest.raises(PdfInvalid):  # still what the citizen is told: no server error from a PDF
        verify_pdf(signed, [pki.root_cert])
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "fault in our code" in errors[0].getMessage() and errors[0].exc_info is not None


def _key_without_pointers(pki: DevPki, directory: Path) -> SigningKey:
    """A key of the dev CA whose certificate names no OCSP responder or CRL."""
    from signing.dev.pki import _issue, _name, _new_key, _p12, load_issued

    ca = load_issued(pki.ca_p12, pki.passphrase())
    leaf = _issue(_name("Không có OCSP/CRL"), _new_key("rsa2048"), ca, ca=False, years=1)
    (directory / "bare.p12").write_bytes(_p12("bare", leaf, [ca.cert], pki.passphrase()))
    return load_pkcs12_signer(directory / "bare.p12", pki.passphrase())


def test_levels_and_inputs_refused_with_codes(
    pki: DevPki, operator_key: SigningKey, pdf_1page: bytes, tmp_path: Path
) -> None:
    for level in ("B-T", "B-LT", "B-LTA"):
        with pytest.raises(TimestamperRequired):
            sign_pdf(pdf_1page, operator_key, level=level)
    bare = _key_without_pointers(pki, tmp_path)
    for level in ("B-LT", "B-LTA"):  # a certificate naming no OCSP/CRL responder: LTV impossible
        for engine in ("fast", "pyhanko"):
            with pytest.raises(SigningLevelUnsupported) as info:
                sign_pdf(pdf_1page, bare, level=level, timestamper=dev_timestamper(pki), engine=engine)
            assert info.value.code == "SIGNING_LEVEL_UNSUPPORTED"
    with pytest.raises(PdfInvalid):
        sign_pdf(b"garbage", operator_key)
