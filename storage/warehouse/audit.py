"""The access audit log: append-only, each entry hash-chained to the one before it.

An entry's hash covers its sequence number, time, actor, action, subject, purpose, outcome,
detail and the previous entry's hash. ``verify`` recomputes the chain: an edited entry
breaks its own hash, a removed one breaks the link of its successor (or, at the end, the
head row that every append updates in the same transaction). Entries carry identifiers
and purposes, never keys, secrets or document contents.

Appends serialise on the head row: advancing its sequence number locks it and returns the
previous hash in one statement. They commit durably (``Catalogue.transaction(durable=True)``:
on SQLite the WAL is fsynced at commit), since an entry must outlive the access it records.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from sohoa.errors import error
from storage.catalogue.db import Catalogue, DriverSQL
from storage.catalogue.warehouse_models import AuditEntry, AuditHead

GENESIS = "0" * 64
AuditHeadMissing = error(
    "AUDIT_LOG_BROKEN",
    "Nhật ký truy cập kho dữ liệu bị hỏng (thiếu bản ghi đầu chuỗi). Liên hệ quản trị viên.",
    "The access audit log's head row is missing (it is created by migration 0005); run `sohoa audit verify`.",
)
_SECRET_WORDS = ("secret", "password", "api_key", "token", "signature", "sig")


def _canonical_time(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    purpose: str,
    outcome: str,
    detail: dict[str, Any],
    prev_hash: str,
) -> str:
    body = [seq, _canonical_time(at), actor, action, subject, purpose, outcome, detail, prev_hash]
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _clean(detail: dict[str, Any]) -> dict[str, Any]:
    """Drop anything that looks like a credential, and links (which carry signatures)."""
    out: dict[str, Any] = {}
    for k, v in detail.items():
        if any(word in k.lower() for word in _SECRET_WORDS) or k.lower() in ("url", "link"):
            continue
        out[k] = v
    return out


# Advancing the head's sequence number locks its row (PostgreSQL; a SQLite transaction holds
# the write lock from BEGIN) and returns the previous entry's hash in the same round trip.
ADVANCE_HEAD = "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash"
_ADVANCE_HEAD = DriverSQL(ADVANCE_HEAD)
_COLUMNS = ("seq", "at", "actor", "action", "subject", "purpose", "outcome", "detail", "prev_hash", "hash")
_INSERT = f"INSERT INTO audit_log ({', '.join(_COLUMNS)}) VALUES ({', '.join(':' + c for c in _COLUMNS)})"
_WRITE_ENTRY = {
    "sqlite": (DriverSQL(_INSERT), DriverSQL("UPDATE audit_head SET hash = :hash WHERE id = 1")),
    # one round trip for both
    "postgresql": (DriverSQL(f"WITH entry AS ({_INSERT}) UPDATE audit_head SET hash = :hash WHERE id = 1"),),
}


def append(
    conn: Session | Connection,
    *,
    actor: str,
    action: str,
    subject: str,
    outcome: str,
    purpose: str = "",
    detail: dict[str, Any] | None = None,
    head: tuple[int, str] | None = None,
) -> dict[str, Any]:
    """Append an entry inside the caller's transaction (it commits with the access it records).

    ``head``: the sequence number and previous hash, when the caller advanced the head itself
    (``ADVANCE_HEAD`` with more columns, to read something in the same round trip).
    """
    if head is None:
        head = _ADVANCE_HEAD.run(conn).fetchone()
        if head is None:
            raise AuditHeadMissing("audit_head row 1")
    row = {
        "seq": head[0],
        "at": datetime.now(UTC),
        "actor": actor[:200],
        "action": action,
        "subject": subject[:300],
        "purpose": purpose[:200],
        "outcome": outcome,
        "detail": _clean(detail or {}),
        "prev_hash": head[1],
    }
    row["hash"] = entry_hash(**row)  # type: ignore[arg-type]
    dialect = (conn if isinstance(conn, Connection) else conn.connection()).dialect.name
    for statement in _WRITE_ENTRY[dialect]:
        statement.run(conn, row)
    return row


def record(catalogue: Catalogue, **kwargs: Any) -> None:
    """Append an entry in a (durable) transaction of its own."""
    with catalogue.transaction(durable=True) as conn:
        append(conn, **kwargs)


@dataclass
class AuditReport:
    entries: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "entries": self.entries, "problems": self.problems}


def verify(catalogue: Catalogue, *, batch: int = 5000) -> AuditReport:
    """Walk the whole chain in order; report every broken hash, link, gap and a truncated end."""
    report = AuditReport()
    prev_hash, prev_seq = GENESIS, 0
    with catalogue.session() as s:
        head = s.get(AuditHead, 1)
        last_id = 0
        while True:
            rows = s.scalars(select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch))
            chunk = list(rows)
            if not chunk:
                break
            for e in chunk:
                report.entries += 1
                if e.seq != prev_seq + 1:
                    report.problems.append(f"entries {prev_seq + 1}..{e.seq - 1} are missing (before entry {e.seq})")
                if e.prev_hash != prev_hash:
                    report.problems.append(f"entry {e.seq}: link to the previous entry is broken")
                want = entry_hash(
                    e.seq, e.at, e.actor, e.action, e.subject, e.purpose, e.outcome, e.detail, e.prev_hash
                )
                if want != e.hash:
                    report.problems.append(f"entry {e.seq}: content was changed after it was written")
                prev_hash, prev_seq = e.hash, e.seq
                last_id = e.id
        head_seq, head_hash = (head.seq, head.hash) if head is not None else (0, GENESIS)
        if (head_seq, head_hash) != (prev_seq, prev_hash):
            report.problems.append(f"log ends at entry {prev_seq} but the head records entry {head_seq}")
    return report
