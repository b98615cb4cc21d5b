"""Reuse at intake: documents already in the warehouse that can stand in for a declared component.

A candidate belongs to the same applicant (owner), has the declared type, was digitised and
signed in another dossier (a document row exists only once its component is done), and is
still valid: no expiry among its extracted fields, or an expiry date in the future.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select

from storage.catalogue.models import Document

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


# Built once: every receipt runs it, and building the statement cost more than running it.
_CANDIDATES = (
    select(
        Document.id,
        Document.doc_type,
        Document.dossier_code,
        Document.page_count,
        Document.sha256,
        Document.signed_at,
        Document.fields,
    )
    .where(
        Document.owner_id == bindparam("owner"),
        Document.doc_type.in_(bindparam("types", expanding=True)),
        Document.dossier_code != bindparam("dossier"),
    )
    .order_by(Document.created_at.desc(), Document.id.desc())
    .limit(bindparam("limit"))
)


def reusable_for(
    conn: Connection, applicant_id: str, dossier_code: str, wanted: dict[str, str], *, today: date | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Per component ref (``wanted``: ref → declared type): reusable documents of that type, newest first.

    One query: the applicant's documents of those types from other dossiers, still valid today.
    """
    today = today or datetime.now(UTC).date()
    if not wanted:
        return {}
    params = {
        "owner": applicant_id,
        "types": sorted(set(wanted.values())),
        "dossier": dossier_code,
        "limit": PER_COMPONENT * 4 * len(wanted),
    }
    by_type: dict[str, list[dict[str, Any]]] = {}
    for d in conn.execute(_CANDIDATES, params):
        kept = by_type.setdefault(d.doc_type, [])
        if len(kept) < PER_COMPONENT and still_valid(d.fields, today):
            kept.append(
                {
                    "document_id": d.id,
                    "doc_type": d.doc_type,
                    "dossier_code": d.dossier_code,
                    "pages": d.page_count,
                    "sha256": d.sha256,
                    "signed_at": d.signed_at.isoformat(),
                    "expires": (e.isoformat() if (e := expiry_of(d.fields)) else None),
                }
            )
    return {ref: by_type[t] for ref, t in wanted.items() if by_type.get(t)}
