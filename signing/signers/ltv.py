"""Long-term validity: extend B-LT/B-LTA documents with fresh validation data and time-stamps.

A document time-stamp is trustworthy only while its TSA certificate is valid (and its algorithms
strong). Before the last time-stamp's certificate expires, :func:`extend_lta` appends a DSS
revision with the current chains and OCSP/CRL responses and a new document time-stamp, so the
evidence chain continues (ETSI EN 319 142-1 §5.5). :func:`retimestamp_job` runs that over stored
results through callbacks, so any store (local disk, S3) can drive it; ``workers.maintenance``
runs it daily over the B-LTA e-results. The extended document is a new object: the original
stays as issued (locked in the results bucket), and the catalogue is pointed at the extension.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from io import BytesIO
from typing import Generic, TypeVar

from asn1crypto import cms
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader

from signing.errors import PdfInvalid, RetimestampBlocked, TimestampUnavailable
from signing.signers.fastpades import add_ltv
from signing.timestamps.source import TimestampSource
from signing.timestamps.tsa_fast import token_signer
from signing.validation.revocation import LtvMaterial, RevocationCache, default_cache, order_chain
from signing.validation.verify import signature_timestamp_token
from sohoa.errors import ErrorInfo

log = logging.getLogger(__name__)

DEFAULT_MARGIN = timedelta(days=180)
K = TypeVar("K")


def _timestamp_tokens(reader: PdfFileReader) -> list[cms.ContentInfo]:
    """Document time-stamps first (newest last); signature time-stamps if there are none."""
    doc_ts, sig_ts = [], []
    for sig in reader.embedded_signatures:
        if sig.sig_object_type == "/DocTimeStamp":
            doc_ts.append(cms.ContentInfo({"content_type": "signed_data", "content": sig.signed_data}))
            continue
        token = signature_timestamp_token(sig)
        if token is not None:
            sig_ts.append(token)
    return doc_ts or sig_ts


def last_timestamp_expiry(pdf: bytes) -> datetime | None:
    """When the certificate of the newest time-stamp in ``pdf`` expires (None: no time-stamp)."""
    try:
        reader = PdfFileReader(BytesIO(pdf))
        tokens = _timestamp_tokens(reader)
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise PdfInvalid(type(exc).__name__) from None
    if not tokens:
        return None
    return _signer_expiry(tokens[-1])


def _signer_expiry(token: cms.ContentInfo) -> datetime:
    """When the certificate of the TSA that signed a time-stamp token expires."""
    leaf, _ = token_signer(token)
    return leaf.not_valid_after


def _due(expiry: datetime, margin: timedelta, now: datetime) -> bool:
    return expiry - margin <= now


def needs_extension(pdf: bytes, *, margin: timedelta = DEFAULT_MARGIN, now: datetime | None = None) -> bool:
    """True when the newest time-stamp's certificate expires within ``margin``."""
    expiry = last_timestamp_expiry(pdf)
    return expiry is not None and _due(expiry, margin, now or datetime.now(UTC))


def extend_lta(pdf: bytes, timestamper: TimestampSource, *, revocation: RevocationCache | None = None) -> bytes:
    """Append a DSS revision (signers' and TSAs' chains, fresh OCSP/CRL) and a new document time-stamp."""
    revocation = revocation or default_cache()
    try:
        reader = PdfFileReader(BytesIO(pdf))
        chains = []
        for sig in reader.embedded_signatures:
            if sig.sig_object_type != "/DocTimeStamp":
                pool = [c.chosen for c in sig.signed_data["certificates"]]
                chains.append(order_chain(sig.signer_cert, pool))
        chains += [[leaf, *certs] for leaf, certs in (token_signer(t) for t in _timestamp_tokens(reader))]
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise PdfInvalid(type(exc).__name__) from None
    material = LtvMaterial((), (), ())
    for chain in chains:
        material = material.merged(revocation.material(chain, refuse_revoked=False))
    out = add_ltv(pdf, material, timestamper)
    log.info("Extended LTA: %s chains, %s bytes added", len(chains), len(out) - len(pdf))
    return out


_PROBE_DIGEST = hashlib.sha256(b"sohoa: which certificate does the TSA sign with now?").digest()


def token_expiry(token_der: bytes) -> datetime:
    """When the certificate of the TSA that signed a DER time-stamp token expires."""
    try:
        return _signer_expiry(cms.ContentInfo.load(token_der))
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise TimestampUnavailable(f"the TSA's token names no certificate ({type(exc).__name__})") from None


