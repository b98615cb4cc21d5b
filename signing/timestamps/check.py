"""Checking an RFC 3161 time-stamp token over a digest: the TSA's signature, its chain to a trusted
root, and the message imprint (pyHanko's validation of the token's SignedData; no ASN.1 by hand)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from asn1crypto import cms, tsp
from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
from pyhanko.sign.validation.status import TimestampSignatureStatus
from pyhanko_certvalidator import ValidationContext

from signing.validation.verify import load_trust_roots

_T = TypeVar("_T")


def _run_sync(coro: Coroutine[object, object, _T]) -> _T:
    """Run ``coro`` to completion from synchronous code: in this thread when no event loop runs here,
    else in a worker thread with its own loop (``asyncio.run`` refuses to run inside a running loop)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


@dataclass(frozen=True)
class TokenCheck:
    ok: bool
    reason: str  # "" when ok; otherwise a short English reason (kept in reports with its code)
    gen_time: datetime | None = None


def check_token(
    token_der: bytes, digest: bytes, trust_roots: Sequence[Path], md_algorithm: str = "sha256"
) -> TokenCheck:
    """Whether ``token_der`` time-stamps ``digest``, signed by a TSA that chains to ``trust_roots``.

    Revocation is not fetched (an anchor must stay checkable after the TSA's status services are gone);
    the TSA certificate's chain and key usage (time stamping) are checked at the token's time.

    Synchronous: pyHanko's validation is a coroutine, run here with ``asyncio.run``; called from a
    thread whose event loop is running (an async route), it runs in a worker thread instead, and
    blocks the caller until done (an async caller should itself use ``asyncio.to_thread``).
    """
    try:
        token = cms.ContentInfo.load(token_der)
        signed = token["content"]
        info = signed["encap_content_info"]["content"].parsed
        if not isinstance(info, tsp.TSTInfo):
            return TokenCheck(False, "not a time-stamp token")
        gen_time = info["gen_time"].native
        imprint = info["message_imprint"]
        if imprint["hash_algorithm"]["algorithm"].native != md_algorithm:
            return TokenCheck(False, "unexpected imprint algorithm", gen_time)
        if imprint["hashed_message"].native != digest:
            return TokenCheck(False, "message imprint does not match", gen_time)
    except (ValueError, TypeError, KeyError) as exc:
        return TokenCheck(False, f"unreadable token ({type(exc).__name__})")
    context = ValidationContext(
        trust_roots=load_trust_roots(trust_roots), allow_fetching=False, revocation_mode="soft-fail", moment=gen_time
    )
    try:
        kwargs = _run_sync(validate_tst_signed_data(signed, context, lambda _algo: digest))
    except Exception as exc:  # pyHanko raises its own errors for broken signatures and chains
        return TokenCheck(False, f"signature invalid ({type(exc).__name__})", gen_time)
    status = TimestampSignatureStatus(**kwargs)
    if not status.intact:
        return TokenCheck(False, "token altered", gen_time)
    if not status.valid:
        return TokenCheck(False, "signature invalid", gen_time)
    if not status.trusted:
        return TokenCheck(False, "TSA not trusted", gen_time)
    return TokenCheck(True, "", gen_time)
