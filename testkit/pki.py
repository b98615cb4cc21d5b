"""A test PKI served on 127.0.0.1: root → issuing CA → agency, operator, TSA (+ revoked, expired).

Certificates carry AIA (OCSP) and CRL distribution point URLs pointing at the server, which
answers OCSP (RFC 6960, POST and GET), CRLs (RFC 5280) and RFC 3161 time-stamp requests from
the same process. Used by the tests and ``bench/sign``; nothing reaches the internet.
The server's clock can be moved (``clock``) to test expiry.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

from cryptography import x509
from cryptography.x509 import ocsp

from signing.dev import (
    DevTimeStamper,
    DevTsaResponder,
    build_crl,
    build_ocsp,
    crl_pointer,
    ocsp_refusal,
    parse_ocsp_request,
    revocation_pointers,
)
from signing.dev.pki import KeyAlgorithm, _issue, _Issued, _name, _new_key, _p12, _pem
from signing.keys import SigningKey, load_pkcs12_signer

log = logging.getLogger(__name__)

LEAVES = ("agency", "operator", "tsa", "revoked", "expired")


@dataclass(frozen=True)
class ServedPki:
    """Files and URLs of a running test PKI."""

    directory: Path
    base_url: str
    key_algorithm: KeyAlgorithm

    @property
    def root_cert(self) -> Path:
        return self.directory / "root.pem"

    @property
    def ca_cert(self) -> Path:
        return self.directory / "ca.pem"

    def p12(self, name: str) -> Path:
        return self.directory / f"{name}.p12"

    def passphrase(self) -> bytes:
        return (self.directory / "passphrase.txt").read_bytes().strip()

    def key(self, name: str) -> SigningKey:
        return load_pkcs12_signer(self.p12(name), self.passphrase())

    @property
    def tsa_url(self) -> str:
        return f"{self.base_url}/tsa"

    @property
    def seal_png(self) -> Path:
        """The agency's seal image (drawn on first use)."""
        path = self.directory / "seal.png"
        if not path.exists():
            from signing.dev import draw_round_seal

            draw_round_seal("UBND THỬ NGHIỆM", path)
        return path

    @property
    def ocsp_url(self) -> str:
        return f"{self.base_url}/ocsp"

    @property
    def trust_roots(self) -> list[Path]:
        return [self.root_cert]


