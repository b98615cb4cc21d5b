"""RFC 3161 responder for the development TSA, to be served over HTTP.

The API mounts it at ``/dev/tsa``: POST body ``application/timestamp-query``, answer
``application/timestamp-reply`` (always HTTP 200; refusals are RFC 3161 ``rejection`` statuses).
"""

from __future__ import annotations

import asyncio
import logging

from asn1crypto import tsp

from signing.devpki import DevPki
from signing.timestamps import DevTimeStamper, dev_timestamper, rejection

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
        req = _parse(request_der)
        if isinstance(req, tsp.TimeStampResp):
            return req.dump()
        resp = await self.timestamper.async_request_tsa_response(req)
        log.debug("Dev TSA answered with status %s", resp["status"]["status"].native)
        return resp.dump()

    def respond(self, request_der: bytes) -> bytes:
        """Synchronous variant for threads; not for use inside a running event loop."""
        return asyncio.run(self.async_respond(request_der))


def _parse(request_der: bytes) -> tsp.TimeStampReq | tsp.TimeStampResp:
    if len(request_der) > MAX_REQUEST_BYTES:
        return rejection("bad_data_format", "request too large")
    try:
        req = tsp.TimeStampReq.load(request_der)
        req.native  # noqa: B018 - forces a full parse so malformed input is caught here
    except (ValueError, TypeError):
        log.info("Dev TSA rejected a malformed request (%s bytes)", len(request_der))
        return rejection("bad_data_format", "malformed TimeStampReq")
    if req["version"].native != "v1":
        return rejection("bad_request", "unsupported TimeStampReq version")
    return req
