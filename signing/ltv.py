"""Long-term validity: extend B-LT/B-LTA documents with fresh validation data and time-stamps.

A document time-stamp is trustworthy only while its TSA certificate is valid (and its algorithms
strong). Before the last time-stamp's certificate expires, :func:`extend_lta` appends a DSS
revision with the current chains and OCSP/CRL responses and a new document time-stamp, so the
evidence chain continues (ETSI EN 319 142-1 §5.5). :func:`retimestamp_job` runs that over stored
results through callbacks, so any store (local disk, S3) can drive it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from io import BytesIO

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader

from signing.errors import PdfInvalid
from signing.fastpades import add_ltv
from signing.revocation import LtvMaterial, RevocationCache, default_cache, order_chain
from signing.tsa_fast import TokenSource, token_source

log = logging.getLogger(__name__)

DEFAULT_MARGIN = timedelta(days=180)
_TIMESTAMP_ATTR = "signature_time_stamp_token"


def _token_certs(token: cms.ContentInfo) -> tuple[asn1_x509.Certificate, list[asn1_x509.Certificate]]:
    signed = token["content"]
    certs = [c.chosen for c in signed["certificates"]]
    sid = signed["signer_infos"][0]["sid"].chosen
    leaf = next(
        (c for c in certs if c.issuer == sid["issuer"] and c.serial_number == sid["serial_number"].native), certs[0]
    )
    return leaf, certs


def _timestamp_tokens(reader: PdfFileReader) -> list[cms.ContentInfo]:
    """Document time-stamps first (newest last); signature time-stamps if there are none."""
    doc_ts, sig_ts = [], []
    for sig in reader.embedded_signatures:
        if sig.sig_object_type == "/DocTimeStamp":
            doc_ts.append(cms.ContentInfo({"content_type": "signed_data", "content": sig.signed_data}))
            continue
        unsigned = sig.signer_info["unsigned_attrs"]
        for attr in unsigned if unsigned.native is not None else []:
            if attr["type"].native == _TIMESTAMP_ATTR:
                sig_ts.append(attr["values"][0])
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
    leaf, _ = _token_certs(tokens[-1])
    expiry: datetime = leaf["tbs_certificate"]["validity"]["not_after"].native
    return expiry


def needs_extension(pdf: bytes, *, margin: timedelta = DEFAULT_MARGIN, now: datetime | None = None) -> bool:
    """True when the newest time-stamp's certificate expires within ``margin``."""
    expiry = last_timestamp_expiry(pdf)
    return expiry is not None and expiry - margin <= (now or datetime.now(UTC))


def extend_lta(pdf: bytes, timestamper: object, *, revocation: RevocationCache | None = None) -> bytes:
    """Append a DSS revision (signers' and TSAs' chains, fresh OCSP/CRL) and a new document time-stamp."""
    revocation = revocation or default_cache()
    tokens: TokenSource = token_source(timestamper)
    try:
        reader = PdfFileReader(BytesIO(pdf))
        chains = []
        for sig in reader.embedded_signatures:
            if sig.sig_object_type != "/DocTimeStamp":
                pool = [c.chosen for c in sig.signed_data["certificates"]]
                chains.append(order_chain(sig.signer_cert, pool))
        chains += [[leaf, *certs] for leaf, certs in (_token_certs(t) for t in _timestamp_tokens(reader))]
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise PdfInvalid(type(exc).__name__) from None
    material = LtvMaterial((), (), ())
    for chain in chains:
        material = material.merged(revocation.material(chain, refuse_revoked=False))
    out = add_ltv(pdf, material, tokens)
    log.info("Extended LTA: %s chains, %s bytes added", len(chains), len(out) - len(pdf))
    return out


@dataclass
class RetimestampSummary:
    checked: int = 0
    extended: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def retimestamp_job(
    keys: Iterable[str],
    load: Callable[[str], bytes],
    save: Callable[[str, bytes], None],
    timestamper: object,
    *,
    margin: timedelta = DEFAULT_MARGIN,
    revocation: RevocationCache | None = None,
    now: datetime | None = None,
) -> RetimestampSummary:
    """Extend every stored document whose newest time-stamp expires within ``margin``.

    ``save`` receives the extended bytes (the old bytes are a prefix of them; a store with
    object lock writes a new version). One failure does not stop the others.
    """
    summary = RetimestampSummary()
    for key in keys:
        summary.checked += 1
        try:
            pdf = load(key)
            if not needs_extension(pdf, margin=margin, now=now):
                continue
            save(key, extend_lta(pdf, timestamper, revocation=revocation))
            summary.extended.append(key)
        except Exception as exc:  # one broken document must not stop the job
            code = getattr(exc, "code", type(exc).__name__)
            log.warning("Re-time-stamping %s failed: %s", key, code)
            summary.failed[key] = str(code)
    return summary
