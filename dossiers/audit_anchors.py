"""Anchoring the audit log: its head time-stamped by a TSA and kept where it cannot be rewritten.

The hash chain shows an edited or removed entry, but not a log rewritten whole (every hash
recomputed, the head row with them): nothing in the database is keyed. Once a day the chain's
head (seq, hash) is time-stamped by the configured TSA (``signing.tsa_url``; the development
TSA in development), RFC 3161, over the SHA-256 of the statement

    sohoa audit log head seq=<seq> hash=<hash>

and the statement, head and token are stored as one JSON object in the results bucket (object
lock, COMPLIANCE retention: not even the operator can overwrite it before it expires), catalogued
in ``audit_anchors``. ``verify_all`` checks the chain (``storage.warehouse.audit.verify``) and
then each anchor: its object is the one catalogued (hash) and names the catalogued head, the
token is signed by a TSA that chains to the trust roots over that very statement, and the entry
at that seq still has that hash. A rewritten log keeps its chain consistent but loses the
entries its anchors name.

``anchor_head`` is idempotent: it does nothing when today's anchor (a day in Vietnam, UTC+7)
exists or the head has not moved since the last anchor. The maintenance loop runs it each round
(``workers.maintenance.run_once``), ``sohoa audit anchor`` on demand (``force``: even when
today's exists, as long as the head moved). The anchor object is read back unaudited (it holds
the log's own head, nobody's documents).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from signing.timestamps.check import check_token
from signing.timestamps.tsa_fast import token_time
from signing.vntime import VN_TZ, to_vn
from storage.catalogue.db import Catalogue
from storage.catalogue.warehouse_models import AuditAnchor, AuditEntry, AuditHead
from storage.objectstore import Bucket
from storage.warehouse import audit

if TYPE_CHECKING:
    from dossiers.services import Services
    from signing.timestamps import TimestampSource
    from storage.objectstore.base import ObjectStore
    from storage.warehouse import Warehouse

log = logging.getLogger(__name__)

FORMAT = "sohoa-audit-anchor/1"


def statement(seq: int, head_hash: str) -> bytes:
    """What the TSA time-stamps (its SHA-256): the head, in words a person and ``openssl ts`` can check."""
    return f"sohoa audit log head seq={seq} hash={head_hash}\n".encode()


@dataclass(frozen=True)
class Anchored:
    """What ``anchor_head`` did: ``anchored`` False with ``reason`` when it had nothing to do."""

    anchored: bool
    reason: str
    seq: int
    hash: str
    object_key: str | None = None
    tsa_time: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "anchored": self.anchored,
            "reason": self.reason,
            "seq": self.seq,
            "hash": self.hash,
            "object_key": self.object_key,
            "tsa_time": self.tsa_time.isoformat() if self.tsa_time else None,
        }

    @property
    def message(self) -> str:
        if self.anchored:
            assert self.tsa_time is not None
            when = to_vn(self.tsa_time).strftime("%H:%M:%S %d/%m/%Y")
            return f"Đã neo đầu chuỗi nhật ký tại bản ghi {self.seq} (dấu thời gian {when}), tệp {self.object_key}."
        return {
            "empty": "Nhật ký chưa có bản ghi nào: chưa có gì để neo.",
            "unchanged": f"Đầu chuỗi (bản ghi {self.seq}) chưa đổi từ lần neo trước: không neo lại.",
            "today": f"Hôm nay đã neo nhật ký (bản ghi {self.seq}): lần neo tiếp theo vào ngày mai.",
        }[self.reason]


def _today_start(now: datetime) -> datetime:
    return datetime.combine(to_vn(now).date(), time.min, VN_TZ)


def anchor_head(
    catalogue: Catalogue,
    warehouse: Warehouse,
    timestamper: TimestampSource,
    *,
    force: bool = False,
    now: datetime | None = None,
) -> Anchored:
    """Time-stamp the chain's head and store the token (module doc); nothing when there is nothing new."""
    now = now or datetime.now(UTC)
    with catalogue.reading() as s:
        head = s.get(AuditHead, 1)
        last = s.scalars(select(AuditAnchor).order_by(AuditAnchor.seq.desc()).limit(1)).first()
        today = s.scalar(select(AuditAnchor.seq).where(AuditAnchor.anchored_at >= _today_start(now)).limit(1))
    seq, head_hash = (head.seq, head.hash) if head is not None else (0, audit.GENESIS)
    if seq == 0:
        return Anchored(False, "empty", seq, head_hash)
    if last is not None and last.seq >= seq:
        return Anchored(False, "unchanged", last.seq, last.hash)
    if today is not None and not force:
        return Anchored(False, "today", today, head_hash)
    said = statement(seq, head_hash)
    token = timestamper.timestamp(hashlib.sha256(said).digest(), "sha256")
    from asn1crypto import cms

    tsa_time = token_time(cms.ContentInfo.load(token))
    body = {
        "format": FORMAT,
        "seq": seq,
        "hash": head_hash,
        "statement": said.decode(),
        "anchored_at": now.isoformat(),
        "tsa_time": tsa_time.isoformat(),
        "token": base64.b64encode(token).decode(),
    }
    data = json.dumps(body, ensure_ascii=False, sort_keys=True, indent=1).encode()
    obj = warehouse.put_bytes(Bucket.RESULTS, data, suffix=".json", content_type="application/json")
    with catalogue.session(durable=True) as s:
        if s.scalar(select(AuditAnchor.id).where(AuditAnchor.seq == seq)) is None:  # a twin process was first
            s.add(
                AuditAnchor(
                    seq=seq,
                    hash=head_hash,
                    anchored_at=now,
                    tsa_time=tsa_time,
                    object_key=obj.key,
                    object_sha256=obj.sha256,
                    object_version=obj.version_id,
                )
            )
    log.info("audit log head anchored: seq=%d object=%s tsa_time=%s", seq, obj.key, tsa_time.isoformat())
    return Anchored(True, "anchored", seq, head_hash, obj.key, tsa_time)


