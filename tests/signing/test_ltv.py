"""B-LT / B-LTA against the test PKI served on 127.0.0.1 (OCSP, CRL, TSA), refusals, re-time-stamping."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pikepdf
import pytest
from asn1crypto import ocsp
from asn1crypto import x509 as asn1_x509

from signing.errors import RevocationUnavailable, SignerCertExpired, SignerCertRevoked
from signing.signers import (
    FastPadesSigner,
    TsaProbe,
    extend_lta,
    last_signature_token,
    last_timestamp_expiry,
    needs_extension,
    result_seal,
    retimestamp_job,
    sign_pdf,
)
from signing.timestamps import HttpTimestampSource, http_timestamper, token_signer, token_time
from signing.validation import RevocationCache, verify_pdf
from sohoa.errors import SohoaError
from testkit.pki import PkiServer, ServedPki
from testkit.servers import refused_url

from .conftest import _make_pdf, assert_pdfsig_valid


@pytest.fixture(scope="module")
def tsa(served: ServedPki):  # type: ignore[no-untyped-def]
    return http_timestamper(served.tsa_url)


@pytest.mark.parametrize("engine", ["fast", "pyhanko"])
def test_b_lt_and_b_lta_validate_with_revocation_good(
    served: ServedPki, tsa: object, pdfsig: Callable[[bytes], str], engine: str
) -> None:
    key = served.key("agency")
    appearance = result_seal(key.subject_name, served.seal_png, datetime.now(UTC)) if engine == "pyhanko" else None
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


def _dss_ocsp_times(pdf: bytes) -> list[datetime]:
    with pikepdf.open(BytesIO(pdf)) as doc:
        responses = [ocsp.OCSPResponse.load(stream.read_bytes()) for stream in doc.Root.DSS.OCSPs]
    return [r.basic_ocsp_response["tbs_response_data"]["produced_at"].native for r in responses]


def _signature_time(pdf: bytes) -> datetime:
    token = last_signature_token(pdf)
    assert token is not None
    return token_time(token)


@pytest.mark.parametrize("engine", ["fast", "pyhanko"])
def test_dss_status_is_fetched_after_the_signature_time_stamp(served: ServedPki, tsa: object, engine: str) -> None:
    """A status answer cached before signing is not reused: the DSS only holds answers at least as new
    as the signature's time-stamp, and it holds the chain of the TSA that signed that time-stamp."""
    cache = RevocationCache()
    key = served.key("agency")
    cache.material([key.cert, *key.signer.cert_registry])  # an answer cached well before the signature
    time.sleep(1.1)
    signed = sign_pdf(_make_pdf(1), key, level="B-LT", timestamper=tsa, revocation=cache, engine=engine)  # type: ignore[arg-type]
    signed_at = _signature_time(signed).replace(microsecond=0)
    produced = _dss_ocsp_times(signed)
    assert produced and all(when >= signed_at for when in produced), (signed_at, produced)
    tsa_signer, _ = token_signer(last_signature_token(signed))  # type: ignore[arg-type]
    with pikepdf.open(BytesIO(signed)) as doc:
        dss_certs = {asn1_x509.Certificate.load(c.read_bytes()).sha256 for c in doc.Root.DSS.Certs}
    assert tsa_signer.sha256 in dss_certs


def test_a_batch_fetches_status_once_after_its_last_time_stamp(served: ServedPki, pki_server: PkiServer) -> None:
    cache = RevocationCache()
    signer = FastPadesSigner.for_key(
        served.key("agency"), level="B-LT", tokens=HttpTimestampSource(served.tsa_url), revocation=cache
    )

    def requests_for(count: int) -> tuple[int, list[bytes | SohoaError]]:
        time.sleep(1.1)  # whatever is cached is now older than the next time-stamp
        before = pki_server.ocsp_requests + pki_server.crl_requests
        outputs = signer.sign_many([_make_pdf(1) for _ in range(count)])
        return pki_server.ocsp_requests + pki_server.crl_requests - before, outputs

    one, _ = requests_for(1)
    five, outputs = requests_for(5)
    assert 0 < five == one  # one round of status requests for the whole batch, not one per document
    last = max(_signature_time(out) for out in outputs if isinstance(out, bytes)).replace(microsecond=0)
    assert all(when >= last for out in outputs if isinstance(out, bytes) for when in _dss_ocsp_times(out))
    assert all(verify_pdf(out, served.trust_roots).valid for out in outputs[:2] if isinstance(out, bytes))


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
            FastPadesSigner.for_key(dead.pki.key("agency"), level="B-B", revocation=RevocationCache(timeout_s=2))
        assert info.value.code == "REVOCATION_UNAVAILABLE" and info.value.retryable
    finally:
        dead._sock.close()


