"""Reuse by other agencies: agencies by code (QĐ 20/2020), grants by document type and purpose.

``request_documents`` is the one way an agency fetches a citizen's documents: it finds a
grant in force for the agency, purpose and types, returns each document's metadata with a
short-lived link, and audits the request whether it is granted or refused.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from sohoa.identifiers import AGENCY_CODE, OWNER_ID
from storage.catalogue.db import Catalogue
from storage.catalogue.warehouse_models import Agency, Grant
from storage.errors import AgencyCodeInvalid, AgencyUnknown, GrantRequired, OwnerIdInvalid
from storage.objectstore import Bucket
from storage.warehouse import audit
from storage.warehouse.core import Warehouse
from storage.warehouse.search import SearchQuery, search_documents


def check_agency_code(code: str) -> str:
    if not AGENCY_CODE.fullmatch(code):
        raise AgencyCodeInvalid(code)
    return code


def register_agency(catalogue: Catalogue, code: str, name: str) -> int:
    check_agency_code(code)
    with catalogue.session() as s:
        existing = s.scalar(select(Agency).where(Agency.code == code))
        if existing is not None:
            existing.name = name
            return existing.id
        agency = Agency(code=code, name=name)
        s.add(agency)
        s.flush()
        return agency.id


def grant_access(
    catalogue: Catalogue,
    agency_code: str,
    doc_types: list[str],
    purpose: str,
    *,
    valid_from: datetime | None = None,
    valid_for: timedelta = timedelta(days=365),
    actor: str = "operator",
) -> int:
    start = valid_from or datetime.now(UTC)
    with catalogue.session(durable=True) as s:
        agency = s.scalar(select(Agency).where(Agency.code == check_agency_code(agency_code)))
        if agency is None:
            raise AgencyUnknown(agency_code)
        g = Grant(
            agency_id=agency.id,
            doc_types=sorted(set(doc_types)),
            purpose=purpose.strip(),
            valid_from=start,
            valid_until=start + valid_for,
        )
        s.add(g)
        s.flush()
        audit.append(
            s,
            actor=actor,
            action="grant",
            subject=f"agency:{agency_code}",
            purpose=purpose,
            outcome="ok",
            detail={"grant_id": g.id, "doc_types": g.doc_types},
        )
        return g.id


def revoke_grant(catalogue: Catalogue, grant_id: int, *, actor: str = "operator") -> bool:
    with catalogue.session(durable=True) as s:
        g = s.get(Grant, grant_id)
        if g is None or g.revoked_at is not None:
            return False
        g.revoked_at = datetime.now(UTC)
        audit.append(s, actor=actor, action="revoke", subject=f"grant:{grant_id}", outcome="ok")
        return True


def _granted_types(catalogue: Catalogue, agency_code: str, purpose: str, now: datetime) -> set[str] | None:
    """Types the agency may fetch for this purpose now; None when the agency is unknown."""
    with catalogue.session() as s:
        agency = s.scalar(select(Agency).where(Agency.code == agency_code))
        if agency is None:
            return None
        grants = s.scalars(
            select(Grant).where(
                Grant.agency_id == agency.id,
                Grant.purpose == purpose.strip(),
                Grant.revoked_at.is_(None),
                Grant.valid_from <= now,
                Grant.valid_until > now,
            )
        )
        return {t for g in grants for t in g.doc_types}


def granted_types(catalogue: Catalogue, agency_code: str, purpose: str) -> set[str] | None:
    """Types the agency may reuse for this purpose now (valid, unrevoked grants); None: unknown agency."""
    return _granted_types(catalogue, agency_code, purpose, datetime.now(UTC))


def request_documents(
    warehouse: Warehouse,
    agency_code: str,
    owner_id: str,
    purpose: str,
    doc_types: list[str] | None = None,
) -> list[dict[str, Any]]:
    """A citizen's documents for an agency holding a grant: metadata and a short-lived link each.

    Raises GrantRequired (after auditing the refusal) when no grant covers the request.
    """
    check_agency_code(agency_code)
    if not OWNER_ID.fullmatch(owner_id):
        raise OwnerIdInvalid(owner_id)
    actor = f"agency:{agency_code}"

    def record(outcome: str, detail: dict[str, Any]) -> None:
        audit.record(
            warehouse.catalogue,
            actor=actor,
            action="request",
            subject=f"owner:{owner_id}",
            purpose=purpose,
            outcome=outcome,
            detail=detail,
        )

    granted = _granted_types(warehouse.catalogue, agency_code, purpose, datetime.now(UTC))
    wanted = set(doc_types) if doc_types else set(granted or ())
    allowed = sorted(wanted & (granted or set()))
    if not purpose.strip() or not allowed or (doc_types and set(doc_types) - set(allowed)):
        reason = "unknown agency" if granted is None else "no grant for these types and purpose"
        record("refused", {"doc_types": sorted(wanted), "reason": reason})
        if granted is None:
            raise AgencyUnknown(agency_code)
        raise GrantRequired(f"{agency_code} {sorted(wanted)} {purpose!r}")
    hits = search_documents(warehouse.catalogue, SearchQuery(owner_id=owner_id, doc_types=tuple(allowed), limit=500))
    out = []
    for hit in hits:
        link = warehouse.presign(Bucket.DOCUMENTS, hit.object_key, actor=actor, purpose=purpose, owner=owner_id)
        out.append({**hit.to_dict(), "url": link.url, "url_expires_at": link.expires_at.isoformat()})
    record("granted", {"doc_types": allowed, "document_ids": [h.id for h in hits]})
    return out
