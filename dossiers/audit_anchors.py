"""Anchoring the audit log: its head time-stamped by a TSA and kept where it cannot be rewritten.

The hash chain shows an edited or removed entry, but not a log rewritten whole (every hash
recomputed, the head row with them): nothing in the database is keyed. Once a day the chain's
head (seq, hash) is time-stamped by the configured TSA (``signing.tsa_url``; the development
TSA in development), RFC 3161, over the SHA-256 of the statement

    sohoa audit log head seq=<seq> hash=<hash>

and the statement, head and token are stored as one JSON object in the results bucket under
``audit-anchors/`` (object lock, COMPLIANCE retention: not even the operator can overwrite it
before it expires), with the seq, hash and object hash of the anchor before it, catalogued in
``audit_anchors``. ``verify_all`` checks the chain (``storage.warehouse.audit.verify``) and then
each anchor: its object is the one catalogued (hash) and names the catalogued head, it links to
the anchor before it, the token is signed by a TSA that chains to the trust roots over that very
statement, its time is the recorded TSA time, close to when the anchor was made and not before
the previous anchor's, and the entry at that seq still has that hash. Then it lists
``audit-anchors/`` in the bucket: an object no row names is an anchor whose row was removed. A
rewritten log keeps its chain consistent but loses the entries its anchors name; removing the
anchors' rows as well leaves their objects.

``anchor_head`` is idempotent: it does nothing when today's anchor (a day in Vietnam, UTC+7)
exists or the head has not moved since the last anchor. It claims the seq (a row with no object
yet, committed) before asking the TSA: a twin process finds the claim and answers ``busy``, so
the TSA is asked once and one object is locked. A claim whose process died expires after
``CLAIM_EXPIRES``. The maintenance loop runs it each round
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
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError as DbIntegrityError

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
OBJECT_PREFIX = "audit-anchors/"  # in the results bucket: every anchor object, listed by ``verify_all``
UNFINISHED = ""  # a claim's object key and hash: the TSA has not answered yet
CLAIM_EXPIRES = timedelta(minutes=15)  # an unfinished claim older than this: its process died
TIME_PRECISION = timedelta(milliseconds=1)  # a token's time against the one recorded with it
ANCHOR_DELAY = timedelta(minutes=10)  # the token's time against when the anchor was made (clocks, a slow TSA)


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
            "busy": "Một tiến trình khác đang neo nhật ký: lần này bỏ qua.",
        }[self.reason]


def _today_start(now: datetime) -> datetime:
    return datetime.combine(to_vn(now).date(), time.min, VN_TZ)


def _utc(moment: datetime) -> datetime:
    """A time from the database as an aware UTC time (SQLite hands back naive UTC times)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _claim(catalogue: Catalogue, seq: int, head_hash: str, claimed_at: datetime) -> int | None:
    """Claim the anchoring of ``seq`` before the TSA is asked (a row with no object yet): the id of the
    claim, or None when another process holds a claim (this seq, or another still unfinished)."""
    try:
        with catalogue.session(durable=True) as s:
            # An unfinished claim older than CLAIM_EXPIRES is a process that died while anchoring.
            s.execute(
                delete(AuditAnchor).where(
                    AuditAnchor.object_key == UNFINISHED, AuditAnchor.anchored_at < claimed_at - CLAIM_EXPIRES
                )
            )
            claim = AuditAnchor(
                seq=seq,
                hash=head_hash,
                anchored_at=claimed_at,
                tsa_time=claimed_at,
                object_key=UNFINISHED,
                object_sha256=UNFINISHED,
            )
            s.add(claim)
            s.flush()
            claim_id = claim.id
    except DbIntegrityError:  # a twin process claimed this seq first
        return None
    with catalogue.reading() as s:
        others = s.scalar(
            select(func.count())
            .select_from(AuditAnchor)
            .where(AuditAnchor.object_key == UNFINISHED, AuditAnchor.id != claim_id)
        )
    if others:  # a twin anchors another head right now: back off (the next round anchors)
        _drop_claim(catalogue, claim_id)
        return None
    return claim_id