def test_re_timestamp_job_extends_b_lta_before_expiry(
    served: ServedPki, pki_server: PkiServer, tsa: object, pdfsig: Callable[[bytes], str]
) -> None:
    """Due documents get a new document time-stamp from a TSA certificate that outlives their newest one."""
    expiring = sign_pdf(_make_pdf(1), served.key("agency"), level="B-LTA", timestamper=pki_server.short_lived_tsa(30))
    expiry = last_timestamp_expiry(expiring)
    assert expiry is not None and expiry < datetime.now(UTC) + timedelta(days=31)
    assert needs_extension(expiring) and not needs_extension(expiring, margin=timedelta(days=10))
    lasting = sign_pdf(_make_pdf(1), served.key("agency"), level="B-LTA", timestamper=tsa)  # type: ignore[arg-type]
    assert not needs_extension(lasting)
    store = {"kq-1": expiring, "kq-2": lasting, "kq-3": b"garbage", "kq-4": _make_pdf(1)}
    saved: list[str] = []

    def save(key: str, pdf: bytes, was: datetime, expires: datetime) -> None:
        assert was < expires
        saved.append(key)
        store[key] = pdf

    summary = retimestamp_job(list(store), store.__getitem__, save, tsa)
    assert summary.checked == 4 and summary.extended == saved == ["kq-1"] and list(summary.failed) == ["kq-3"]
    assert summary.failed["kq-3"] == "PDF_INVALID" and summary.blocked == []
    assert summary.expiry["kq-4"] is None and summary.expiry["kq-2"] == last_timestamp_expiry(lasting)
    extended = store["kq-1"]
    assert extended.startswith(expiring) and store["kq-2"] is lasting
    new_expiry = last_timestamp_expiry(extended)
    assert new_expiry is not None and new_expiry > expiry + timedelta(days=365) and summary.expiry["kq-1"] == new_expiry
    assert not needs_extension(extended)
    report = verify_pdf(extended, served.trust_roots)
    assert report.valid and report.signatures[0].level == "B-LTA", report.render("en")
    assert extended.count(b"/DocTimeStamp") == expiring.count(b"/DocTimeStamp") + 1
    assert_pdfsig_valid(pdfsig(extended), 1)

    again = retimestamp_job(list(store), store.__getitem__, save, tsa)  # nothing is due any more
    assert again.extended == [] and saved == ["kq-1"] and store["kq-1"] is extended
    twice = extend_lta(extended, tsa)
    assert verify_pdf(twice, served.trust_roots).valid
    assert_pdfsig_valid(pdfsig(twice), 1)


def test_re_timestamping_with_the_same_tsa_certificate_is_blocked(served: ServedPki, tsa: object) -> None:
    """A new time-stamp whose certificate expires no later than the newest one extends nothing: not made."""
    signed = sign_pdf(_make_pdf(1), served.key("agency"), level="B-LTA", timestamper=tsa)  # type: ignore[arg-type]
    expiry = last_timestamp_expiry(signed)
    assert expiry is not None
    store = {"kq": signed}
    probe = TsaProbe(tsa)
    summary = retimestamp_job(
        ["kq"], store.__getitem__, store.__setitem__, tsa, now=expiry - timedelta(days=30), probe=probe
    )
    assert summary.blocked == ["kq"] and summary.extended == [] and summary.failed == {}
    assert store["kq"] is signed and probe.expiry() == expiry
    # Known from an earlier run: a blocked document is not even loaded.
    summary = retimestamp_job(
        ["kq"], _never, store.__setitem__, tsa, now=expiry - timedelta(days=30), probe=probe, known={"kq": expiry}
    )
    assert summary.blocked == ["kq"] and summary.expiry == {}


def test_re_timestamp_job_reports_a_tsa_outage_and_changes_nothing(served: ServedPki) -> None:
    signed = sign_pdf(_make_pdf(1), served.key("agency"), level="B-LTA", timestamper=http_timestamper(served.tsa_url))
    with refused_url("/tsa") as url:
        down = http_timestamper(url, timeout_s=2)
        store = {"a": signed, "b": signed}
        saved: list[str] = []
        summary = retimestamp_job(
            list(store), store.__getitem__, lambda k, *_: saved.append(k), down, margin=timedelta(days=5000)
        )
    assert summary.failed == {"a": "TIMESTAMP_UNAVAILABLE", "b": "TIMESTAMP_UNAVAILABLE"} and saved == []
    assert summary.errors["a"].code == "TIMESTAMP_UNAVAILABLE" and summary.extended == []


def _never(key: str) -> bytes:
    raise AssertionError(f"{key} was loaded")
