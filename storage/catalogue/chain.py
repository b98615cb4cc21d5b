"""The audit log's chain step, one formula in Python and in both databases' SQL.

An entry's hash is ``sha256("<previous hash>:<seq>:<content hash>")`` in hex, where the
content hash covers the entry's own fields (``storage.warehouse.audit.content_hash``).
The database computes the chain step itself, as ``audit_chain(hash, seq, content)`` inside
the statement that advances the log's head, so that appending an entry needs no round
trip to fetch the previous hash first. PostgreSQL gets the function from migration 0007;
every SQLite connection is given this module's ``chain_hash`` (``db.make_engine``).
"""

from __future__ import annotations

import hashlib

SQL_NAME = "audit_chain"


def chain_hash(prev_hash: str, seq: int, content_hash: str) -> str:
    return hashlib.sha256(f"{prev_hash}:{seq}:{content_hash}".encode()).hexdigest()
