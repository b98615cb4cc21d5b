from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from asn1crypto import cms, core, tsp

from signing.dev import DevPki, DevTsaResponder
from signing.dev.tsa import DEV_TSA_POLICY, dev_timestamper
from signing.errors import TimestampUnavailable
from signing.keys import SigningKey
from signing.signers import sign_pdf
from signing.timestamps import http_timestamper
from signing.validation import verify_pdf
from testkit.servers import serve_tsa


@pytest.fixture(scope="module")
def tsa_url(pki: DevPki) -> Iterator[str]:
    with serve_tsa(DevTsaResponder(pki)) as url:
        yield url


def test_responder_grants_proper_rfc3161_tokens(pki: DevPki) -> None:
    digest = hashlib.sha256(b"hello").digest()
    nonce, req = dev_timestamper(pki).request_cms(digest, "sha256")
    resp = tsp.TimeStampResp.load(DevTsaResponder(pki).respond(req.dump()))
    assert resp["status"]["status"].native == "granted"
    info = resp["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed
    assert info["message_imprint"]["hashed_message"].native == digest
    assert info["nonce"].native == nonce and info["policy"].native == DEV_TSA_POLICY
    signer_info = resp["time_stamp_token"]["content"]["signer_infos"][0]
    attr_types = {a["type"].native for a in signer_info["signed_attrs"]}
    assert "signing_certificate_v2" in attr_types


def test_responder_rejects_garbage_with_rfc3161_status(pki: DevPki) -> None:
    reply = core.Sequence.load(DevTsaResponder(pki).respond(b"not a request"))
    status = reply[0]
    assert status[0].native == 2  # PKIStatus rejection


@pytest.mark.integration
def test_http_timestamper_against_local_responder(
    pki: DevPki, agency_key: SigningKey, pdf_1page: bytes, tsa_url: str
) -> None:
    token = cms.ContentInfo.load(http_timestamper(tsa_url).timestamp(hashlib.sha256(b"x").digest(), "sha256"))
    assert token["content"]["encap_content_info"]["content_type"].native == "tst_info"
    source = http_timestamper(tsa_url)
    for engine in ("fast", "pyhanko"):  # one source serves both signers
        signed = sign_pdf(pdf_1page, agency_key, level="B-T", timestamper=source, engine=engine)
        report = verify_pdf(signed, [pki.root_cert])
        assert report.valid and report.signatures[0].level == "B-T" and report.signatures[0].timestamp_trusted


@pytest.mark.integration
def test_unreachable_tsa_is_retryable(agency_key: SigningKey, pdf_1page: bytes) -> None:
    down = http_timestamper("http://127.0.0.1:9/tsa", timeout_s=2)
    for engine in ("fast", "pyhanko"):
        with pytest.raises(TimestampUnavailable) as info:
            sign_pdf(pdf_1page, agency_key, level="B-T", timestamper=down, engine=engine)
        assert info.value.retryable and info.value.code == "TIMESTAMP_UNAVAILABLE"