def anchor_for(services: Services, *, force: bool = False) -> Anchored:
    """``anchor_head`` with the service's catalogue, warehouse and time-stamping service."""
    return anchor_head(services.catalogue, services.warehouse, services.timestamper, force=force)


def anchor_trust_roots(services: Services) -> list[Path]:
    """The roots an anchor's TSA must chain to: verification's, and the configured ones."""
    roots = list(services.trust_roots)
    return roots + [p for p in services.settings.signing.trust_roots if p not in roots]


def _check_anchor(
    report: audit.AuditReport, a: AuditAnchor, entry_hash: str | None, store: ObjectStore, roots: Sequence[Path]
) -> None:
    try:
        body = json.loads(
            store.get_bytes(Bucket.RESULTS, a.object_key, sha256=a.object_sha256, version_id=a.object_version)
        )
        token = base64.b64decode(body["token"])
        named = (body["seq"], body["hash"])
    except Exception as exc:  # missing, altered (hash) or unreadable: each is the same finding
        report.add("anchor_object_changed", a.seq, reason=getattr(exc, "code", type(exc).__name__))
        return
    if named != (a.seq, a.hash):
        report.add("anchor_object_changed", a.seq, reason="names another head")
        return
    checked = check_token(token, hashlib.sha256(statement(a.seq, a.hash)).digest(), roots)
    if not checked.ok:
        report.add("anchor_token_invalid", a.seq, reason=checked.reason)
        return
    if entry_hash != a.hash:
        report.add("anchor_mismatch", a.seq)


def verify_all(catalogue: Catalogue, store: ObjectStore, trust_roots: Sequence[Path]) -> audit.AuditReport:
    """The chain's checks (``audit.verify``), then every anchor's (module doc)."""
    report = audit.verify(catalogue)
    with catalogue.reading() as s:
        anchors = list(s.scalars(select(AuditAnchor).order_by(AuditAnchor.seq)))
        wanted = select(AuditEntry.seq, AuditEntry.hash).where(AuditEntry.seq.in_([a.seq for a in anchors]))
        hashes: dict[int, str] = {seq: h for seq, h in s.execute(wanted)}
    for a in anchors:
        report.anchors += 1
        _check_anchor(report, a, hashes.get(a.seq), store, trust_roots)
    return report


def verify_for(services: Services) -> audit.AuditReport:
    return verify_all(services.catalogue, services.store, anchor_trust_roots(services))
