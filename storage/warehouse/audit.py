"""The access audit log: append-only, each entry hash-chained to the one before it.

An entry's hash is the chain step (``storage.catalogue.chain``) over the previous entry's
hash, its sequence number and its content hash, which covers its time, actor, action,
subject, purpose, outcome and detail, and (revision 0021) the owner and centre the entry
concerns where its subject does not already say so (``verify`` then requires the owner column to
be the one the subject names). ``verify`` recomputes the chain: an edited entry breaks its own
hash, a removed one breaks the link of its successor (or, at the end, the head row that every
append updates in the same transaction). Entries carry identifiers and purposes, never keys,
secrets or document contents.

Appends serialise on the head row. One statement advances it and computes the new entry's
hash in the database; on PostgreSQL the same statement inserts the entry, so an append
costs one round trip (SQLite runs a second statement, in process). They commit durably
(``durable=True``: the WAL is flushed to disk at commit), since an entry must outlive the
access it records.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from sohoa.identifiers import OWNER_ID
from storage.catalogue import chain
from storage.catalogue.db import Catalogue, DriverSQL
from storage.catalogue.models import ApiClient, Officer
from storage.catalogue.warehouse_models import AuditEntry, AuditHead
from storage.errors import AuditHeadMissing

GENESIS = "0" * 64
OWNER_PREFIX = "owner:"
_SECRET_WORDS = ("secret", "password", "api_key", "token", "signature", "sig")


def _canonical_time(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def owner_of_subject(subject: str) -> str | None:
    """The số định danh an entry's subject names (``owner:<id>``), if it names one."""
    if subject.startswith(OWNER_PREFIX) and OWNER_ID.fullmatch(subject[len(OWNER_PREFIX) :]):
        return subject[len(OWNER_PREFIX) :]
    return None