class PkiServer:
    """Generate a PKI whose URLs point at a port bound first, then serve it on a thread."""

    def __init__(
        self,
        directory: Path,
        *,
        key_algorithm: KeyAlgorithm = "rsa2048",
        clock: Callable[[], dt.datetime] | None = None,
    ):
        self.directory = Path(directory)
        self.key_algorithm = key_algorithm
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.ocsp_requests = 0
        self.crl_requests = 0
        self.tsa_requests = 0
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._generate()
        self._http: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._crl_cache: dict[str, tuple[dt.datetime, bytes]] = {}
        self._lock = threading.Lock()

    @property
    def pki(self) -> ServedPki:
        return ServedPki(self.directory, self.base_url, self.key_algorithm)

    def _generate(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        alg = self.key_algorithm
        root_crl = crl_pointer(f"{self.base_url}/crl/root.crl")
        leaf_ext = revocation_pointers(f"{self.base_url}/crl/ca.crl", f"{self.base_url}/ocsp")
        dev = "sohoa TEST PKI"
        self.root = _issue(_name(f"{dev} Root CA"), _new_key(alg), None, ca=True, years=10, path_length=1)
        self.ca = _issue(
            _name(f"{dev} Issuing CA"),
            _new_key(alg),
            self.root,
            ca=True,
            years=10,
            path_length=0,
            extensions=(root_crl,),
        )
        now = self.clock().replace(microsecond=0)
        subjects = {
            "agency": _name("UBND phường Ba Đình (thử nghiệm)"),
            "operator": _name("Nguyễn Thị Bình (thử nghiệm)", title="Cán bộ số hóa"),
            "tsa": _name(f"{dev} Time-Stamping Authority"),
            "revoked": _name("Trần Văn Thu Hồi (thử nghiệm)", title="Cán bộ số hóa"),
            "expired": _name("Lê Thị Hết Hạn (thử nghiệm)", title="Cán bộ số hóa"),
        }
        self.leaves: dict[str, _Issued] = {}
        for name, subject in subjects.items():
            self.leaves[name] = _issue(
                subject,
                _new_key(alg),
                self.ca,
                ca=False,
                years=0.1 if name == "expired" else 2,
                time_stamping=name == "tsa",
                extensions=leaf_ext,
                not_before=now - dt.timedelta(days=400) if name == "expired" else None,
            )
        self.revoked_serials = {self.leaves["revoked"].cert.serial_number: now - dt.timedelta(hours=1)}
        self.by_serial = {leaf.cert.serial_number: leaf.cert for leaf in self.leaves.values()}
        passphrase = secrets.token_urlsafe(24).encode("ascii")
        (self.directory / "passphrase.txt").write_bytes(passphrase + b"\n")
        (self.directory / "root.pem").write_bytes(_pem(self.root.cert))
        (self.directory / "ca.pem").write_bytes(_pem(self.ca.cert))
        chain = [self.ca.cert, self.root.cert]
        for name, leaf in self.leaves.items():
            (self.directory / f"{name}.pem").write_bytes(_pem(leaf.cert))
            (self.directory / f"{name}.p12").write_bytes(_p12(name, leaf, chain, passphrase))
        self._tsa = DevTsaResponder(timestamper=DevTimeStamper(self.pki.key("tsa")))

    def _pointers(self) -> tuple[x509.ExtensionType, ...]:
        """The OCSP and CRL pointers (to this server) that the leaves carry."""
        return tuple(
            ext.value
            for ext in self.leaves["operator"].cert.extensions
            if isinstance(ext.value, x509.AuthorityInformationAccess | x509.CRLDistributionPoints)
        )

    def issue(self, subject: x509.Name, public_key: object, *, years: float = 2) -> x509.Certificate:
        """Certificate from the issuing CA for an external key (e.g. one generated inside an HSM)."""
        leaf = _issue(subject, public_key, self.ca, ca=False, years=years, extensions=self._pointers())  # type: ignore[arg-type]
        self.by_serial[leaf.cert.serial_number] = leaf.cert
        return leaf.cert

    def short_lived_tsa(self, days: int) -> DevTimeStamper:
        """A TSA of this PKI whose certificate expires in about ``days`` (the OCSP responder answers for it)."""
        name = f"tsa-{days}d-{secrets.token_hex(4)}"
        leaf = _issue(
            _name(f"sohoa TEST TSA, {days} days"),
            _new_key(self.key_algorithm),
            self.ca,
            ca=False,
            years=(days + 1) / 365,
            time_stamping=True,
            extensions=self._pointers(),
        )
        passphrase = self.pki.passphrase()
        path = self.directory / f"{name}.p12"
        path.write_bytes(_p12(name, leaf, [self.ca.cert, self.root.cert], passphrase))
        self.by_serial[leaf.cert.serial_number] = leaf.cert
        return DevTimeStamper(load_pkcs12_signer(path, passphrase))

    def revoke(self, serial: int) -> None:
        with self._lock:
            self.revoked_serials[serial] = self.clock()
            self._crl_cache.clear()

    # HTTP side -----------------------------------------------------------------------------

    def start(self) -> PkiServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                if self.path.startswith("/crl/"):
                    self._reply(server.crl(self.path.rsplit("/", 1)[-1]), "application/pkix-crl")
                elif self.path.startswith("/ocsp/"):
                    raw = base64.b64decode(unquote(self.path[len("/ocsp/") :]))
                    self._reply(server.ocsp(raw), "application/ocsp-response")
                else:
                    self._reply(None, "text/plain")

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.path == "/ocsp":
                    self._reply(server.ocsp(body), "application/ocsp-response")
                elif self.path == "/tsa":
                    server.tsa_requests += 1
                    self._reply(server._tsa.respond(body), "application/timestamp-reply")
                else:
                    self._reply(None, "text/plain")

            def _reply(self, data: bytes | None, content_type: str) -> None:
                self.send_response(200 if data is not None else 404)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data or b"")))
                self.end_headers()
                self.wfile.write(data or b"")

            def log_message(self, format: str, *args: object) -> None:
                return

        self._sock.close()
        self._http = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._http.daemon_threads = True
        self._thread = threading.Thread(target=self._http.serve_forever, name="test-pki", daemon=True)
        self._thread.start()
        log.info("Test PKI serving OCSP/CRL/TSA on %s", self.base_url)
        return self

    def stop(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None

    def __enter__(self) -> PkiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def crl(self, name: str) -> bytes | None:
        self.crl_requests += 1
        issuer = {"ca.crl": self.ca, "root.crl": self.root}.get(name)
        if issuer is None:
            return None
        now = self.clock().replace(microsecond=0)
        with self._lock:
            cached = self._crl_cache.get(name)
            if cached is not None and cached[0] > now:
                return cached[1]
            der = build_crl(
                issuer.cert,
                issuer.key,
                self.revoked_serials if issuer is self.ca else {},
                this_update=now - dt.timedelta(minutes=1),
                next_update=now + dt.timedelta(hours=1),
            )
            self._crl_cache[name] = (now + dt.timedelta(minutes=10), der)
            return der

    def ocsp(self, request_der: bytes) -> bytes:
        self.ocsp_requests += 1
        req = parse_ocsp_request(request_der)
        if req is None:
            return ocsp_refusal(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
        if req.serial_number not in self.by_serial:
            return ocsp_refusal(ocsp.OCSPResponseStatus.UNAUTHORIZED)
        now = self.clock().replace(microsecond=0)
        return build_ocsp(
            req,
            self.ca.cert,
            self.ca.key,
            known=True,
            revoked_at=self.revoked_serials.get(req.serial_number),
            this_update=now - dt.timedelta(seconds=5),
            next_update=now + dt.timedelta(hours=1),
        )


def main(argv: list[str] | None = None) -> None:
    """``python -m testkit.pki DIR [rsa2048|ecdsa-p256]``: serve until stdin closes.

    Prints the base URL on the first line of stdout once the PKI in DIR is generated and served.
    """
    import sys

    args = sys.argv[1:] if argv is None else argv
    algorithm: KeyAlgorithm = "ecdsa-p256" if len(args) > 1 and args[1] == "ecdsa-p256" else "rsa2048"
    with PkiServer(Path(args[0]), key_algorithm=algorithm) as server:
        print(server.base_url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
