"""Serve the development PKIs loaded by this process over HTTP, on a free loopback port (tests, bench).

``ensure_dev_pki`` registers each PKI's responder in ``signing.validation.revocation.PROCESS_RESPONDERS``,
which answers in-process; tools in other processes (poppler's ``pdfsig`` asks the OCSP responder a
certificate names, and trusts nothing it cannot ask) need the same answers over HTTP. Test PKIs
are made with base URLs under this server (one path per PKI, so their URLs never collide).
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from signing.dev.revinfo import CRL_TYPE, OCSP_RESPONSE_TYPE
from signing.validation.revocation import PROCESS_RESPONDERS


class DevPkiHttp:
    """``PROCESS_RESPONDERS`` over HTTP: GET (CRLs, OCSP by GET) and POST (OCSP)."""

    def __init__(self, port: int = 0) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self._reply(PROCESS_RESPONDERS.answer(server.url + self.path, None))

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self._reply(PROCESS_RESPONDERS.answer(server.url + self.path, body))

            def _reply(self, data: bytes | None) -> None:
                self.send_response(200 if data is not None else 404)
                self.send_header("Content-Type", CRL_TYPE if self.path.endswith(".crl") else OCSP_RESPONSE_TYPE)
                self.send_header("Content-Length", str(len(data or b"")))
                self.end_headers()
                self.wfile.write(data or b"")

            def log_message(self, format: str, *args: object) -> None:
                return

        self._http = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}"
        self._thread = threading.Thread(target=self._http.serve_forever, name="dev-pki-http", daemon=True)
        self._thread.start()

    def base_url(self, name: str) -> str:
        """The base URL for the test PKI called ``name``."""
        return f"{self.url}/{name}/dev/pki"

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()
