"""The access audit log, readable: who read whose documents, when, for what purpose.

Three readers, one query:

- the operator (``sohoa audit show``): every entry, filtered;
- a centre's administrator (``GET /api/v1/audit``, the page ``/can-bo/quan-tri/nhat-ky``): the
  entries recorded for the centre (``audit_log.centre_id``, hashed with the entry): those about its
  dossiers, documents and results, and those its officers and API keys made while they belonged to
  it (the actor's centre, recorded when the entry was written); never another centre's;
- the citizen who passed the portal's applicant check (``/tra-cuu/nhat-ky/{code}``): the entries
  about their documents (``audit_log.owner_id``, or a subject ``owner:<id>``), each reader named by
  agency or by the centre recorded on the entry (never an officer's name or username), with the
  purpose and the time.

Filters map to indexes of revision 0021: (owner_id, seq), (centre_id, seq), (actor, seq),
(action, seq) and (at); pages are newest first by ``seq``. Viewing the trail is itself audited
(``audit_view``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, literal, not_, or_, select

from dossiers.errors import AuditFilterInvalid
from signing.vntime import VN_TZ
from sohoa.identifiers import OWNER_ID
from storage.catalogue.db import Catalogue
from storage.catalogue.models import Centre, Document
from storage.catalogue.warehouse_models import Agency, AuditEntry
from storage.warehouse import audit

VIEW_ACTION = "audit_view"
MAX_LIMIT = 500
PAGE_SIZE = 50

# Action codes as officers and citizens read them.
ACTIONS_VI: dict[str, str] = {
    "get": "Đọc giấy tờ",
    "presign": "Cấp liên kết tải giấy tờ",
    "request": "Cơ quan yêu cầu giấy tờ",
    "search": "Tra cứu giấy tờ",
    "grant": "Cấp quyền khai thác",
    "revoke": "Thu hồi quyền khai thác",
    "lookup": "Tra cứu kết quả (công dân)",
    "lookup-attack": "Cảnh báo dò mã kết quả",
    "issue_result": "Cấp kết quả điện tử",
    "retimestamp": "Gia hạn dấu thời gian kết quả",
    "confirm_copy": "Xác nhận bản sao đúng với bản chính",
    "correct_component": "Sửa thông tin giấy tờ",
    "reuse_document": "Dùng lại giấy tờ trong kho",
    "reuse-at-intake": "Tra cứu giấy tờ dùng lại khi tiếp nhận",
    "reuse-volume-alert": "Cảnh báo tra cứu dùng lại bất thường",
    "component_resend": "Gửi lại thành phần hồ sơ",
    "retrain_classifier": "Huấn luyện lại bộ phân loại",
    "agency_register": "Đăng ký cơ quan khai thác",
    "agency_disable": "Vô hiệu hóa cơ quan khai thác",
    "centre_update": "Cập nhật thông tin trung tâm",
    "officer.create": "Tạo tài khoản cán bộ",
    "officer.sign_in": "Đăng nhập",
    "officer.sign_out": "Đăng xuất",
    "officer.lockout": "Khóa tài khoản do nhập sai",
    "officer.totp_enrol": "Đăng ký mã xác thực hai lớp",
    "officer.password_change": "Đổi mật khẩu",
    "officer.oidc_link": "Liên kết tài khoản định danh",
    "officer.disable": "Vô hiệu hóa tài khoản cán bộ",
    "officer.unlock": "Mở khóa tài khoản cán bộ",
    "officer.password_reset": "Đặt lại mật khẩu cán bộ",
    "officer.totp_reset": "Đặt lại mã xác thực hai lớp",
    "audit_view": "Xem nhật ký truy cập",
    "notice_retry": "Gửi lại thông báo",
    "slip_download": "Tải giấy hẹn",
}

OUTCOMES_VI: dict[str, str] = {
    "ok": "Thành công",
    "granted": "Được cấp",
    "refused": "Bị từ chối",
    "error": "Lỗi",
    "mismatch": "Không khớp",
    "alert": "Cảnh báo",
    "locked": "Bị khóa",
    "wrong_password": "Sai mật khẩu",
    "wrong_code": "Sai mã",
    "unknown_identity": "Không rõ danh tính",
    "corrected": "Đã sửa",
    "unchanged": "Không thay đổi",
    "kept": "Giữ nguyên",
    "replaced": "Đã thay",
}


def action_vi(code: str) -> str:
    """The Vietnamese phrase for an action code (the code itself for one this version does not know)."""
    return ACTIONS_VI.get(code, code)


def outcome_vi(code: str) -> str:
    return OUTCOMES_VI.get(code, code)


@dataclass(frozen=True)
class TrailFilter:
    """What to show. ``date_from``/``date_to``: calendar days in Vietnam (UTC+7), both included."""

    owner: str | None = None
    actor: str | None = None
    action: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    def describe(self) -> dict[str, str]:
        """The filter for an audit entry's detail: without the số định danh (the entry's owner holds it)."""
        out = {"actor": self.actor, "action": self.action, "from": self.date_from, "to": self.date_to}
        return {k: str(v) for k, v in out.items() if v is not None} | ({"by_owner": "yes"} if self.owner else {})


# A filter the trail cannot take (a malformed số định danh, dates the wrong way round): AUDIT_FILTER_INVALID,
# its Vietnamese message the sentence for the field that was wrong.
TrailFilterInvalid = AuditFilterInvalid


def check_filter(f: TrailFilter) -> TrailFilter:
    """The filter, trimmed and checked; ``TrailFilterInvalid`` (AUDIT_FILTER_INVALID) otherwise."""
    owner = (f.owner or "").strip() or None
    if owner is not None and not OWNER_ID.fullmatch(owner):
        raise TrailFilterInvalid("owner", message_vi="Số định danh phải gồm đúng 12 chữ số.")
    if f.date_from and f.date_to and f.date_from > f.date_to:
        raise TrailFilterInvalid("dates", message_vi="Ngày bắt đầu phải trước hoặc bằng ngày kết thúc.")
    return replace(f, owner=owner, actor=(f.actor or "").strip() or None, action=(f.action or "").strip() or None)


@dataclass
class TrailEntry:
    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    purpose: str
    outcome: str
    owner_id: str | None
    centre_id: int | None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def action_vi(self) -> str:
        return action_vi(self.action)

    @property
    def outcome_vi(self) -> str:
        return outcome_vi(self.outcome)

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "action_vi": self.action_vi,
            "subject": self.subject,
            "purpose": self.purpose,
            "outcome": self.outcome,
            "outcome_vi": self.outcome_vi,
            "owner_id": self.owner_id,
            "centre_id": self.centre_id,
            "detail": self.detail,
        }


@dataclass
class TrailPage:
    entries: list[TrailEntry]
    page: int
    size: int
    has_more: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "page": self.page,
            "size": self.size,
            "has_more": self.has_more,
            "entries": [e.to_dict() for e in self.entries],
        }


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, VN_TZ)


def _conditions(f: TrailFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if f.owner:  # the subject too: an owner column emptied behind the log's back still finds the entry
        where.append(or_(AuditEntry.owner_id == f.owner, AuditEntry.subject == audit.OWNER_PREFIX + f.owner))
    if f.actor:
        where.append(AuditEntry.actor == f.actor)
    if f.action:
        where.append(AuditEntry.action == f.action)
    if f.date_from:
        where.append(AuditEntry.at >= _day_start(f.date_from))
    if f.date_to:
        where.append(AuditEntry.at < _day_start(f.date_to + timedelta(days=1)))
    return where


def centre_scope(centre_id: int) -> ColumnElement[bool]:
    """Entries a centre's administrator may read: those the log recorded for the centre when they were
    written (``audit_log.centre_id``: the centre of the dossier, document or result, else the centre of
    the officer or API key who acted). Never by the actor's name today: an officer who moved centre
    leaves their past entries with the centre they were in.

    Also the entries no centre was recorded for that concern a citizen whose documents the centre holds:
    an agency's request for a person's documents, or an operator's search by số định danh, spans
    centres, and each centre answering for the documents it stored must see who asked for them."""
    held = select(Document.id).where(Document.owner_id == AuditEntry.owner_id, Document.centre_id == centre_id).exists()
    return or_(
        AuditEntry.centre_id == centre_id,
        and_(AuditEntry.centre_id.is_(None), AuditEntry.owner_id.is_not(None), held),
    )


def _entry(e: AuditEntry) -> TrailEntry:
    return TrailEntry(
        e.seq, e.at, e.actor, e.action, e.subject, e.purpose, e.outcome, e.owner_id, e.centre_id, dict(e.detail)
    )


def read_trail(
    catalogue: Catalogue,
    f: TrailFilter,
    *,
    centre_id: int | None = None,
    page: int = 1,
    size: int = PAGE_SIZE,
    without_actor_views: str | None = None,
) -> TrailPage:
    """One page of the entries ``f`` selects, newest first; within ``centre_scope`` when ``centre_id`` is given.

    ``without_actor_views``: leave out this actor's own looks at the trail (the citizen's page would
    otherwise list each of its visits).
    """
    page, size = max(page, 1), min(max(size, 1), MAX_LIMIT)
    where = _conditions(f)
    if centre_id is not None:
        where.append(centre_scope(centre_id))
    if without_actor_views is not None:
        where.append(not_(and_(AuditEntry.actor == without_actor_views, AuditEntry.action == VIEW_ACTION)))
    stmt = (
        select(AuditEntry)
        .where(and_(*where) if where else literal(True))
        .order_by(AuditEntry.seq.desc())
        .offset((page - 1) * size)
        .limit(size + 1)
    )
    with catalogue.reading() as s:
        rows = [_entry(e) for e in s.scalars(stmt)]
    return TrailPage(rows[:size], page, size, len(rows) > size)


def record_view(
    catalogue: Catalogue, f: TrailFilter, *, actor: str, centre_id: int | None = None, shown: int = 0
) -> None:
    """Audit a look at the trail: who looked, with which filter (the owner in the entry's owner column)."""
    audit.record(
        catalogue,
        actor=actor,
        action=VIEW_ACTION,
        subject=f"centre-trail:{centre_id}" if centre_id is not None else "audit-trail",
        purpose="xem nhật ký truy cập",
        outcome="ok",
        detail={**f.describe(), "shown": shown},
        owner=f.owner,
        centre_id=centre_id,
    )


def centre_view(
    catalogue: Catalogue, f: TrailFilter, *, centre_id: int, actor: str, page: int = 1, size: int = PAGE_SIZE
) -> TrailPage:
    """A centre administrator's look at the trail (``centre_scope``), checked and audited."""
    f = check_filter(f)
    trail = read_trail(catalogue, f, centre_id=centre_id, page=page, size=size)
    record_view(catalogue, f, actor=actor, centre_id=centre_id, shown=len(trail.entries))
    return trail


# What a citizen sees of the trail.


@dataclass(frozen=True)
class CitizenRead:
    at: datetime
    reader: str  # the agency or centre, never an officer
    action_vi: str
    purpose: str
    outcome_vi: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "reader": self.reader,
            "action": self.action_vi,
            "purpose": self.purpose,
            "outcome": self.outcome_vi,
        }