class TsaProbe:
    """The expiry of the certificate a TSA signs with now, learnt from one token (asked once, when first needed).

    A failure (TSA down) is kept too: later calls raise it again without another request,
    so one run of the job does not wait for a dead TSA once per document.
    """

    def __init__(self, timestamper: TimestampSource):
        self.timestamper = timestamper
        self._expiry: datetime | None = None
        self.error: Exception | None = None

    def expiry(self) -> datetime:
        if self.error is not None:
            raise self.error
        if self._expiry is None:
            try:
                self._expiry = token_expiry(self.timestamper.timestamp(_PROBE_DIGEST, "sha256"))
            except Exception as exc:
                self.error = exc
                raise
        return self._expiry


@dataclass
class RetimestampSummary(Generic[K]):
    """What one run did, by document key."""

    checked: int = 0
    extended: list[K] = field(default_factory=list)
    # The error of each document that could not be read, checked or extended (retried next run).
    errors: dict[K, ErrorInfo] = field(default_factory=dict)
    # Due, but the TSA signs with a certificate that does not outlive the newest time-stamp's.
    blocked: list[K] = field(default_factory=list)
    # The newest time-stamp's certificate expiry of each document read (after its extension, if any).
    expiry: dict[K, datetime | None] = field(default_factory=dict)

    @property
    def failed(self) -> dict[K, str]:
        """The error code of each document in ``errors``."""
        return {key: info.code for key, info in self.errors.items()}


def retimestamp_job(
    keys: Iterable[K],
    load: Callable[[K], bytes],
    save: Callable[[K, bytes, datetime, datetime], None],
    timestamper: TimestampSource,
    *,
    margin: timedelta = DEFAULT_MARGIN,
    revocation: RevocationCache | None = None,
    now: datetime | None = None,
    probe: TsaProbe | None = None,
    known: Mapping[K, datetime] | None = None,
) -> RetimestampSummary[K]:
    """Extend every document whose newest time-stamp's certificate expires within ``margin`` of ``now``.

    Documents are loaded one at a time. ``save(key, extended, was, expires)`` receives the extended
    bytes (the old bytes are a prefix of them) and the newest time-stamp's certificate expiry
    before and after. It must store them as a new object and make the record
    ``key`` name it, never write over the stored original: a content-addressed store keeps the
    original under its own hash, and a locked one (WORM) refuses to change it. ``save`` raises
    when it cannot (nothing was extended then).

    An extension is worth making only with a TSA certificate that outlives the newest
    time-stamp's; otherwise the document is ``blocked`` (and extending it again at every run would
    only add revisions). ``probe`` (one per run, shared by its batches) learns that certificate
    from one token, only once a document is due. ``known`` gives expiries learnt by an earlier
    run: a due document the TSA cannot extend, or cannot be reached for, is then not even loaded.

    One failure does not stop the others; a TSA outage fails the due documents (and only them).
    """
    summary: RetimestampSummary[K] = RetimestampSummary()
    when = now or datetime.now(UTC)
    probe = probe or TsaProbe(timestamper)
    for key in keys:
        summary.checked += 1
        try:
            recorded = (known or {}).get(key)
            if recorded is not None and _due(recorded, margin, when):
                _check_gain(probe, recorded)
            pdf = load(key)
            expiry = last_timestamp_expiry(pdf)
            summary.expiry[key] = expiry
            if expiry is None or not _due(expiry, margin, when):  # no time-stamp to extend, or not yet due
                continue
            _check_gain(probe, expiry)
            extended = extend_lta(pdf, timestamper, revocation=revocation)
            new_expiry = last_timestamp_expiry(extended)
            if new_expiry is None or new_expiry <= expiry:  # another certificate than the probe's answered
                raise RetimestampBlocked(f"new time-stamp's certificate expires {new_expiry}")
            save(key, extended, expiry, new_expiry)
            summary.expiry[key] = new_expiry
            summary.extended.append(key)
            log.info("Re-time-stamped %s: newest time-stamp now expires %s (was %s)", key, new_expiry, expiry)
        except RetimestampBlocked as exc:
            summary.blocked.append(key)
            log.warning("Re-time-stamping %s postponed: %s", key, exc.detail)
        except Exception as exc:  # one broken document must not stop the job
            if isinstance(exc, TimestampUnavailable) and probe.error is None:
                probe.error = exc  # the TSA is down: the documents due after this one are not sent to it
            info = ErrorInfo.from_exception(exc)
            log.warning("Re-time-stamping %s failed: %s %s", key, info.code, info.detail)
            summary.errors[key] = info
    return summary


def _check_gain(probe: TsaProbe, expiry: datetime) -> None:
    tsa_expiry = probe.expiry()
    if tsa_expiry <= expiry:
        raise RetimestampBlocked(f"the TSA's certificate expires {tsa_expiry}, the newest time-stamp's {expiry}")
