"""The pre-signing OCSP/CRL check believes only authentic, current answers (RFC 6960, RFC 8954).

A dedicated test PKI is served on 127.0.0.1 (``PkiServer``: real OCSP responder signed by the
issuing CA, real CRLs). Forged, stale or replayed answers are built here with the PKI's own keys
and served by a small HTTP responder named in the AIA of certificates issued by the same CA;
anything else it forwards to the real responder. Every refusal is REVOCATION_UNAVAILABLE, the code
signing already gives for an unreachable responder.
"""

from __future__ import annotations

import datetime as dt
import threading
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

from signing.dev.pki import _issue, _Issued, _name, _new_key, _p12
from signing.errors import RevocationUnavailable
from signing.keys import SigningKey, load_pkcs12_signer
from signing.signers import sign_pdf
from signing.validation import DEFAULT_MAX_AGE, RevocationCache, verify_pdf
from sohoa.settings import SigningSettings
from testkit.pki import PkiServer

from .conftest import _make_pdf

Answer = Callable[[ocsp.OCSPRequest], bytes]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))


class OcspStub:
    """An OCSP responder on 127.0.0.1 that answers with ``self.answer`` (default: the real responder's)."""

    def __init__(self, upstream: str):
        self.upstream = upstream
        self.answer: Answer | None = None
        self.requests: list[ocsp.OCSPRequest] = []
        self.responses: list[bytes] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                request = ocsp.load_der_ocsp_request(body)
                stub.requests.append(request)
                data = stub.answer(request) if stub.answer is not None else stub.forward(body)
                stub.responses.append(data)
                self.send_response(200)
                self.send_header("Content-Type", "application/ocsp-response")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                return

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}/ocsp"
        self._thread = threading.Thread(target=self._http.serve_forever, name="ocsp-stub", daemon=True)
        self._thread.start()

    def forward(self, body: bytes) -> bytes:
        req = urllib.request.Request(
            self.upstream, data=body, method="POST", headers={"Content-Type": "application/ocsp-request"}
        )
        with urllib.request.urlopen(req, timeout=5) as resp:
            data: bytes = resp.read()
        return data

    def close(self) -> None:
        self._http.shutdown()
        self._http.server_close()


@dataclass
class Setup:
    server: PkiServer
    stub: OcspStub
    leaf: _Issued  # certificate naming only the stub as OCSP responder (no CRL)
    key: SigningKey  # the same certificate, loaded as a signing key

    @property
    def chain(self) -> list[asn1_x509.Certificate]:
        return [_asn1(c) for c in (self.leaf.cert, self.server.ca.cert, self.server.root.cert)]

    def respond(
        self,
        request: ocsp.OCSPRequest,
        *,
        signer: _Issued | None = None,
        about: x509.Certificate | None = None,
        this_update: dt.datetime | None = None,
        next_update: dt.datetime | str | None = "default",
        nonce: bytes | str | None = "echo",
        status: ocsp.OCSPCertStatus = ocsp.OCSPCertStatus.GOOD,
    ) -> bytes:
        """A response for ``self.leaf`` (or ``about``) built and signed here (by the issuing CA unless ``signer``)."""
        signer = signer or self.server.ca
        now = _now()
        this_update = this_update or now - dt.timedelta(seconds=5)
        if next_update == "default":
            next_update = now + dt.timedelta(hours=1)
        builder = ocsp.OCSPResponseBuilder().add_response(
            cert=about or self.leaf.cert,
            issuer=self.server.ca.cert,
            algorithm=request.hash_algorithm,
            cert_status=status,
            this_update=this_update,
            next_update=next_update,  # type: ignore[arg-type]
            revocation_time=now - dt.timedelta(hours=1) if status == ocsp.OCSPCertStatus.REVOKED else None,
            revocation_reason=None,
        )
        builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, signer.cert)
        if signer is not self.server.ca:
            builder = builder.certificates([signer.cert])
        if nonce == "echo":
            nonce = request.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
        if nonce is not None:
            builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)  # type: ignore[arg-type]
        return builder.sign(signer.key, hashes.SHA256()).public_bytes(Encoding.DER)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    directory = tmp_path_factory.mktemp("ocsp-checks")
    with PkiServer(directory / "pki") as server:
        stub = OcspStub(server.pki.ocsp_url)
        aia = x509.AuthorityInformationAccess(
            [x509.AccessDescription(AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(stub.url))]
        )
        subject = _name("Phạm Văn Kiểm Tra (thử nghiệm)")
        leaf = _issue(subject, _new_key("rsa2048"), server.ca, ca=False, years=1, extensions=(aia,))
        server.by_serial[leaf.cert.serial_number] = leaf.cert  # the real responder answers for it too
        p12 = directory / "stubbed.p12"
        p12.write_bytes(_p12("stubbed", leaf, [server.ca.cert, server.root.cert], b"test-passphrase"))
        try:
            yield Setup(server, stub, leaf, load_pkcs12_signer(p12, b"test-passphrase"))
        finally:
            stub.close()