SYSTEM_READER = "Hệ thống số hóa (tự động)"
_FIXED_READERS = {
    "citizen": "Công dân (bạn) qua cổng tra cứu",
    "operator": "Quản trị hệ thống số hóa",
    "sohoa": SYSTEM_READER,
    "service": SYSTEM_READER,
}


class _Readers:
    """Names an entry's actor for a citizen: the agency or the centre behind it, never a person.

    An officer, station or API key is named by the centre the log recorded on the entry
    (``audit_log.centre_id``: the dossier's, else the actor's own when the entry was written),
    else as a centre's officer in general; never by who the actor's name belongs to today.
    """

    def __init__(self, catalogue: Catalogue):
        self.catalogue = catalogue
        self._cache: dict[tuple[str, int | None], str] = {}

    def name(self, actor: str, centre_id: int | None = None) -> str:
        kind = actor.partition(":")[0]
        key = (actor if kind in ("agency", "public") or actor in _FIXED_READERS else kind, centre_id)
        if key not in self._cache:
            self._cache[key] = self._lookup(actor, centre_id)
        return self._cache[key]

    def _lookup(self, actor: str, centre_id: int | None) -> str:
        if actor in _FIXED_READERS:
            return _FIXED_READERS[actor]
        kind, _, rest = actor.partition(":")
        if kind == "public":
            return "Người xác minh kết quả qua mã QR"
        if kind not in ("agency", "officer", "station", "api-key"):
            return SYSTEM_READER
        with self.catalogue.reading() as s:
            if kind == "agency":
                name = s.scalar(select(Agency.name).where(Agency.code == rest))
                return name or f"Cơ quan {rest}"
            centre = None if centre_id is None else s.scalar(select(Centre.name).where(Centre.id == centre_id))
        return centre or "Cán bộ trung tâm phục vụ hành chính công"


def citizen_trail(
    catalogue: Catalogue, owner_id: str, *, page: int = 1, size: int = PAGE_SIZE, audited_as: str | None = None
) -> tuple[list[CitizenRead], bool]:
    """The reads of a citizen's documents, newest first, as the citizen sees them (readers by agency or
    centre). ``audited_as``: the look is audited with this actor (the portal: ``citizen``)."""
    if not OWNER_ID.fullmatch(owner_id):
        return [], False
    f = TrailFilter(owner=owner_id)
    trail = read_trail(catalogue, f, page=page, size=size, without_actor_views=audited_as)
    if audited_as is not None:
        record_view(catalogue, f, actor=audited_as, shown=len(trail.entries))
    readers = _Readers(catalogue)
    out = [
        CitizenRead(e.at, readers.name(e.actor, e.centre_id), e.action_vi, e.purpose, e.outcome_vi)
        for e in trail.entries
    ]
    return out, trail.has_more
