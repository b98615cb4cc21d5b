"""RFC 3161 time-stamp sources: the token sources the fast signer asks, and the pyHanko HTTP client.

The development TSA lives in :mod:`signing.dev`; this package holds what production uses.
"""

from __future__ import annotations

from signing.timestamps.tsa_fast import (
    DEV_TSA_POLICY,
    FastTsa,
    HttpTokenSource,
    TokenSource,
    http_timestamper,
    token_signer,
    token_source,
    token_time,
)

__all__ = [
    "DEV_TSA_POLICY",
    "FastTsa",
    "HttpTokenSource",
    "TokenSource",
    "http_timestamper",
    "token_signer",
    "token_source",
    "token_time",
]
