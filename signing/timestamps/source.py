"""Where signers get RFC 3161 time-stamp tokens: one abstraction, ``TimestampSource``.

Every signer (the fast engine, pyHanko's staged flow, B-LTA extension, the batch signer) asks a
``TimestampSource`` for a DER token over a digest. The sources are a TSA over HTTP
(:class:`HttpTimestampSource`) and the in-process development TSA (``signing.dev``). pyHanko's
staged signer wants its own ``TimeStamper``; :func:`as_pyhanko` adapts any source to it, so
pyHanko's type is never what callers hand in.
"""

from __future__ import annotations

import asyncio
import http.client
import secrets
import threading
import weakref
from typing import Protocol
from urllib.parse import urlsplit

from asn1crypto import cms, tsp
from pyhanko.sign.timestamps import TimeStamper

from signing.cms.der import integer, seq, tlv
from signing.errors import TimestampUnavailable
from signing.timestamps.tsa_fast import message_imprint


class TimestampSource(Protocol):
    """Turns a digest into a DER time-stamp token (ContentInfo); TIMESTAMP_UNAVAILABLE when it cannot."""

    def timestamp(self, digest: bytes, md_algorithm: str) -> bytes: ...


class HttpTimestampSource:
    """RFC 3161 over HTTP(S), with one kept-alive connection per thread.

    Hand-written rather than pyHanko's ``HTTPTimeStamper`` (a new asyncio loop and request object
    per token): the batch signer asks for a token per document, on the kept-alive connection
    ``bench.sign`` runs it with.
    """

    def __init__(self, url: str, *, timeout_s: float = 10):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"unsupported TSA URL {url}")
        self.url = url
        self._parts = parts
        self._host = parts.hostname
        self._timeout = timeout_s
        self._local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            cls = http.client.HTTPSConnection if self._parts.scheme == "https" else http.client.HTTPConnection
            conn = cls(self._host, self._parts.port, timeout=self._timeout)
            self._local.conn = conn
        return conn

    def _post(self, body: bytes) -> bytes:
        path = self._parts.path or "/"
        headers = {"Content-Type": "application/timestamp-query", "Connection": "keep-alive"}
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request("POST", path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise TimestampUnavailable(f"{self.url}: {type(exc).__name__}") from None
                continue
            if resp.status != 200:
                raise TimestampUnavailable(f"{self.url}: HTTP {resp.status}")
            return data
        raise TimestampUnavailable(self.url)

    def timestamp(self, digest: bytes, md_algorithm: str) -> bytes:
        imprint = message_imprint(digest, md_algorithm)
        nonce = secrets.randbits(63) | 1
        body = seq(integer(1), imprint, integer(nonce), tlv(0x01, b"\xff"))
        return check_response(self._post(body), imprint, nonce, self.url)


def http_timestamper(url: str, *, timeout_s: float = 10) -> HttpTimestampSource:
    """The source for a TSA at ``url`` (posting ``application/timestamp-query``)."""
    return HttpTimestampSource(url, timeout_s=timeout_s)


def check_response(data: bytes, imprint_der: bytes, nonce: int | None, where: str) -> bytes:
    """The token of a granted response whose imprint (and nonce) match the request."""
    try:
        resp = tsp.TimeStampResp.load(data)
        status = resp["status"]["status"].native
        if status not in ("granted", "granted_with_mods"):
            raise TimestampUnavailable(f"{where}: {status}")
        token = resp["time_stamp_token"]
        info = token["content"]["encap_content_info"]["content"].parsed
        if info["message_imprint"].dump() != imprint_der:
            raise TimestampUnavailable(f"{where}: message imprint mismatch")
        if nonce is not None and info["nonce"].native != nonce:
            raise TimestampUnavailable(f"{where}: nonce mismatch")
        return bytes(token.dump())
    except (ValueError, TypeError, KeyError) as exc:
        raise TimestampUnavailable(f"{where}: malformed response ({type(exc).__name__})") from None


class _SourceTimeStamper(TimeStamper):
    """pyHanko's ``TimeStamper`` over a ``TimestampSource`` (what pyHanko's staged signer is handed)."""

    def __init__(self, source: TimestampSource):
        super().__init__(include_nonce=False)  # the source makes (and checks) its own request
        self.source = source

    async def async_timestamp(self, message_digest: bytes, md_algorithm: str) -> cms.ContentInfo:
        der = await asyncio.to_thread(self.source.timestamp, message_digest, md_algorithm)
        return cms.ContentInfo.load(der)


_adapters: weakref.WeakKeyDictionary[TimestampSource, TimeStamper] = weakref.WeakKeyDictionary()
_adapters_lock = threading.Lock()


def as_pyhanko(source: TimestampSource) -> TimeStamper:
    """The pyHanko ``TimeStamper`` for ``source``, one per source: pyHanko keeps the size-estimate
    token it asked for once (its "dummy response") on that object."""
    with _adapters_lock:
        adapter = _adapters.get(source)
        if adapter is None:
            adapter = _adapters[source] = _SourceTimeStamper(source)
        return adapter