@pytest.fixture
def stub(setup: Setup) -> Iterator[OcspStub]:
    setup.stub.answer = None
    setup.stub.requests.clear()
    setup.stub.responses.clear()
    yield setup.stub
    setup.stub.answer = None


def _responder(setup: Setup, *, ocsp_eku: bool, issuer: _Issued | None = None, years: float = 1) -> _Issued:
    """A certificate from the issuing CA (or ``issuer``), with or without id-kp-OCSPSigning."""
    eku = (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]),) if ocsp_eku else ()
    subject = _name("sohoa TEST OCSP responder")
    return _issue(subject, _new_key("rsa2048"), issuer or setup.server.ca, ca=False, years=years, extensions=eku)


def _refused(setup: Setup, fragment: str) -> None:
    with pytest.raises(RevocationUnavailable) as info:
        RevocationCache().material(setup.chain)
    assert info.value.code == "REVOCATION_UNAVAILABLE" and info.value.retryable
    assert fragment in str(info.value)


# Authentic, fresh answers --------------------------------------------------------------------


def test_fresh_answer_of_the_served_responder_is_accepted_and_echoes_our_nonce(setup: Setup, stub: OcspStub) -> None:
    material = RevocationCache().material(setup.chain)  # forwarded: the real responder, signed by the CA
    assert len(material.ocsps) == 1 and material.ocsps[0] == stub.responses[-1]
    sent = stub.requests[-1].extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
    echoed = ocsp.load_der_ocsp_response(stub.responses[-1]).extensions.get_extension_for_class(x509.OCSPNonce)
    assert len(sent) == 32 and echoed.value.nonce == sent
    again = RevocationCache().material(setup.chain)
    assert stub.requests[-1].extensions.get_extension_for_class(x509.OCSPNonce).value.nonce != sent  # fresh nonce
    assert again.ocsps != material.ocsps


def test_served_pki_signing_still_works_end_to_end(setup: Setup, stub: OcspStub) -> None:
    signed = sign_pdf(_make_pdf(1), setup.key, revocation=RevocationCache())
    assert stub.requests, "the pre-signing check asked the responder"
    assert verify_pdf(signed, [setup.server.pki.root_cert]).valid


def test_delegated_responder_with_ocsp_signing_eku_is_accepted(setup: Setup, stub: OcspStub) -> None:
    responder = _responder(setup, ocsp_eku=True)
    stub.answer = lambda req: setup.respond(req, signer=responder)
    assert len(RevocationCache().material(setup.chain).ocsps) == 1


def test_responder_that_ignores_the_nonce_is_judged_by_this_update(setup: Setup, stub: OcspStub) -> None:
    stub.answer = lambda req: setup.respond(req, nonce=None)
    assert len(RevocationCache().material(setup.chain).ocsps) == 1


def test_answer_without_next_update_is_accepted_while_younger_than_max_age(setup: Setup, stub: OcspStub) -> None:
    stub.answer = lambda req: setup.respond(req, this_update=_now() - dt.timedelta(hours=1), next_update=None)
    assert len(RevocationCache().material(setup.chain).ocsps) == 1


# Forged answers ---------------------------------------------------------------------------------


def test_answer_signed_by_another_leaf_of_the_same_ca_is_refused(setup: Setup, stub: OcspStub) -> None:
    """Another agency's certificate from the same CA (no id-kp-OCSPSigning) must not vouch for ours."""
    agency = setup.server.leaves["agency"]
    stub.answer = lambda req: setup.respond(req, signer=agency)
    _refused(setup, "not authorised")
    with pytest.raises(RevocationUnavailable) as info:  # and signing is refused with that code
        sign_pdf(_make_pdf(1), setup.key, revocation=RevocationCache())
    assert info.value.code == "REVOCATION_UNAVAILABLE"


def test_answer_signed_by_a_leaf_is_refused_whatever_status_it_claims(setup: Setup, stub: OcspStub) -> None:
    """A leaf's "revoked" is no more authoritative than its "good": unauthorised, not SIGNER_CERT_REVOKED."""
    agency = setup.server.leaves["agency"]
    stub.answer = lambda req: setup.respond(req, signer=agency, status=ocsp.OCSPCertStatus.REVOKED)
    _refused(setup, "not authorised")


