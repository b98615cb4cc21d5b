"""The batch signer's fast path: standards output (pyHanko + pdfsig), refusals, modification reports."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pikepdf
import pytest
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

from signing.dev import DevPki, dev_timestamper
from signing.errors import KeyCertMismatch, PdfCertified, PdfEncrypted
from signing.keys import SigningKey, load_pem_signer, load_pkcs12_signer, raw_signer
from signing.signers import BatchConfig, BatchSigner, FastPadesSigner, copy_stamp, sign_pdf
from signing.validation import verify_pdf

from .conftest import MARKER, _make_pdf, assert_pdfsig_valid


@pytest.mark.parametrize("xref_stream", [False, True], ids=["xref-table", "xref-stream"])
def test_fast_b_b_and_b_t_validate_in_pyhanko_and_pdfsig(
    pki: DevPki, agency_key: SigningKey, pdfsig: Callable[[bytes], str], xref_stream: bool
) -> None:
    pdf = _make_pdf(3, xref_stream=xref_stream)
    for level, timestamper in (("B-B", None), ("B-T", dev_timestamper(pki))):
        signed = sign_pdf(pdf, agency_key, level=level, timestamper=timestamper, reason="Kết quả", engine="fast")
        assert signed.startswith(pdf)
        report = verify_pdf(signed, [pki.root_cert])
        sig = report.signatures[0]
        assert report.valid, report.render("en")
        assert (sig.level, sig.covers_whole_file, sig.signature_algorithm) == (level, True, "rsassa_pss")
        out = pdfsig(signed)
        assert_pdfsig_valid(out, 1)
        assert "ETSI.CAdES.detached" in out and "Total document signed" in out


def test_fast_after_visible_signature_keeps_both_valid(
    pki: DevPki, operator_key: SigningKey, agency_key: SigningKey, pdfsig: Callable[[bytes], str]
) -> None:
    stamp = copy_stamp(operator_key.subject_name, datetime.now(UTC))
    first = sign_pdf(_make_pdf(2), operator_key, appearance=stamp)
    second = sign_pdf(first, agency_key, level="B-T", timestamper=dev_timestamper(pki), engine="fast")
    report = verify_pdf(second, [pki.root_cert])
    assert report.valid, report.render("en")
    assert [s.field_name for s in report.signatures] == ["Signature1", "Signature2"]
    assert report.signatures[0].modification_level == "form_filling"
    assert_pdfsig_valid(pdfsig(second), 2)


@pytest.mark.parametrize("digest", ["sha384", "sha512"])
def test_algorithms_ecdsa_pkcs1v15_and_digests(
    pki: DevPki, pki_ec: DevPki, pdfsig: Callable[[bytes], str], digest: str
) -> None:
    pdf = _make_pdf(1)
    ec = load_pkcs12_signer(pki_ec.agency_p12, pki_ec.passphrase())
    v15 = load_pkcs12_signer(pki.agency_p12, pki.passphrase(), prefer_pss=False)
    pss = load_pkcs12_signer(pki.agency_p12, pki.passphrase())
    cases = [(ec, pki_ec, f"{digest}_ecdsa"), (v15, pki, f"{digest}_rsa"), (pss, pki, "rsassa_pss")]
    for key, root_pki, algorithm in cases:
        signed = FastPadesSigner(raw_signer(key, digest)).sign(pdf)
        report = verify_pdf(signed, [root_pki.root_cert])
        sig = report.signatures[0]
        assert report.valid and sig.signature_algorithm == algorithm and sig.digest_algorithm == digest
        assert_pdfsig_valid(pdfsig(signed), 1)


def test_tampering_and_later_modification_report_the_revision(
    pki: DevPki, agency_key: SigningKey, pdfsig: Callable[[bytes], str]
) -> None:
    signed = sign_pdf(_make_pdf(2), agency_key, engine="fast")
    at = signed.index(MARKER)
    report = verify_pdf(signed[:at] + b"X" + signed[at + 1 :], [pki.root_cert])
    assert not report.valid and "integrity_broken" in report.signatures[0].problems
    assert "Signature Validation: Digest Mismatch." in pdfsig(signed[:at] + b"X" + signed[at + 1 :])

    writer = IncrementalPdfFileWriter(BytesIO(signed))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    forged = generic.StreamObject(stream_data=b"BT /F1 14 Tf 72 600 Td (Forged after signing) Tj ET")
    page["/Contents"] = writer.add_object(forged)
    writer.update_container(page)
    out = BytesIO()
    writer.write(out)
    report = verify_pdf(out.getvalue(), [pki.root_cert])
    sig = report.signatures[0]
    assert not report.valid and sig.intact and sig.modified_after_signing
    assert (sig.signed_revision, sig.total_revisions, sig.modified_in_revision) == (2, 3, 3)
    assert "Thay đổi không được phép nằm ở phiên bản 3" in report.render()
    assert "The disallowed change is in revision 3" in report.render("en")


def test_refuses_encrypted_and_certified_pdfs(pki: DevPki, agency_key: SigningKey, operator_key: SigningKey) -> None:
    encrypted = BytesIO()
    with pikepdf.open(BytesIO(_make_pdf(1))) as doc:
        doc.save(encrypted, encryption=pikepdf.Encryption(owner="owner", user="", R=6))
    meta = signers.PdfSignatureMetadata(
        field_name="Certification", certify=True, docmdp_permissions=fields.MDPPerm.NO_CHANGES
    )
    certified = signers.sign_pdf(
        IncrementalPdfFileWriter(BytesIO(_make_pdf(1))), meta, signer=operator_key.signer
    ).getvalue()
    for engine in ("fast", "pyhanko"):
        with pytest.raises(PdfEncrypted) as enc:
            sign_pdf(encrypted.getvalue(), agency_key, engine=engine)
        assert enc.value.code == "PDF_ENCRYPTED" and "mã hóa" in enc.value.message_vi
        with pytest.raises(PdfCertified) as cert:
            sign_pdf(certified, agency_key, engine=engine)
        assert cert.value.code == "PDF_CERTIFIED"


def test_key_not_matching_certificate_is_refused(pki: DevPki, tmp_path: Path) -> None:
    operator = load_pkcs12_signer(pki.operator_p12, pki.passphrase())
    key_pem = tmp_path / "operator.key"
    private = operator.signer.private_key
    key_pem.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    with pytest.raises(KeyCertMismatch) as info:
        load_pem_signer(key_pem, pki.directory / "agency.pem", (pki.ca_cert, pki.root_cert))
    assert info.value.code == "KEY_CERT_MISMATCH"
    good = load_pem_signer(key_pem, pki.directory / "operator.pem", (pki.ca_cert, pki.root_cert))
    assert verify_pdf(sign_pdf(_make_pdf(1), good), [pki.root_cert]).valid


def test_batch_files_in_a_process_pool(pki: DevPki, tmp_path: Path, pdfsig: Callable[[bytes], str]) -> None:
    sources = []
    for n in range(6):
        path = tmp_path / f"in{n}.pdf"
        path.write_bytes(_make_pdf(1 + n % 3, xref_stream=n % 2 == 1))
        sources.append(path)
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7 not really")
    config = BatchConfig(p12=pki.agency_p12, passphrase=pki.passphrase(), level="B-B")
    assert "passphrase" not in repr(config) or pki.passphrase().decode() not in repr(config)
    with BatchSigner(config, processes=2) as batch:
        results = list(batch.sign_files([*sources, broken], tmp_path / "out"))
    assert [r.ok for r in results] == [True] * 6 + [False]
    assert results[-1].code == "PDF_INVALID"
    for result in results[:3]:
        signed = Path(str(result.output)).read_bytes()
        assert verify_pdf(signed, [pki.root_cert]).valid
        assert_pdfsig_valid(pdfsig(signed), 1)


def test_fast_tokens_from_in_process_tsa_are_granted(pki: DevPki, agency_key: SigningKey) -> None:
    signer = FastPadesSigner(raw_signer(agency_key), level="B-T", tokens=dev_timestamper(pki))
    report = verify_pdf(signer.sign(_make_pdf(1)), [pki.root_cert])
    assert report.valid and report.signatures[0].timestamp_trusted


def _with_catalog_extras(pdf: bytes) -> bytes:
    """A file whose catalog already declares an extension and whose page 1 carries Python scalars."""
    with pikepdf.open(BytesIO(pdf)) as doc:
        doc.Root.Extensions = pikepdf.Dictionary(
            ADBE=pikepdf.Dictionary(BaseVersion=pikepdf.Name("/1.7"), ExtensionLevel=3)
        )
        doc.pages[0].obj.Rotate = 0
        doc.pages[0].obj.StructParents = 0
        doc.Root.MarkInfo = pikepdf.Dictionary(Marked=True)
        out = BytesIO()
        doc.save(out)
        return out.getvalue()


def test_fast_path_merges_extensions_and_keeps_scalars(agency_key: SigningKey, pki: DevPki) -> None:
    pdf = _with_catalog_extras(_make_pdf(1))
    signed = sign_pdf(pdf, agency_key, engine="fast")
    assert signed.startswith(pdf)
    with pikepdf.open(BytesIO(signed)) as doc:
        assert set(doc.Root.Extensions.keys()) == {"/ADBE", "/ESIC"}
        assert int(doc.Root.Extensions.ADBE.ExtensionLevel) == 3
        assert doc.pages[0].obj.Rotate == 0 and doc.pages[0].obj.StructParents == 0
        assert bool(doc.Root.MarkInfo.Marked) is True
    assert verify_pdf(signed, [pki.root_cert]).valid


def test_new_objects_are_numbered_past_the_highest_object_not_a_short_size(agency_key: SigningKey) -> None:
    pdf = _make_pdf(1)
    with pikepdf.open(BytesIO(pdf)) as doc:
        highest = max(num for num, _ in doc.get_xref_table())
    short = pdf.replace(b"/Size %d" % (highest + 1), b"/Size 2")
    assert short != pdf
    signed = sign_pdf(short, agency_key, engine="fast")  # unsigned: rewritten before its first signature
    with pikepdf.open(BytesIO(signed)) as doc:
        assert MARKER in doc.pages[0].Contents.read_bytes()  # the content stream was not overwritten


def test_a_field_lock_with_no_changes_is_honoured(agency_key: SigningKey, operator_key: SigningKey) -> None:
    """An approval signature whose field locks the document (PDF 2.0 /Lock with P=1) is not signed over."""
    spec = fields.SigFieldSpec(
        "KhoaTaiLieu",
        field_mdp_spec=fields.FieldMDPSpec(fields.FieldMDPAction.ALL),
        doc_mdp_update_value=fields.MDPPerm.NO_CHANGES,
    )
    writer = IncrementalPdfFileWriter(BytesIO(_make_pdf(1)))
    fields.append_signature_field(writer, spec)
    with_field = BytesIO()
    writer.write(with_field)
    meta = signers.PdfSignatureMetadata(field_name="KhoaTaiLieu")
    locked = signers.sign_pdf(
        IncrementalPdfFileWriter(BytesIO(with_field.getvalue())), meta, signer=operator_key.signer
    ).getvalue()
    for engine in ("fast", "pyhanko"):
        with pytest.raises(PdfCertified) as refused:
            sign_pdf(locked, agency_key, engine=engine)
        assert refused.value.code == "PDF_CERTIFIED"
