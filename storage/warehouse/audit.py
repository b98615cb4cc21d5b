"""The access audit log: append-only, each entry hash-chained to the one before it.

An entry's hash covers its sequence number, time, actor, action, subject, purpose, outcome,
detail and the previous entry's hash. ``verify`` recomputes the chain: an edited entry
breaks its own hash, a removed one breaks the link of its successor (or, at the end, the
head row that every append updates in the same transaction). Entries carry identifiers
and purposes, never keys, secrets or document contents.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from storage.catalogue.db import Catalogue
from storage.catalogue.warehouse_models import AuditEntry, AuditHead

GENESIS = "0" * 64
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


def append(
    session: Session,
    *,
    actor: str,
    action: str,
    subject: str,
    outcome: str,
    purpose: str = "",
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Append an entry inside the caller's transaction (it commits with the access it records)."""
    head = session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1).with_for_update()).first()
    if head is None:
        session.execute(insert(AuditHead).values(id=1, seq=0, hash=GENESIS, note=""))
        head_seq, head_hash = 0, GENESIS
    else:
        head_seq, head_hash = head
    at = datetime.now(UTC)
    clean = _clean(detail or {})
    seq = head_seq + 1
    row = {
        "seq": seq,
        "at": at,
        "actor": actor[:200],
        "action": action,
        "subject": subject[:300],
        "purpose": purpose[:200],
        "outcome": outcome,
        "detail": clean,
        "prev_hash": head_hash,
    }
    row["hash"] = entry_hash(**row)  # type: ignore[arg-type]
    # Core statements, not ORM objects: an audited read must stay cheap.
    session.execute(insert(AuditEntry).values(**row))
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=seq, hash=row["hash"]))
    return row


def record(catalogue: Catalogue, **kwargs: Any) -> None:
    """Append an entry in a transaction of its own."""
    with catalogue.session() as s:
        append(s, **kwargs)


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