def test_responder_certificate_from_a_look_alike_ca_is_refused(setup: Setup, stub: OcspStub) -> None:
    """id-kp-OCSPSigning is not enough: the responder certificate must be issued by the certificate's CA."""
    rogue_ca = _issue(setup.server.ca.cert.subject, _new_key("rsa2048"), None, ca=True, years=1)
    responder = _responder(setup, ocsp_eku=True, issuer=rogue_ca)
    stub.answer = lambda req: setup.respond(req, signer=responder)
    _refused(setup, "not authorised")


def test_expired_delegated_responder_is_refused(setup: Setup, stub: OcspStub) -> None:
    responder = _responder(setup, ocsp_eku=True, years=0)  # not after = not before (yesterday)
    stub.answer = lambda req: setup.respond(req, signer=responder)
    _refused(setup, "not authorised")


def test_answer_about_another_certificate_is_refused(setup: Setup, stub: OcspStub) -> None:
    other = setup.server.leaves["operator"].cert
    stub.answer = lambda req: setup.respond(req, about=other, nonce=None)
    _refused(setup, "another certificate")


# Stale and replayed answers ------------------------------------------------------------------------


def test_answer_past_its_next_update_is_refused(setup: Setup, stub: OcspStub) -> None:
    stub.answer = lambda req: setup.respond(
        req, this_update=_now() - dt.timedelta(hours=3), next_update=_now() - dt.timedelta(hours=2)
    )
    _refused(setup, "stale")


def test_answer_issued_in_the_future_is_refused(setup: Setup, stub: OcspStub) -> None:
    stub.answer = lambda req: setup.respond(
        req, this_update=_now() + dt.timedelta(hours=1), next_update=_now() + dt.timedelta(hours=2)
    )
    _refused(setup, "in the future")


def test_answer_without_next_update_older_than_max_age_is_refused(setup: Setup, stub: OcspStub) -> None:
    old = _now() - DEFAULT_MAX_AGE - dt.timedelta(minutes=5)
    stub.answer = lambda req: setup.respond(req, this_update=old, next_update=None)
    _refused(setup, "too old")


def test_nonce_mismatch_is_refused(setup: Setup, stub: OcspStub) -> None:
    """A response echoing another request's nonce is a replay, however fresh its dates look."""
    stub.answer = lambda req: setup.respond(req, nonce=b"\x01" * 32)
    _refused(setup, "nonce mismatch")


def test_replayed_answer_of_the_real_responder_is_refused(setup: Setup, stub: OcspStub) -> None:
    """A genuine CA-signed answer captured earlier (its nonce was for another request) is refused."""
    RevocationCache().material(setup.chain)
    captured = stub.responses[-1]
    stub.answer = lambda req: captured
    _refused(setup, "nonce mismatch")


def test_served_responder_seen_from_a_clock_past_its_next_update_is_refused(tmp_path: Path) -> None:
    """The real responder's answers (nextUpdate +1 h) and CRLs are stale for a cache 2 h ahead."""
    with PkiServer(tmp_path) as server:
        key = server.pki.key("agency")
        chain = [key.cert, *key.signer.cert_registry]
        RevocationCache().material(chain)  # fresh for the same clock
        later = RevocationCache(clock=lambda: dt.datetime.now(dt.UTC) + dt.timedelta(hours=2))
        with pytest.raises(RevocationUnavailable, match="stale"):
            later.material(chain)
        ca_only = [_asn1(server.ca.cert), _asn1(server.root.cert)]  # the CA is checked by CRL
        with pytest.raises(RevocationUnavailable, match="CRL stale"):
            later.material(ca_only)


def test_cache_refetches_after_expiry_when_both_clocks_move(tmp_path: Path) -> None:
    """Entries expire before nextUpdate; with the responder's clock moved too, the new answers are fresh."""
    offset = [dt.timedelta(0)]

    def clock() -> dt.datetime:
        return dt.datetime.now(dt.UTC) + offset[0]

    with PkiServer(tmp_path, clock=clock) as server:
        key = server.pki.key("agency")
        chain = [key.cert, *key.signer.cert_registry]
        cache = RevocationCache(clock=clock)
        cache.material(chain)
        fetched = cache.fetches
        cache.material(chain)
        assert cache.fetches == fetched  # cached within validity
        offset[0] = dt.timedelta(hours=2)
        cache.material(chain)
        assert cache.fetches >= fetched + 2  # OCSP (agency) and CRL (issuing CA) fetched again


# Settings -----------------------------------------------------------------------------------------


def test_services_sign_with_one_revocation_cache_built_from_the_settings(tmp_path: Path) -> None:
    from dossiers.services import Services
    from sohoa.settings import Settings

    services = Services(Settings(var_dir=tmp_path / "var", signing=SigningSettings(revocation_timeout_s=2.5)))
    try:
        assert services.revocation.timeout_s == 2.5
        assert services.revocation is services.revocation  # one per process: fast signers are cached per cache
    finally:
        services.close()
