"""Real servers the notice tests deliver to: an SMTP server (aiosmtpd) and an HTTP JSON SMS gateway."""

from __future__ import annotations

import email
import email.policy
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from testkit.servers import free_port


@dataclass
class Mailbox:
    """What the SMTP server accepted: each message's envelope recipients and raw bytes."""

    received: list[tuple[list[str], bytes]] = field(default_factory=list)
    refuse_rcpt: int | None = None  # an SMTP code (450, 550): each RCPT refused with it, the address echoed

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if self.refuse_rcpt is not None:
            status = "4.2.1" if self.refuse_rcpt < 500 else "5.1.1"
            return f"{self.refuse_rcpt} {status} <{address}>: Recipient address rejected: mailbox {address} unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or b""
        self.received.append((list(envelope.rcpt_tos), bytes(data)))
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        return [email.message_from_bytes(raw, policy=email.policy.default) for _to, raw in self.received]


class SmtpServer:
    """aiosmtpd on a loopback port; ``stop()`` and ``start()`` again on the same port (the server "down")."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.mailbox = Mailbox()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@dataclass
class SmsGatewayServer:
    """A small HTTP gateway: records each POST's JSON and Authorization header; answers ``status``."""

    port: int
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    status: int = 200

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/sms/send"


@pytest.fixture
def sms_gateway() -> Iterator[SmsGatewayServer]:
    gateway = SmsGatewayServer(free_port())

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            gateway.requests.append((self.headers.get("Authorization", ""), json.loads(body)))
            self.send_response(gateway.status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"ok": true}')

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", gateway.port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield gateway
    server.shutdown()
    server.server_close()
