"""CMS SignedData (RFC 5652) from cached DER parts: shared by the fast signer, time-stamp tokens and HSM keys.

Lowest layer of ``signing``: imports nothing from its other subpackages.
"""

from __future__ import annotations

from signing.cms.cmsbuild import DIGESTS, ID_CT_TSTINFO, CmsTemplate, RawSigner, timestamp_attribute
from signing.cms.der import generalized_time, integer, octets, oid, seq, tlv

__all__ = [
    "DIGESTS",
    "ID_CT_TSTINFO",
    "CmsTemplate",
    "RawSigner",
    "generalized_time",
    "integer",
    "octets",
    "oid",
    "seq",
    "timestamp_attribute",
    "tlv",
]
