"""RFC 3161 time-stamp tokens built from cached DER parts, and token sources for the batch signer.

A token is a SignedData over TSTInfo (RFC 3161 §2.4.2) with ESS signing-certificate-v2
(RFC 5816). Building it costs one raw signature plus a few hundred bytes of concatenation.
"""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import secrets
import threading
from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import urlsplit

from asn1crypto import algos, cms, tsp
from asn1crypto import x509 as asn1_x509
from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper

from signing.cms.cmsbuild import ID_CT_TSTINFO, CmsTemplate
from signing.cms.der import generalized_time, integer, octets, oid, seq, tlv
from signing.errors import TimestampUnavailable
from signing.keys.keys import SigningKey
from signing.keys.rawsign import raw_signer

# A UUID-derived OID (ITU-T X.667, arc 2.25): no registration needed, obviously not a real policy.
DEV_TSA_POLICY = "2.25.262563168406443127455118460919389066870"
_GRANTED = seq(integer(0))


def message_imprint(digest: bytes, md_algorithm: str) -> bytes:
    return seq(algos.DigestAlgorithm({"algorithm": md_algorithm}).dump(), octets(digest))


class TokenSource(Protocol):
    """Anything that turns a digest into a DER time-stamp token (ContentInfo)."""

    def timestamp(self, digest: bytes, md_algorithm: str) -> bytes: ...


class FastTsa:
    """An in-process TSA: DER TimeStampReq in, DER TimeStampResp (or token) out."""

    def __init__(self, tsa_key: SigningKey, *, policy: str = DEV_TSA_POLICY, digest: str = "sha256"):
        self.key = tsa_key
        self.policy = policy
        self.template = CmsTemplate(raw_signer(tsa_key, digest), content_type=ID_CT_TSTINFO)
        self._policy = oid(policy)
        self._accuracy = seq(integer(1))
        self._tsa_name = tlv(0xA0, tlv(0xA4, tsa_key.cert.subject.dump()))

    def token_der(self, imprint_der: bytes, nonce_der: bytes | None = None, now: datetime | None = None) -> bytes:
        when = (now or datetime.now(UTC)).replace(microsecond=0)
        parts = [
            integer(1),
            self._policy,
            imprint_der,
            integer(secrets.randbits(63) | 1),
            generalized_time(when),
            self._accuracy,
        ]
        if nonce_der is not None:
            parts.append(nonce_der)
        parts.append(self._tsa_name)
        tst_info = seq(*parts)
        der, _ = self.template.build(hashlib.new(self.template.digest, tst_info).digest(), econtent=tst_info)
        return der

    def timestamp(self, digest: bytes, md_algorithm: str) -> bytes:
        return self.token_der(message_imprint(digest, md_algorithm))

    def response_der(self, token_der: bytes) -> bytes:
        return seq(_GRANTED, token_der)


class HttpTokenSource:
    """RFC 3161 over HTTP with one kept-alive connection per thread."""

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


class PyhankoTokenSource:
    """Adapter for any pyHanko TimeStamper (slower: pyHanko builds and checks the request)."""

    def __init__(self, timestamper: TimeStamper):
        self.timestamper = timestamper

    def timestamp(self, digest: bytes, md_algorithm: str) -> bytes:
        token: cms.ContentInfo = asyncio.run(self.timestamper.async_timestamp(digest, md_algorithm))
        return bytes(token.dump())


def token_source(timestamper: object) -> TokenSource:
    """The fastest token source for a configured timestamper (in-process dev TSA, HTTP, other)."""
    fast = getattr(timestamper, "fast", None)
    if isinstance(fast, FastTsa):
        return fast
    if isinstance(timestamper, FastTsa | HttpTokenSource):
        return timestamper
    url = getattr(timestamper, "url", None)
    if isinstance(url, str) and url.startswith(("http://", "https://")):
        return HttpTokenSource(url)
    if isinstance(timestamper, TimeStamper):
        return PyhankoTokenSource(timestamper)
    raise TypeError(f"not a time-stamp source: {type(timestamper).__name__}")


def token_signer(token: cms.ContentInfo) -> tuple[asn1_x509.Certificate, list[asn1_x509.Certificate]]:
    """The certificate that signed a time-stamp token (matched by the SignerInfo's issuer and serial,
    not guessed), and every certificate the token carries."""
    signed = token["content"]
    certs = [c.chosen for c in signed["certificates"]]
    sid = signed["signer_infos"][0]["sid"].chosen
    if isinstance(sid, cms.IssuerAndSerialNumber):
        match = (c for c in certs if c.issuer == sid["issuer"] and c.serial_number == sid["serial_number"].native)
    else:
        match = (c for c in certs if c.key_identifier == sid.native)
    return next(match, certs[0]), certs


def token_time(token: cms.ContentInfo) -> datetime:
    """The time a token certifies (TSTInfo genTime)."""
    return token["content"]["encap_content_info"]["content"].parsed["gen_time"].native


def http_timestamper(url: str, *, timeout_s: float = 10) -> TimeStamper:
    """RFC 3161 client posting ``application/timestamp-query`` to ``url``."""
    return HTTPTimeStamper(url, timeout=timeout_s)