def _drop_claim(catalogue: Catalogue, claim_id: int) -> None:
    with catalogue.session(durable=True) as s:
        s.execute(delete(AuditAnchor).where(AuditAnchor.id == claim_id, AuditAnchor.object_key == UNFINISHED))


def anchor_head(
    catalogue: Catalogue,
    warehouse: Warehouse,
    timestamper: TimestampSource,
    *,
    force: bool = False,
    now: datetime | None = None,
) -> Anchored:
    """Time-stamp the chain's head and store the token (module doc); nothing when there is nothing new.

    ``now``: the moment that decides which day it is (today's anchor); the anchor records the clock's
    own time, which its token's time must match.
    """
    now = now or datetime.now(UTC)
    with catalogue.reading() as s:
        head = s.get(AuditHead, 1)
        last = s.scalars(select(AuditAnchor).order_by(AuditAnchor.seq.desc()).limit(1)).first()
        today = s.scalar(select(AuditAnchor.seq).where(AuditAnchor.anchored_at >= _today_start(now)).limit(1))
        done = s.scalars(
            select(AuditAnchor).where(AuditAnchor.object_key != UNFINISHED).order_by(AuditAnchor.seq.desc()).limit(1)
        ).first()
        prev = (done.seq, done.hash, done.object_sha256) if done is not None else None
    seq, head_hash = (head.seq, head.hash) if head is not None else (0, audit.GENESIS)
    if seq == 0:
        return Anchored(False, "empty", seq, head_hash)
    if last is not None and last.seq >= seq:
        return Anchored(False, "busy" if last.object_key == UNFINISHED else "unchanged", last.seq, last.hash)
    if today is not None and not force:
        return Anchored(False, "today", today, head_hash)
    claimed_at = datetime.now(UTC)
    claim_id = _claim(catalogue, seq, head_hash, claimed_at)
    if claim_id is None:
        return Anchored(False, "busy", seq, head_hash)
    try:
        said = statement(seq, head_hash)
        token = timestamper.timestamp(hashlib.sha256(said).digest(), "sha256")
        from asn1crypto import cms

        tsa_time = token_time(cms.ContentInfo.load(token))
        body = {
            "format": FORMAT,
            "seq": seq,
            "hash": head_hash,
            "statement": said.decode(),
            "anchored_at": claimed_at.isoformat(),
            "tsa_time": tsa_time.isoformat(),
            "token": base64.b64encode(token).decode(),
            # The anchor before this one: a row removed from ``audit_anchors`` breaks the next one's link.
            "prev_seq": prev[0] if prev else None,
            "prev_hash": prev[1] if prev else None,
            "prev_object_sha256": prev[2] if prev else None,
        }
        data = json.dumps(body, ensure_ascii=False, sort_keys=True, indent=1).encode()
        obj = warehouse.put_bytes(
            Bucket.RESULTS, data, suffix=".json", content_type="application/json", prefix=OBJECT_PREFIX
        )
    except BaseException:
        _drop_claim(catalogue, claim_id)
        raise
    with catalogue.session(durable=True) as s:
        s.execute(
            update(AuditAnchor)
            .where(AuditAnchor.id == claim_id)
            .values(tsa_time=tsa_time, object_key=obj.key, object_sha256=obj.sha256, object_version=obj.version_id)
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


@dataclass(frozen=True)
class _Previous:
    seq: int
    hash: str
    object_sha256: str
    tsa_time: datetime
    anchored_at: datetime


def _check_anchor(
    report: audit.AuditReport,
    a: AuditAnchor,
    entry_hash: str | None,
    store: ObjectStore,
    roots: Sequence[Path],
    prev: _Previous | None,
) -> datetime | None:
    """Check one anchor (module doc); its token's time when the token is good."""
    if a.object_key == UNFINISHED:
        report.add("anchor_object_changed", a.seq, reason="never finished")
        return None
    try:
        body = json.loads(
            store.get_bytes(Bucket.RESULTS, a.object_key, sha256=a.object_sha256, version_id=a.object_version)
        )
        token = base64.b64decode(body["token"])
        named = (body["seq"], body["hash"])
        linked = (body.get("prev_seq"), body.get("prev_hash"), body.get("prev_object_sha256"))
    except Exception as exc:  # missing, altered (hash) or unreadable: each is the same finding
        report.add("anchor_object_changed", a.seq, reason=getattr(exc, "code", type(exc).__name__))
        return None
    if named != (a.seq, a.hash):
        report.add("anchor_object_changed", a.seq, reason="names another head")
        return None
    if linked != ((prev.seq, prev.hash, prev.object_sha256) if prev else (None, None, None)):
        report.add("anchor_chain_broken", a.seq, prev=linked[0] if linked[0] is not None else "không có")
    checked = check_token(token, hashlib.sha256(statement(a.seq, a.hash)).digest(), roots)
    if not checked.ok or checked.gen_time is None:
        report.add("anchor_token_invalid", a.seq, reason=checked.reason or "no time")
        return None
    token_at = _utc(checked.gen_time)
    if abs(token_at - _utc(a.tsa_time)) > TIME_PRECISION:
        report.add("anchor_time_mismatch", a.seq, reason="the recorded time is not the token's")
    elif abs(token_at - _utc(a.anchored_at)) > ANCHOR_DELAY:
        report.add("anchor_time_mismatch", a.seq, reason="the token is far from when the anchor was made")
    elif prev is not None and (token_at < prev.tsa_time or _utc(a.anchored_at) <= prev.anchored_at):
        # A TSA may give whole seconds: two anchors in one second share a token time, never an anchored_at.
        report.add("anchor_time_mismatch", a.seq, reason="not after the anchor before it")
    if entry_hash != a.hash:
        report.add("anchor_mismatch", a.seq)
    return token_at


def _unlisted(report: audit.AuditReport, store: ObjectStore, listed: set[str]) -> None:
    """Anchor objects in the locked bucket whose row is gone from ``audit_anchors``."""
    for info in store.list_objects(Bucket.RESULTS, OBJECT_PREFIX):
        if info.key in listed:
            continue
        try:
            seq = int(json.loads(store.get_bytes(Bucket.RESULTS, info.key))["seq"])
        except Exception:  # unreadable: still an anchor nobody lists
            seq = 0
        report.add("anchor_unlisted", seq, key=info.key)


def verify_all(catalogue: Catalogue, store: ObjectStore, trust_roots: Sequence[Path]) -> audit.AuditReport:
    """The chain's checks (``audit.verify``), then every anchor's, and every anchor object's (module doc)."""
    report = audit.verify(catalogue)
    with catalogue.reading() as s:
        anchors = list(s.scalars(select(AuditAnchor).order_by(AuditAnchor.seq)))
        wanted = select(AuditEntry.seq, AuditEntry.hash).where(AuditEntry.seq.in_([a.seq for a in anchors]))
        hashes: dict[int, str] = {seq: h for seq, h in s.execute(wanted)}
    prev: _Previous | None = None
    now = datetime.now(UTC)
    for a in anchors:
        if a.object_key == UNFINISHED and _utc(a.anchored_at) > now - CLAIM_EXPIRES:
            continue  # being anchored right now
        report.anchors += 1
        token_at = _check_anchor(report, a, hashes.get(a.seq), store, trust_roots, prev)
        if a.object_key != UNFINISHED:
            prev = _Previous(a.seq, a.hash, a.object_sha256, token_at or _utc(a.tsa_time), _utc(a.anchored_at))
    _unlisted(report, store, {a.object_key for a in anchors})
    return report


def verify_for(services: Services) -> audit.AuditReport:
    return verify_all(services.catalogue, services.store, anchor_trust_roots(services))