def content_hash(
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    purpose: str,
    outcome: str,
    detail: dict[str, Any],
    owner_id: str | None = None,
    centre_id: int | None = None,
) -> str:
    """The hash of an entry's own fields.

    An entry's owner and centre (revision 0021) join the hashed body only when they say something
    the subject does not: an entry without them, or whose owner is the one its subject names (as
    the migration filled in for older entries), keeps the hash it had before 0021.
    """
    body: list[Any] = [_canonical_time(at), actor, action, subject, purpose, outcome, detail]
    extra: dict[str, Any] = {}
    if owner_id is not None and owner_id != owner_of_subject(subject):
        extra["owner"] = owner_id
    if centre_id is not None:
        extra["centre"] = centre_id
    if extra:
        body.append(extra)
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def legacy_entry_hash(
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
    """The hash of entries written before revision 0007, computed whole in Python."""
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


# An entry's own columns, in the order its content hash takes them.
_FIELDS = ("at", "actor", "action", "subject", "purpose", "outcome", "detail", "owner_id", "centre_id")


def _entry_row(
    *,
    actor: str,
    action: str,
    subject: str,
    outcome: str,
    purpose: str = "",
    detail: dict[str, Any] | None = None,
    owner: str | None = None,
    centre_id: int | None = None,
) -> dict[str, Any]:
    """An entry's own columns, cut to their widths, and its content hash for the chain step.

    ``owner``: the số định danh whose documents the access concerns (by default the one the
    subject names, ``owner:<id>``); ``centre_id``: the centre whose dossier, document or result
    it concerns. Both feed ``sohoa audit show``, the centre's trail and the citizen's.
    """
    subject = subject[:300]
    if owner is not None and not OWNER_ID.fullmatch(owner):
        owner = None  # not a số định danh: never stored as one
    row: dict[str, Any] = {
        "at": datetime.now(UTC),
        "actor": actor[:200],
        "action": action,
        "subject": subject,
        "purpose": purpose[:200],
        "outcome": outcome,
        "detail": _clean(detail or {}),
        "owner_id": owner_of_subject(subject) or owner,  # the subject's owner wins: verify holds the column to it
        "centre_id": centre_id,
    }
    row["content"] = content_hash(*(row[f] for f in _FIELDS))
    return row


# Actors named by an API key's id (``<role>:<id>``, ``api-key:<id>``): officer usernames are never all digits.
_KEY_ACTORS = ("officer", "station", "api-key")


def actor_centre(conn: Session | Connection, actor: str) -> int | None:
    """The centre an actor belongs to now: an officer's (``officer:<username>``), an API key's
    (``<role>:<id>``, ``api-key:<id>``); None for anyone else (agencies, citizens, the operator,
    a deployment-wide key)."""
    kind, _, name = actor.partition(":")
    if name.isdigit() and kind in _KEY_ACTORS:
        return conn.scalar(select(ApiClient.centre_id).where(ApiClient.id == int(name)))
    if kind == "officer" and name:
        return conn.scalar(select(Officer.centre_id).where(Officer.username == name))
    return None


def _placed(conn: Session | Connection, row: dict[str, Any]) -> dict[str, Any]:
    """The row with the centre of its actor recorded when it names none (a sign-in, an officer's
    search or admin action), else of the officer it is about (``officer:<username>``: the operator's
    changes to an account): the centre is fixed when the entry is written, and hashed with it, so an
    officer who later moves centre leaves their past entries with the centre they were in."""
    if row["centre_id"] is not None:
        return row
    centre_id = actor_centre(conn, row["actor"])
    if centre_id is None and row["subject"].startswith("officer:"):  # the operator's change to an officer's account
        centre_id = actor_centre(conn, row["subject"])
    if centre_id is None:
        return row
    placed = {**row, "centre_id": centre_id}
    placed["content"] = content_hash(*(placed[f] for f in _FIELDS))
    return placed


# SET expressions read the row as it was: prev_hash keeps the hash being replaced.
_ADVANCE = (
    f"UPDATE audit_head SET seq = seq + 1, prev_hash = hash, hash = {chain.SQL_NAME}(hash, seq + 1, :content) "
    "WHERE id = 1{only_if} RETURNING seq, prev_hash, hash"
)
_ADVANCE_ALWAYS = _ADVANCE.format(only_if="")
_INSERT_FROM_HEAD = (
    f"INSERT INTO audit_log (seq, prev_hash, hash, {', '.join(_FIELDS)}) "
    f"SELECT seq, prev_hash, hash, {', '.join(':' + c for c in _FIELDS)} FROM head RETURNING seq"
)
# PostgreSQL: advance and insert in one statement. SQLite has no DML in WITH; its statements cost no round trip.
_APPEND_POSTGRES = DriverSQL(f"WITH head AS ({_ADVANCE_ALWAYS}) {_INSERT_FROM_HEAD}")
_ADVANCE_SQLITE = DriverSQL(_ADVANCE_ALWAYS)
_INSERT_SQLITE = DriverSQL.insert("audit_log", ("seq", "prev_hash", "hash", *_FIELDS))


def _dialect(conn: Session | Connection) -> str:
    return (conn if isinstance(conn, Connection) else conn.connection()).dialect.name


def _append_row(conn: Session | Connection, row: dict[str, Any]) -> None:
    row = _placed(conn, row)
    if _dialect(conn) == "postgresql":
        if _APPEND_POSTGRES.run(conn, row).fetchone() is None:
            raise AuditHeadMissing("audit_head row 1")
        return
    head = _ADVANCE_SQLITE.run(conn, {"content": row["content"]}).fetchone()
    if head is None:
        raise AuditHeadMissing("audit_head row 1")
    _INSERT_SQLITE.run(conn, {**row, "seq": head[0], "prev_hash": head[1], "hash": head[2]})


def append(conn: Session | Connection, **entry: Any) -> None:
    """Append an entry inside the caller's transaction (it commits with the access it records).

    ``entry``: actor, action, subject, outcome, and optionally purpose and detail.
    """
    _append_row(conn, _entry_row(**entry))


@contextmanager
def _durable_scope(catalogue: Catalogue) -> Iterator[Connection]:
    """Where an entry of its own commits durably: on PostgreSQL a durable connection in
    autocommit mode (the one append statement is its own transaction), on SQLite a durable
    transaction (its two statements commit together)."""
    if catalogue.dialect_name == "postgresql":
        with catalogue.autocommit(durable=True) as db:
            yield db.connection
    else:
        with catalogue.transaction(durable=True) as conn:
            yield conn


def record(catalogue: Catalogue, **entry: Any) -> None:
    """Append an entry, committed durably by itself (on PostgreSQL: one statement, one round trip)."""
    row = _entry_row(**entry)
    with _durable_scope(catalogue) as conn:
        _append_row(conn, row)


class AuditedLookup:
    """A lookup whose access is audited: when it finds a row, an entry is appended in the same transaction.

    Nothing found, nothing appended (the caller refuses the access). On PostgreSQL the
    lookup, the head's advance and the insert are one statement, committed durably in one
    round trip; on SQLite they are three statements in one durable transaction.
    """

    def __init__(self, lookup_sql: str):
        self._lookup = DriverSQL(lookup_sql)
        self._lookup_and_append = DriverSQL(
            f"WITH found AS ({lookup_sql}), "
            f"head AS ({_ADVANCE.format(only_if=' AND EXISTS (SELECT 1 FROM found)')}), "
            f"entry AS ({_INSERT_FROM_HEAD}) "
            "SELECT found.*, (SELECT seq FROM entry) FROM found"
        )

    def run(self, catalogue: Catalogue, params: dict[str, Any], **entry: Any) -> Sequence[Any] | None:
        """The lookup's first row, its access audited; None (and no entry) when it finds none."""
        row = _entry_row(**entry)
        with _durable_scope(catalogue) as conn:
            if catalogue.dialect_name == "postgresql":
                row = _placed(conn, row)
                found = self._lookup_and_append.run(conn, {**params, **row}).fetchone()
                if found is not None and found[-1] is None:
                    raise AuditHeadMissing("audit_head row 1")
                return None if found is None else tuple(found[:-1])
            found = self._lookup.run(conn, params).fetchone()
            if found is not None:
                _append_row(conn, row)
        return None if found is None else tuple(found)


# What ``verify`` can find, in Vietnamese (for officers); the codes are stable (``--json``).
PROBLEMS = {
    "entries_missing": "Thiếu các bản ghi {first}..{last} (trước bản ghi {seq}).",
    "link_broken": "Bản ghi {seq}: liên kết với bản ghi trước bị đứt.",
    "entry_changed": "Bản ghi {seq}: nội dung đã bị sửa sau khi ghi.",
    "head_mismatch": "Nhật ký dừng ở bản ghi {seq} nhưng đầu chuỗi ghi nhận bản ghi {head} (bản ghi cuối bị xóa).",
    "anchor_token_invalid": "Mốc neo tại bản ghi {seq}: dấu thời gian không hợp lệ ({reason}).",
    "anchor_object_changed": "Mốc neo tại bản ghi {seq}: tệp neo trong kho kết quả bị thay đổi hoặc mất ({reason}).",
    "anchor_mismatch": "Mốc neo tại bản ghi {seq}: bản ghi hiện tại không còn là bản ghi đã neo (nhật ký bị viết lại).",
    "anchor_unlisted": (
        "Mốc neo tại bản ghi {seq}: tệp neo {key} có trong kho kết quả nhưng không còn trong danh mục mốc neo "
        "(mốc neo bị xóa khỏi cơ sở dữ liệu)."
    ),
    "anchor_chain_broken": (
        "Mốc neo tại bản ghi {seq}: không nối với mốc neo liền trước (tệp neo ghi mốc trước là {prev}; "
        "một mốc neo đã bị xóa hoặc thay)."
    ),
    "anchor_time_mismatch": "Mốc neo tại bản ghi {seq}: thời điểm không khớp với dấu thời gian ({reason}).",
}


@dataclass
class Problem:
    code: str
    seq: int
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return PROBLEMS[self.code].format(seq=self.seq, **self.facts)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "seq": self.seq, **self.facts, "message": self.message}


