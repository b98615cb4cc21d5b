"""Reuse at intake: documents already in the warehouse that can stand in for a declared component.

A candidate belongs to the same applicant (owner), or names them as a party (the wife on a
marriage certificate her husband handed in, the agent of a power of attorney, bên B of a
contract: ``document_parties``), has the declared type, was digitised and signed in another
dossier (a document row exists only once its component is done), and is still valid: no
expiry among its extracted fields, or an expiry date in the future.

A số định danh is printed on the citizen's card and on every form they hand in, so it opens
nothing by itself. A station is told about a stored document only when:

- its manifest gives the applicant's date of birth and it equals, compared in constant time,
  the birth date recorded with the dossier the document came from (a document whose dossier
  recorded none is never disclosed this way) or, for a document that names the applicant as a
  party, the birth date printed beside them in it (one without is never disclosed this way).
  A wrong date answers exactly as an applicant without documents does, and is audited;
- the station is within its day (Vietnam's calendar day): at most
  ``intake.reuse_daily_applicants`` distinct applicants, and at most
  ``intake.reuse_birth_dates_per_applicant`` distinct birth dates given for one applicant (an
  applicant has one; the year is in the số định danh, so guessing the rest takes up to 366
  dossiers, each of them a guess the station has to make openly). Past either, nothing is
  looked up and the receipt says so with a code; the dossier itself is received as usual.
  Both bounds depend only on what the station sent, never on what is stored, so a refusal
  says nothing about the applicant either.

What it is told is what intake needs to not ask for the paper again: the document's type,
pages, validity and an opaque reference (an HMAC of the station and the document, so two
stations cannot match their answers), never another centre's dossier code, the file's hash
or its signing time. Every lookup is kept in ``reuse_lookups`` (who asked about whom, and
what came of it); disclosures, mismatches and refusals also go to the hash-chained audit log.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select

from dossiers.budgets import vietnam_day
from dossiers.errors import ReuseBudgetExhausted, ReuseNeedsBirthDate
from sohoa.errors import SohoaError
from sohoa.settings import IntakeSettings
from storage.catalogue.db import Catalogue, DriverSQL
from storage.catalogue.models import Component, Document, DocumentParty, Dossier, utcnow
from storage.warehouse import audit
from storage.warehouse.search import owned_or_named

EXPIRY_FIELDS = ("expiry_date", "date_of_expiry", "valid_until", "co_gia_tri_den")
PER_COMPONENT = 5


def _field_value(value: Any) -> Any:
    return value.get("value") if isinstance(value, dict) else value


def expiry_of(fields: dict[str, Any] | None) -> date | None:
    for name in EXPIRY_FIELDS:
        raw = _field_value((fields or {}).get(name))
        if isinstance(raw, str):
            try:
                return date.fromisoformat(raw[:10])
            except ValueError:
                continue
    return None


def still_valid(fields: dict[str, Any] | None, today: date) -> bool:
    expiry = expiry_of(fields)
    return expiry is None or expiry >= today


def reference_for(secret: bytes, station_id: int, document_id: int) -> str:
    """The opaque name one station is given for one stored document (resolved through the audit log)."""
    mac = hmac.new(secret, f"reuse-reference\n{station_id}\n{document_id}".encode(), hashlib.sha256).digest()
    return "TL-" + base64.b32encode(mac[:10]).decode()


def _same_birth_date(given: date, recorded: date | None) -> bool:
    """Constant time over the two ISO dates; a dossier that recorded none matches nothing."""
    return hmac.compare_digest(given.isoformat().encode(), (recorded.isoformat() if recorded else "-").encode())


def _candidates() -> Any:
    """Documents of the applicant as owner (with the birth date their dossier recorded) and as a party
    of someone else's (with the one printed beside them), newest first."""
    wanted = (
        Document.doc_type.in_(bindparam("types", expanding=True)),
        Document.dossier_code != bindparam("dossier"),
    )
    columns = (Document.id, Document.doc_type, Document.page_count, Document.fields, Document.created_at)
    owned = (
        select(*columns, Dossier.applicant_birth_date.label("birth_date"))
        .join(Component, Component.id == Document.component_id)
        .join(Dossier, Dossier.id == Component.dossier_id)
    )
    named = select(*columns, DocumentParty.birth_date.label("birth_date"))
    return owned_or_named(owned, named, bindparam("owner"), wanted, bindparam("limit"))


