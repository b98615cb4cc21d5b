"""Documents signed or certified before they reach us, by another party's key, with pyHanko.

The other party has a PKI of its own (root -> signer, root -> TSA) that our PKI knows nothing
about: the tests trust its root separately (CorpusFile.extra_roots). The EC keys are derived from
fixed numbers and certificates carry fixed dates, so names, keys and validity are the same on
every build.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps import DummyTimeStamper
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

NOT_BEFORE = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
NOT_AFTER = dt.datetime(2049, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class _Party:
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    cert: x509.Certificate


@dataclass(frozen=True)
class OtherPki:
    """The other party's root (to trust), signer and TSA."""

    root_pem: Path
    root: _Party
    signer: _Party
    tsa: _Party


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Other Party CA (sohoa test corpus)"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _issue(
    subject: str,
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey,
    issuer: _Party | None,
    serial: int,
    *,
    ca: bool,
    tsa: bool = False,
) -> _Party:
    issuer_name = _name(subject) if issuer is None else issuer.cert.subject
    signing_key = key if issuer is None else issuer.key
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=not ca and not tsa,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
        )
    if tsa:  # RFC 3161 section 2.3: the only, critical extended key usage
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
    return _Party(key, builder.sign(signing_key, hashes.SHA256()))


def other_pki(directory: Path) -> OtherPki:
    """The other party's PKI; writes its root certificate (other-root.pem) under ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    root = _issue("Other Party Root CA", ec.derive_private_key(0x50484F41_0001, ec.SECP256R1()), None, 1001, ca=True)
    signer = _issue(
        "Lê Văn Khác (other signer)", ec.derive_private_key(0x50484F41_0002, ec.SECP256R1()), root, 1002, ca=False
    )
    # pyHanko's DummyTimeStamper signs with RSA only: the TSA key is the one key generated afresh
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tsa = _issue("Other Party TSA", tsa_key, root, 1003, ca=False, tsa=True)
    root_pem = directory / "other-root.pem"
    root_pem.write_bytes(root.cert.public_bytes(serialization.Encoding.PEM))
    return OtherPki(root_pem, root, signer, tsa)


def _asn1(party: _Party) -> tuple[asn1_x509.Certificate, asn1_keys.PrivateKeyInfo]:
    der_key = party.key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return asn1_x509.Certificate.load(
        party.cert.public_bytes(serialization.Encoding.DER)
    ), asn1_keys.PrivateKeyInfo.load(der_key)


def _signer(pki: OtherPki, party: _Party) -> signers.SimpleSigner:
    cert, key = _asn1(party)
    root_cert, _ = _asn1(pki.root)
    return signers.SimpleSigner(cert, key, SimpleCertificateStore.from_certs([root_cert]))


def sign(
    pki: OtherPki,
    source: Path,
    out: Path,
    *,
    mode: str,
    box: tuple[int, int, int, int] | None = None,
) -> None:
    """``mode``: pkcs7 (adbe.pkcs7.detached, visible) | lta (PAdES B-LTA with a document time-stamp)
    | certify-p2 (DocMDP P=2) | certify-p1 (DocMDP P=1, no changes allowed)."""
    signer = _signer(pki, pki.signer)
    field = {"pkcs7": "ChuKyBenKhac", "lta": "ChuKyLTA", "certify-p2": "ChungThuc", "certify-p1": "ChungThucKhoa"}[mode]
    meta: dict[str, object] = {"field_name": field, "reason": "Ký bởi bên khác", "location": "Hà Nội"}
    timestamper = None
    if mode == "pkcs7":
        meta["subfilter"] = fields.SigSeedSubFilter.ADOBE_PKCS7_DETACHED
    elif mode == "lta":
        tsa_cert, tsa_key = _asn1(pki.tsa)
        root_cert, _ = _asn1(pki.root)
        timestamper = DummyTimeStamper(tsa_cert, tsa_key, SimpleCertificateStore.from_certs([root_cert]))
        context = ValidationContext(trust_roots=[root_cert], allow_fetching=False)
        meta |= {"subfilter": fields.SigSeedSubFilter.PADES, "embed_validation_info": True, "use_pades_lta": True}
        meta["validation_context"] = context
    else:
        meta["certify"] = True
        meta["docmdp_permissions"] = fields.MDPPerm.FILL_FORMS if mode == "certify-p2" else fields.MDPPerm.NO_CHANGES
    spec = fields.SigFieldSpec(field, on_page=0, box=box) if box else None
    pdf_signer = signers.PdfSigner(
        signers.PdfSignatureMetadata(**meta),  # type: ignore[arg-type]
        signer,
        timestamper=timestamper,
        new_field_spec=spec,
    )
    with source.open("rb") as data, out.open("wb") as output:
        pdf_signer.sign_pdf(IncrementalPdfFileWriter(data, strict=False), output=output)


def empty_signature_field(source: Path, out: Path) -> None:
    """An unsigned, visible signature field placed in advance (a form awaiting the official's signature)."""
    with source.open("rb") as data, out.open("wb") as output:
        writer = IncrementalPdfFileWriter(data, strict=False)
        spec = fields.SigFieldSpec("ChuKyChoKy", on_page=0, box=(380, 60, 560, 140), empty_field_appearance=True)
        fields.append_signature_field(writer, spec)
        writer.write(output)
