"""RFC 3161 responder for the development TSA, to be served over HTTP.

The API mounts it at ``/dev/tsa``: POST body ``application/timestamp-query``, answer
``application/timestamp-reply`` (always HTTP 200; refusals are RFC 3161 ``rejection`` statuses).
"""

from __future__ import annotations

import logging

from asn1crypto import tsp

from signing.dev.pki import DevPki
from signing.dev.tsa import DevTimeStamper, TimestampRequestRejected, dev_timestamper, rejection_der

log = logging.getLogger(__name__)

REQUEST_CONTENT_TYPE = "application/timestamp-query"
REPLY_CONTENT_TYPE = "application/timestamp-reply"
MAX_REQUEST_BYTES = 16 * 1024


class DevTsaResponder:
    """Turns a DER TimeStampReq into a DER TimeStampResp signed by the dev TSA key."""

    content_type = REPLY_CONTENT_TYPE

    def __init__(self, pki: DevPki | None = None, *, timestamper: DevTimeStamper | None = None):
        if timestamper is None:
            if pki is None:
                raise ValueError("DevTsaResponder needs a DevPki or a DevTimeStamper")
            timestamper = dev_timestamper(pki)
        self.timestamper = timestamper

    async def async_respond(self, request_der: bytes) -> bytes:
        """Answer one request; use this from async code (e.g. a FastAPI ``async def`` route)."""
        try:
            req = _parse(request_der)
            token = await self.timestamper.issue_token(req)
        except TimestampRequestRejected as exc:
            log.info("Dev TSA rejected a request: %s", exc.text)
            return rejection_der(exc.fail_info, exc.text)
        granted = tsp.PKIStatusInfo({"status": "granted"})
        return tsp.TimeStampResp({"status": granted, "time_stamp_token": token}).dump()

    def respond(self, request_der: bytes) -> bytes:
        """Synchronous variant for threads (no event loop needed)."""
        try:
            req = _parse(request_der)
            token = self.timestamper.issue_token_der(req)
        except TimestampRequestRejected as exc:
            log.info("Dev TSA rejected a request: %s", exc.text)
            return rejection_der(exc.fail_info, exc.text)
        return self.timestamper.fast.response_der(token)


def _parse(request_der: bytes) -> tsp.TimeStampReq:
    if len(request_der) > MAX_REQUEST_BYTES:
        raise TimestampRequestRejected("bad_data_format", "request too large")
    try:
        req = tsp.TimeStampReq.load(request_der)
        req.native  # noqa: B018 - forces a full parse so malformed input is caught here
    except (ValueError, TypeError):
        raise TimestampRequestRejected("bad_data_format", "malformed TimeStampReq") from None
    if req["version"].native != "v1":
        raise TimestampRequestRejected("bad_request", "unsupported TimeStampReq version")
    return req