# Built once: every receipt runs it, and building the statement cost more than running it.
_CANDIDATES = _candidates()


@dataclass(frozen=True)
class ReuseAsk:
    """What a receipt asks: the station, the applicant as the manifest gives them, the declared types."""

    station_id: int
    applicant_id: str
    birth_date: date | None
    dossier_code: str
    wanted: dict[str, str]  # component ref → declared type


@dataclass
class ReuseAnswer:
    """What the station is told (``by_ref``, ``status``) and what the service keeps of it."""

    by_ref: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    status: dict[str, str] = field(default_factory=lambda: {"status": "checked"})
    outcome: str = "none"  # disclosed | none | mismatch | refused | skipped
    documents: dict[str, int] = field(default_factory=dict)  # reference → document id
    withheld: int = 0  # candidates whose dossier's birth date differs or is unknown
    reason: str = ""  # a refusal's: budget | birth-dates
    alert: str = ""  # volume: the day's distinct applicants reached intake.reuse_alert_applicants
    applicants_today: int = 0


def _status(state: str, exc: type[SohoaError]) -> dict[str, str]:
    return {"status": state, "code": exc.code, "message": exc.message_vi}


def _match(
    rows: Sequence[Any], ask: ReuseAsk, secret: bytes, today: date
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, int], int, int]:
    """Per ref: the candidates whose dossier recorded the same birth date; with references, withheld, mismatched."""
    assert ask.birth_date is not None
    by_type: dict[str, list[dict[str, Any]]] = {}
    documents: dict[str, int] = {}
    withheld = mismatched = 0
    for d in rows:
        if not still_valid(d.fields, today):
            continue
        if not _same_birth_date(ask.birth_date, d.birth_date):
            withheld += 1
            mismatched += d.birth_date is not None
            continue
        kept = by_type.setdefault(d.doc_type, [])
        if len(kept) < PER_COMPONENT:
            reference = reference_for(secret, ask.station_id, d.id)
            documents[reference] = d.id
            expires = expiry_of(d.fields)
            kept.append(
                {
                    "reference": reference,
                    "doc_type": d.doc_type,
                    "pages": d.page_count,
                    "expires": expires.isoformat() if expires else None,
                }
            )
    by_ref = {ref: by_type[t] for ref, t in ask.wanted.items() if by_type.get(t)}
    return by_ref, documents, withheld, mismatched


# The station's day so far (refused lookups looked nothing up, so they count for nothing): distinct
# applicants; for this applicant, lookups and distinct birth dates given; lookups with this birth date;
# lookups for this very dossier (a repeat push, answered again).
_DAY_SO_FAR = DriverSQL(
    "SELECT COUNT(DISTINCT applicant_id), "
    "COUNT(CASE WHEN applicant_id = :applicant THEN 1 END), "
    "COUNT(DISTINCT CASE WHEN applicant_id = :applicant THEN birth_date END), "
    "COUNT(CASE WHEN applicant_id = :applicant AND birth_date = :birth THEN 1 END), "
    "COUNT(CASE WHEN applicant_id = :applicant AND dossier_code = :dossier THEN 1 END) "
    "FROM reuse_lookups WHERE station_id = :station AND day = :day AND outcome <> 'refused'"
)
# PostgreSQL: one station's lookups queue on its key row, so that two at once cannot both take the
# last of its budget (SQLite's writers queue on the database already).
_LOCK_STATION = DriverSQL("SELECT id FROM api_clients WHERE id = :station FOR NO KEY UPDATE")
_KEEP = DriverSQL.insert(
    "reuse_lookups", ("station_id", "day", "applicant_id", "birth_date", "dossier_code", "outcome", "documents", "at")
)


