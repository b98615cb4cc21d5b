"""Deadlines for clients that send slowly: a request head, then a request body.

uvicorn bounds only the idle time between requests of a kept-alive connection. A client that
opens a connection and sends nothing, or a request head one byte every few seconds (slowloris),
or a body that stops half-way, holds a connection, its buffers and (with ``limit_concurrency``)
a slot of the process for as long as it likes; a few hundred of them exhaust the service.

* ``HeadGuardProtocol`` (uvicorn's httptools protocol, selected with its ``http=`` option) closes
  a connection whose request head is not whole within ``header_timeout_s`` of the connection
  (first request) or of the head's first byte (later requests), answering 408 when a head had
  begun; a head larger than ``max_header_bytes`` is answered 431 (httptools sets no limit).
* ``BodyTimeoutMiddleware`` answers 408 (``UPLOAD_STALLED``) and closes the connection when a
  request body is being read and no part of it arrives for ``body_timeout_s``: a slow upload
  that keeps moving is never cut, a stalled one is.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.errors import UploadStalled

log = logging.getLogger(__name__)


_HEAD_TIMEOUT_BODY = "Yêu cầu gửi đến quá chậm nên máy chủ đã đóng kết nối. Vui lòng thử lại.".encode()
_HEAD_TOO_LARGE_BODY = "Phần tiêu đề (header) của yêu cầu quá lớn nên máy chủ không xử lý.".encode()


def _plain_response(status: bytes, body: bytes) -> bytes:
    head = (
        b"HTTP/1.1 " + status + b"\r\ncontent-type: text/plain; charset=utf-8\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n"
    )
    return head + body


class HeadGuardProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline and a size limit on each request head."""

    def __init__(self, *args: Any, header_timeout_s: float, max_header_bytes: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout_s = header_timeout_s
        self.max_header_bytes = max_header_bytes
        self._head_timer: asyncio.TimerHandle | None = None
        self._in_head = False  # between a request's first byte and the end of its head
        self._head_bytes = 0

    # as uvicorn's own override: asyncio.Protocol's takes any BaseTransport, uvicorn needs a Transport
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()  # a connection that never sends a byte is closed as well

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)  # calls on_message_begin / on_headers_complete as the head goes by
        if self._in_head and not self.transport.is_closing():
            self._head_bytes += len(data)
            if self._head_bytes > self.max_header_bytes:
                self._refuse(b"431 Request Header Fields Too Large", _HEAD_TOO_LARGE_BODY, "larger than %d bytes")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head, self._head_bytes = True, 0
        if self._head_timer is None:  # the first request keeps the deadline its connection started
            self._arm()

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._disarm()
        super().on_headers_complete()

    def _arm(self) -> None:
        self._head_timer = self.loop.call_later(self.header_timeout_s, self._head_deadline_passed)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_deadline_passed(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self._in_head:
            self._refuse(b"408 Request Timeout", _HEAD_TIMEOUT_BODY, "not complete within %.0f s")
        elif self.cycle is None:  # connected and sent nothing: no request to answer
            self.transport.close()

    def _refuse(self, status: bytes, body: bytes, why: str) -> None:
        limit = self.max_header_bytes if status.startswith(b"431") else self.header_timeout_s
        log.warning("closed a connection from %s: request head " + why, self.client and self.client[0], limit)
        self._disarm()
        self._in_head = False
        if self.cycle is None or self.cycle.response_complete:  # never inside a response still being sent
            self.transport.write(_plain_response(status, body))
        self.transport.close()


def head_guard_protocol(header_timeout_s: float, max_header_bytes: int) -> functools.partial[HeadGuardProtocol]:
    """The ``http=`` value for uvicorn: our protocol with these limits (picklable for spawned processes)."""
    return functools.partial(HeadGuardProtocol, header_timeout_s=header_timeout_s, max_header_bytes=max_header_bytes)


class BodyTimeoutMiddleware:
    """408 ``UPLOAD_STALLED`` and a closed connection when a request body stops arriving for ``timeout_s``.

    Only waits for the request body are timed; once the body is complete (or the response has
    begun) ``receive`` is passed through untouched, so a streamed response that listens for the
    client's disconnect is never cut. After a stall whatever the app still sends is dropped: the
    408 is the answer, whichever way the app's own code reported the interrupted read.
    """

    def __init__(self, app: ASGIApp, timeout_s: float) -> None:
        self.app = app
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = {"body_done": False, "started": False, "stalled": False}

        async def timed_receive() -> Message:
            if state["body_done"] or state["started"]:
                return await receive()
            if state["stalled"]:
                return {"type": "http.disconnect"}
            with anyio.move_on_after(self.timeout_s):
                message = await receive()
                if message["type"] != "http.request" or not message.get("more_body", False):
                    state["body_done"] = True
                return message
            state["stalled"] = True
            raise UploadStalled(f"no request body data for {self.timeout_s:g} s")

        async def guarded_send(message: Message) -> None:
            if state["stalled"]:
                return
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, timed_receive, guarded_send)
        except Exception:
            if not state["stalled"]:
                raise
        if state["stalled"] and not state["started"]:
            log.warning(
                "%s %s: request body stalled for %g s; answered 408", scope["method"], scope["path"], self.timeout_s
            )
            body = json.dumps({"detail": UploadStalled().to_dict()}, ensure_ascii=False).encode()
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ]
            await send({"type": "http.response.start", "status": 408, "headers": headers})
            await send({"type": "http.response.body", "body": body})
