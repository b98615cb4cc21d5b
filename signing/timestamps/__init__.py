"""RFC 3161 time-stamps: the one source abstraction signers ask, its HTTP client, and token readers.

The development TSA lives in :mod:`signing.dev`; this package holds what production uses.
"""

from __future__ import annotations

from signing.timestamps.source import HttpTimestampSource, TimestampSource, as_pyhanko, http_timestamper
from signing.timestamps.tsa_fast import DEV_TSA_POLICY, FastTsa, token_signer, token_time

__all__ = [
    "DEV_TSA_POLICY",
    "FastTsa",
    "HttpTimestampSource",
    "TimestampSource",
    "as_pyhanko",
    "http_timestamper",
    "token_signer",
    "token_time",
]