def _look_up(conn: Connection, ask: ReuseAsk, limits: IntakeSettings, secret: bytes, day: date) -> ReuseAnswer:
    assert ask.birth_date is not None
    key = {
        "station": ask.station_id,
        "day": day,
        "applicant": ask.applicant_id,
        "birth": ask.birth_date,
        "dossier": ask.dossier_code,
    }
    if conn.dialect.name == "postgresql":
        _LOCK_STATION.run(conn, key)
    counts = _DAY_SO_FAR.run(conn, key).fetchone()
    applicants, asked, birth_dates, this_birth, repeats = (int(v or 0) for v in counts)
    new_applicant = asked == 0
    reason = ""
    if not repeats and new_applicant and applicants >= limits.reuse_daily_applicants:
        reason = "budget"
    elif not repeats and not this_birth and birth_dates >= limits.reuse_birth_dates_per_applicant:
        reason = "birth-dates"
    if reason:
        answer = ReuseAnswer(status=_status("refused", ReuseBudgetExhausted), outcome="refused", reason=reason)
    else:
        params = {
            "owner": ask.applicant_id,
            "types": sorted(set(ask.wanted.values())),
            "dossier": ask.dossier_code,
            "limit": PER_COMPONENT * 4 * len(ask.wanted),
        }
        rows = conn.execute(_CANDIDATES, params).all()
        by_ref, documents, withheld, mismatched = _match(rows, ask, secret, day)
        outcome = "disclosed" if documents else "mismatch" if mismatched else "none"
        answer = ReuseAnswer(by_ref, outcome=outcome, documents=documents, withheld=withheld)
        applicants += new_applicant
        if new_applicant and applicants == limits.reuse_alert_applicants:
            answer.alert = "volume"
    answer.applicants_today = applicants
    row = {
        "station_id": ask.station_id,
        "day": day,
        "applicant_id": ask.applicant_id,
        "birth_date": ask.birth_date,
        "dossier_code": ask.dossier_code,
        "outcome": answer.outcome,
        "documents": len(answer.documents),
        "at": utcnow(),
    }
    _KEEP.run(conn, row)
    return answer


def disclose(
    catalogue: Catalogue, ask: ReuseAsk, limits: IntakeSettings, secret: bytes, *, now: datetime | None = None
) -> ReuseAnswer:
    """Look up what the station may reuse for this receipt, within its day; kept and audited (module doc)."""
    if not ask.wanted:
        return ReuseAnswer(status={"status": "not_requested"}, outcome="skipped")
    if ask.birth_date is None:
        return ReuseAnswer(status=_status("skipped", ReuseNeedsBirthDate), outcome="skipped")
    day = vietnam_day(now)
    with catalogue.transaction() as conn:
        answer = _look_up(conn, ask, limits, secret, day)
    _audit(catalogue, ask, answer, day)
    return answer


def _audit(catalogue: Catalogue, ask: ReuseAsk, answer: ReuseAnswer, day: date) -> None:
    """Disclosures, mismatches and refusals in the hash-chained log; a lookup that found nothing is in
    ``reuse_lookups`` only (nothing was disclosed)."""
    actor = f"station:{ask.station_id}"
    entries: dict[str, tuple[str, dict[str, Any]]] = {
        "disclosed": (
            "ok",
            {
                "documents": sorted(answer.documents.values()),
                "references": answer.documents,
                "withheld": answer.withheld,
            },
        ),
        "mismatch": ("mismatch", {"withheld": answer.withheld}),
        "refused": ("refused", {"reason": answer.reason, "applicants_today": answer.applicants_today}),
    }
    if answer.outcome in entries:
        outcome, detail = entries[answer.outcome]
        audit.record(
            catalogue,
            actor=actor,
            action="reuse-at-intake",
            subject=f"owner:{ask.applicant_id}",
            purpose=f"tiếp nhận hồ sơ {ask.dossier_code}",
            outcome=outcome,
            detail=detail,
        )
    if answer.alert:
        audit.record(
            catalogue,
            actor="sohoa",
            action="reuse-volume-alert",
            subject=actor,
            purpose=f"tra cứu giấy tờ dùng lại ngày {day.isoformat()}",
            outcome="alert",
            detail={"applicants_today": answer.applicants_today},
        )
