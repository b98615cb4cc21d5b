"""B-LT / B-LTA against the test PKI served on 127.0.0.1 (OCSP, CRL, TSA), refusals, re-time-stamping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from signing.appearance import result_seal
from signing.batch import make_signer
from signing.errors import RevocationUnavailable, SignerCertExpired, SignerCertRevoked
from signing.ltv import extend_lta, last_timestamp_expiry, needs_extension, retimestamp_job
from signing.pades import sign_pdf
from signing.revocation import RevocationCache
from signing.seal import draw_round_seal
from signing.testpki import PkiServer, ServedPki
from signing.timestamps import http_timestamper
from signing.tsa_fast import HttpTokenSource
from signing.verify import verify_pdf

from .conftest import _make_pdf, assert_pdfsig_valid


@pytest.fixture(scope="module")
def tsa(served: ServedPki):  # type: ignore[no-untyped-def]
    return http_timestamper(served.tsa_url)


@pytest.mark.parametrize("engine", ["fast", "pyhanko"])
def test_b_lt_and_b_lta_validate_with_revocation_good(
    served: ServedPki, tsa: object, pdfsig: Callable[[bytes], str], tmp_path: Path, engine: str
) -> None:
    key = served.key("agency")
    seal = draw_round_seal("UBND THỬ NGHIỆM", tmp_path / "seal.png")
    appearance = result_seal(key.subject_name, seal, datetime.now(UTC)) if engine == "pyhanko" else None
    for level in ("B-LT", "B-LTA"):
        signed = sign_pdf(
            _make_pdf(2),
            key,
            level=level,
            timestamper=tsa,
            appearance=appearance,
            engine=engine,  # type: ignore[arg-type]
        )
        report = verify_pdf(signed, served.trust_roots)
        sig = report.signatures[0]
        assert report.valid, report.render("en")
        assert (sig.level, sig.revocation, sig.timestamp_trusted) == (level, "good", True)
        assert "revocation_not_checked" not in sig.warnings
        assert "Chứng thư số chưa bị thu hồi tại thời điểm ký" in report.render()
        assert_pdfsig_valid(pdfsig(signed), 1)


def test_revocation_data_is_cached_within_validity(served: ServedPki, pki_server: PkiServer) -> None:
    cache = RevocationCache()
    signer = make_signer(served.key("agency"), level="B-LT", tokens=HttpTokenSource(served.tsa_url), revocation=cache)
    before = pki_server.ocsp_requests + pki_server.crl_requests
    fetched = cache.fetches
    outputs = [signer.sign(_make_pdf(1)) for _ in range(5)]
    assert cache.fetches == fetched and pki_server.ocsp_requests + pki_server.crl_requests == before
    assert all(verify_pdf(out, served.trust_roots).valid for out in outputs[:2])
    later = RevocationCache(clock=lambda: datetime.now(UTC) + timedelta(hours=2))
    later.material([served.key("agency").cert, *signer.signer.chain])
    assert later.fetches >= 2  # expired entries (nextUpdate = +1 h) are fetched again


@pytest.mark.parametrize("engine", ["fast", "pyhanko"])
def test_revoked_and_expired_signers_are_refused(served: ServedPki, tsa: object, engine: str) -> None:
    with pytest.raises(SignerCertRevoked) as revoked:
        sign_pdf(_make_pdf(1), served.key("revoked"), engine=engine)  # type: ignore[arg-type]
    assert revoked.value.code == "SIGNER_CERT_REVOKED" and "thu hồi" in revoked.value.message_vi
    with pytest.raises(SignerCertExpired) as expired:
        sign_pdf(_make_pdf(1), served.key("expired"), level="B-T", timestamper=tsa, engine=engine)  # type: ignore[arg-type]
    assert expired.value.code == "SIGNER_CERT_EXPIRED" and "hết hạn" in expired.value.message_vi


def test_unreachable_responder_is_a_retryable_error(tmp_path: Path) -> None:
    dead = PkiServer(tmp_path / "dead")  # bound, never listening: connections are refused
    try:
        with pytest.raises(RevocationUnavailable) as info:
            make_signer(dead.pki.key("agency"), level="B-B", revocation=RevocationCache(timeout_s=2))
        assert info.value.code == "REVOCATION_UNAVAILABLE" and info.value.retryable
    finally:
        dead._sock.close()


def test_re_timestamp_job_extends_b_lta_before_expiry(
    served: ServedPki, tsa: object, pdfsig: Callable[[bytes], str]
) -> None:
    signed = sign_pdf(_make_pdf(1), served.key("agency"), level="B-LTA", timestamper=tsa)  # type: ignore[arg-type]
    expiry = last_timestamp_expiry(signed)
    assert expiry is not None and not needs_extension(signed)
    assert needs_extension(signed, now=expiry - timedelta(days=30))
    store = {"kq-1": signed, "kq-2": _make_pdf(1), "kq-3": b"garbage"}
    summary = retimestamp_job(list(store), store.__getitem__, store.__setitem__, tsa, now=expiry - timedelta(days=30))
    assert summary.checked == 3 and summary.extended == ["kq-1"] and list(summary.failed) == ["kq-3"]
    extended = store["kq-1"]
    assert extended.startswith(signed)
    report = verify_pdf(extended, served.trust_roots)
    assert report.valid and report.signatures[0].level == "B-LTA", report.render("en")
    assert extended.count(b"/DocTimeStamp") >= 2
    twice = extend_lta(extended, tsa)
    assert verify_pdf(twice, served.trust_roots).valid
    assert_pdfsig_valid(pdfsig(twice), 1)
