"""RFC 3161 time-stamping by an in-process development TSA (development and tests only).

The development TSA signs TSTInfo with the dev PKI's TSA key (RSA or ECDSA) through pyHanko's
CMS signer, so the token carries ESS signing-certificate-v2 and the TSA chain like a real one.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from functools import cache

from asn1crypto import cms, core, tsp
from pyhanko.sign.timestamps import TimeStamper, TimestampRequestError

from signing.dev.pki import DevPki
from signing.keys.keys import SigningKey, load_pkcs12_signer
from signing.timestamps.tsa_fast import DEV_TSA_POLICY, FastTsa

__all__ = ["DEV_TSA_POLICY", "DevTimeStamper", "TimestampRequestRejected", "dev_timestamper"]

log = logging.getLogger(__name__)

_DIGEST_LENGTHS = {"sha256": 32, "sha384": 48, "sha512": 64}


class TimestampRequestRejected(ValueError):
    """A time-stamp request this TSA will not grant; ``fail_info`` is the RFC 3161 PKIFailureInfo."""

    def __init__(self, fail_info: str, text: str):
        super().__init__(text)
        self.fail_info = fail_info
        self.text = text


class DevTimeStamper(TimeStamper):
    """A TSA in the same process, backed by a loaded TSA key. Development and tests only.

    A ``TimestampSource`` for signers; a pyHanko ``TimeStamper`` for the development TSA's HTTP
    responder, which answers requests (nonce, policy, refusals) through pyHanko's request types.
    """

    def __init__(self, tsa: SigningKey, *, policy: str = DEV_TSA_POLICY, include_nonce: bool = True):
        super().__init__(include_nonce=include_nonce)
        self.tsa = tsa
        self.policy = policy
        self.fast = FastTsa(tsa, policy=policy)

    def timestamp(self, digest: bytes, md_algorithm: str) -> bytes:
        """A token straight from the TSA key (a :class:`signing.timestamps.TimestampSource`)."""
        return self.fast.timestamp(digest, md_algorithm)

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        try:
            token = await self.issue_token(req)
        except TimestampRequestRejected as exc:
            raise TimestampRequestError(f"Timestamp request rejected: {exc.text}") from exc
        status = tsp.PKIStatusInfo({"status": "granted"})
        return tsp.TimeStampResp({"status": status, "time_stamp_token": token})

    def request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        """Synchronous variant; do not call from inside a running event loop."""
        return asyncio.run(self.async_request_tsa_response(req))

    async def issue_token(self, req: tsp.TimeStampReq, now: datetime | None = None) -> cms.ContentInfo:
        return cms.ContentInfo.load(self.issue_token_der(req, now))

    def issue_token_der(self, req: tsp.TimeStampReq, now: datetime | None = None) -> bytes:
        """DER token for a checked request (synchronous; what HTTP responders call)."""
        imprint = req["message_imprint"]
        md = imprint["hash_algorithm"]["algorithm"].native
        if md not in _DIGEST_LENGTHS:
            raise TimestampRequestRejected("bad_alg", f"unsupported hash algorithm {md}")
        if len(imprint["hashed_message"].native) != _DIGEST_LENGTHS[md]:
            raise TimestampRequestRejected("bad_data_format", "message imprint has the wrong length")
        if req["req_policy"].native not in (None, self.policy):
            raise TimestampRequestRejected("unaccepted_policy", "unknown TSA policy")
        nonce = req["nonce"]
        return self.fast.token_der(imprint.dump(), None if nonce.native is None else nonce.dump(), now)


class _StatusOnlyResp(core.Sequence):  # type: ignore[misc]  # asn1crypto has no type information
    # asn1crypto's TimeStampResp marks timeStampToken mandatory; RFC 3161 omits it on refusal.
    _fields = [("status", tsp.PKIStatusInfo)]  # noqa: RUF012 - asn1crypto declares fields this way


def rejection_der(fail_info: str, text: str) -> bytes:
    """DER of an RFC 3161 response with status ``rejection`` and no token."""
    status = tsp.PKIStatusInfo(
        {
            "status": "rejection",
            "status_string": tsp.PKIFreeText([text]),
            "fail_info": tsp.PKIFailureInfo({fail_info}),
        }
    )
    return _StatusOnlyResp({"status": status}).dump()


@cache
def dev_timestamper(pki: DevPki) -> DevTimeStamper:
    """In-process RFC 3161 timestamper backed by the development TSA key."""
    return DevTimeStamper(load_pkcs12_signer(pki.tsa_p12, pki.passphrase()))
