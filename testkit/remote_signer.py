"""A remote-signing service on 127.0.0.1 for tests: holds one PKCS#12 key and answers the protocol of
``signing.keys.remote`` (``GET /certificate``, ``POST /sign`` over a digest), optionally behind a bearer token.

It is a real HTTP server in a thread, so the client under test goes through sockets, JSON and the
signature check exactly as against a production service. ``requests`` counts the signatures it made.
"""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.hazmat.primitives.serialization import pkcs12

_HASHES = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}


class RemoteSigningServer:
    def __init__(self, p12: Path, passphrase: bytes, *, token: str | None = None):
        key, cert, chain = pkcs12.load_key_and_certificates(Path(p12).read_bytes(), passphrase)
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) or cert is None:
            raise ValueError(f"{p12}: no usable key")
        self.key, self.token = key, token
        self.cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
        self.chain_pem = [c.public_bytes(serialization.Encoding.PEM).decode("ascii") for c in chain]
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorised(self) -> bool:
                if server.token and self.headers.get("Authorization") != f"Bearer {server.token}":
                    self._reply(401, {"error": "unauthorised"})
                    return False
                return True

            def do_GET(self) -> None:
                if not self._authorised():
                    return
                if self.path != "/certificate":
                    self._reply(404, {"error": "not found"})
                    return
                self._reply(200, {"certificate": server.cert_pem, "chain": server.chain_pem})

            def do_POST(self) -> None:
                if not self._authorised():
                    return
                if self.path != "/sign":
                    self._reply(404, {"error": "not found"})
                    return
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                self._reply(200, {"signature": server.sign(body), "certificate": server.cert_pem})

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def sign(self, body: dict[str, Any]) -> str:
        digest = base64.b64decode(body["digest"])
        hash_algo = _HASHES[body["digest_algorithm"]]()
        prehashed = utils.Prehashed(hash_algo)
        self.requests += 1
        if isinstance(self.key, rsa.RSAPrivateKey):
            pad: padding.AsymmetricPadding = (
                padding.PSS(mgf=padding.MGF1(hash_algo), salt_length=hash_algo.digest_size)
                if body.get("padding") == "pss"
                else padding.PKCS1v15()
            )
            signature = self.key.sign(digest, pad, prehashed)
        else:
            signature = self.key.sign(digest, ec.ECDSA(prehashed))
        return base64.b64encode(signature).decode("ascii")

    def __enter__(self) -> RemoteSigningServer:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)