@dataclass
class AuditReport:
    entries: int = 0
    anchors: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, code: str, seq: int, **facts: Any) -> None:
        self.problems.append(Problem(code, seq, facts))

    @property
    def message(self) -> str:
        anchors = f", {self.anchors} mốc neo thời gian" if self.anchors else ""
        if self.ok:
            return f"Nhật ký truy cập nguyên vẹn: {self.entries} bản ghi{anchors}."
        return f"Nhật ký truy cập bị can thiệp: {len(self.problems)} vấn đề trong {self.entries} bản ghi{anchors}."

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "anchors": self.anchors,
            "problems": [p.to_dict() for p in self.problems],
            "message": self.message,
        }


def verify(catalogue: Catalogue, *, batch: int = 5000) -> AuditReport:
    """Walk the whole chain in order; report every broken hash, link, gap and a truncated end.

    An entry may carry either hash: the current one, or the legacy one of entries written
    before revision 0007 (a process not yet upgraded may still write those after it). Both
    bind the entry's content and its link; neither is keyed, so the chain shows edits and
    removals, not who could have rewritten the whole log: the anchors do
    (``dossiers.audit_anchors.verify_all`` adds their checks to this report).
    """
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
                    report.add("entries_missing", e.seq, first=prev_seq + 1, last=e.seq - 1)
                if e.prev_hash != prev_hash:
                    report.add("link_broken", e.seq)
                fields = (e.at, e.actor, e.action, e.subject, e.purpose, e.outcome, e.detail)
                hashes = [chain.chain_hash(e.prev_hash, e.seq, content_hash(*fields, e.owner_id, e.centre_id))]
                named = owner_of_subject(e.subject)
                if e.centre_id is None and e.owner_id in (None, named):
                    hashes.append(legacy_entry_hash(e.seq, *fields, e.prev_hash))
                # The hash leaves out an owner its subject names: emptying or changing that column is caught here.
                if e.hash not in hashes or (named is not None and e.owner_id != named):
                    report.add("entry_changed", e.seq)
                prev_hash, prev_seq = e.hash, e.seq
                last_id = e.id
        head_seq, head_hash = (head.seq, head.hash) if head is not None else (0, GENESIS)
        if (head_seq, head_hash) != (prev_seq, prev_hash):
            report.add("head_mismatch", prev_seq, head=head_seq)
    return report
