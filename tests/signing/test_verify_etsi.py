"""The ETSI TS 119 102-2 validation report (``signing.validation.etsi``) next to the Vietnamese one.

Against the served test PKI, whose certificates name OCSP/CRL addresses: B-LT and B-LTA documents carry
the revocation data and pass; a B-T one does not, which EN 319 102-1 calls INDETERMINATE (our own report
says valid with the warning ``revocation_not_checked``); a tampered one fails.
"""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from xml.etree import ElementTree

import pytest
from pyhanko.generated.etsi import ts_11910202
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from xsdata.formats.dataclass.parsers import XmlParser

from signing.signers import sign_pdf
from signing.timestamps import http_timestamper
from signing.validation import VR, RevocationCache, etsi_report, main_indications, verify_pdf
from testkit.pki import ServedPki

from .conftest import MARKER, _make_pdf

pytestmark = pytest.mark.integration
Sign = Callable[..., bytes]


@pytest.fixture(scope="module")
def sign(served: ServedPki) -> Sign:
    def run(pdf: bytes, level: str, key: str = "operator") -> bytes:
        tsa = http_timestamper(served.tsa_url)
        return sign_pdf(pdf, served.key(key), level=level, timestamper=tsa, revocation=RevocationCache())  # type: ignore[arg-type]

    return run


def parsed(xml: str) -> ts_11910202.ValidationReport:
    """The report read back through pyHanko's bindings of the ETSI schema (fails on a non-conforming shape)."""
    return XmlParser().from_string(xml, ts_11910202.ValidationReport)


def test_b_lt_passes(sign: Sign, served: ServedPki) -> None:
    pdf = sign(_make_pdf(1), "B-LT")
    xml = etsi_report(pdf, served.trust_roots)

    assert main_indications(xml) == ["total-passed"]
    assert "urn:etsi:019102:validationprocess:LTVM" in xml  # EN 319 102-1 5.5: time and LTV material
    report = parsed(xml)
    assert len(report.signature_validation_report) == 1 and report.signature_validation_objects is not None
    assert verify_pdf(pdf, served.trust_roots).valid


def test_b_lta_passes_the_long_term_process(sign: Sign, served: ServedPki) -> None:
    xml = etsi_report(sign(_make_pdf(1), "B-LTA"), served.trust_roots)

    assert main_indications(xml) == ["total-passed"]
    assert "urn:etsi:019102:validationprocess:LTA" in xml


def test_b_t_without_revocation_data_is_indeterminate(sign: Sign, served: ServedPki) -> None:
    pdf = sign(_make_pdf(1), "B-T")

    assert main_indications(etsi_report(pdf, served.trust_roots)) == ["indeterminate"]
    ours = verify_pdf(pdf, served.trust_roots)
    assert ours.valid and ours.signatures[0].warnings == ["revocation_not_checked"]


def test_tampered_content_fails(sign: Sign, served: ServedPki) -> None:
    pdf = bytearray(sign(_make_pdf(1), "B-LT"))
    at = pdf.index(MARKER)
    pdf[at : at + 1] = b"X"

    assert main_indications(etsi_report(bytes(pdf), served.trust_roots)) == ["total-failed"]
    assert "integrity_broken" in verify_pdf(bytes(pdf), served.trust_roots).signatures[0].problems


def test_a_change_after_signing_is_ours_to_report_not_etsi(sign: Sign, served: ServedPki) -> None:
    """The AdES indication judges the signature; a page replaced in a later revision is the PDF's problem."""
    writer = IncrementalPdfFileWriter(BytesIO(sign(_make_pdf(1), "B-LT")))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    page["/Contents"] = writer.add_object(generic.StreamObject(stream_data=b"BT /F1 14 Tf 72 700 Td (Khac) Tj ET"))
    writer.update_container(page)
    changed = BytesIO()
    writer.write(changed)

    assert main_indications(etsi_report(changed.getvalue(), served.trust_roots)) == ["total-passed"]
    ours = verify_pdf(changed.getvalue(), served.trust_roots)
    assert not ours.valid and "modified_after_signing" in ours.signatures[0].problems


def test_one_report_for_every_signature(sign: Sign, served: ServedPki) -> None:
    pdf = sign(sign(_make_pdf(1), "B-LT"), "B-LT", key="agency")
    xml = etsi_report(pdf, served.trust_roots)

    assert main_indications(xml) == ["total-passed", "total-passed"]
    root = ElementTree.fromstring(xml.encode("utf-8"))
    ids = [vo.get("id") for vo in root.iter(f"{{{VR}}}ValidationObject")]
    assert ids and len(ids) == len(set(ids))
    assert len(parsed(xml).signature_validation_report) == 2
