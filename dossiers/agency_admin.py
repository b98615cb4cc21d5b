"""Agencies that reuse stored documents, and their grants: register, list, disable; grant, list, revoke.

What ``sohoa agencies|grants``, ``/api/v1/agencies``, ``/api/v1/grants`` and the page
``/can-bo/quan-tri/co-quan`` call. Every change is audited with ``actor`` (``officer:<username>``, or
``operator`` for the command line): ``agency_register`` / ``agency_disable`` (subject ``agency:<code>``),
``grant`` (subject ``agency:<code>``) and ``revoke`` (subject ``grant:<id>``).

Disabling an agency revokes its grants in force and its API keys, so it fetches nothing more; while it is
disabled (``agencies.disabled_at``) no grant can be given to it; registering it again re-enables it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from digitizer.model import DOCUMENT_TYPES
from dossiers.errors import AgencyCodeMalformed, AgencyDisabled, AgencyNotFound, GrantInvalid, GrantNotFound
from sohoa.identifiers import AGENCY_CODE
from storage.catalogue.db import Catalogue
from storage.catalogue.models import ApiClient, ClientRole
from storage.catalogue.warehouse_models import Agency, Grant
from storage.warehouse import audit
from storage.warehouse.sharing import grant_access, register_agency, revoke_grant

AGENCY_PURPOSE = "quản lý cơ quan khai thác dữ liệu"
MAX_DAYS = 3650


@dataclass(frozen=True)
class GrantRequest:
    """A grant as asked for: checked by ``check_grant`` before anything is written."""

    agency_code: str
    doc_types: tuple[str, ...]
    purpose: str
    days: int = 365


def _utc(at: datetime | None) -> datetime | None:
    if at is None:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _iso(at: datetime) -> str:
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).isoformat()


def _code(code: str) -> str:
    code = code.strip()
    if not AGENCY_CODE.fullmatch(code):
        raise AgencyCodeMalformed(code)
    return code


def _disabled(s: Session, code: str) -> bool:
    return s.scalar(select(Agency.disabled_at).where(Agency.code == code)) is not None


def grant_state(g: Grant, now: datetime) -> str:
    """``active``, ``pending`` (not yet in force), ``expired`` or ``revoked``."""
    if g.revoked_at is not None:
        return "revoked"
    start, end = _utc(g.valid_from), _utc(g.valid_until)
    if start is not None and start > now:
        return "pending"
    if end is not None and end <= now:
        return "expired"
    return "active"


def _grant_view(g: Grant, code: str, now: datetime) -> dict[str, Any]:
    revoked = _utc(g.revoked_at)
    return {
        "id": g.id,
        "agency_code": code,
        "doc_types": list(g.doc_types),
        "purpose": g.purpose,
        "valid_from": _iso(g.valid_from),
        "expires_at": _iso(g.valid_until),
        "revoked_at": revoked.isoformat() if revoked else None,
        "state": grant_state(g, now),
    }


def add_agency(catalogue: Catalogue, code: str, name: str, *, actor: str) -> dict[str, Any]:
    """Register an agency (or rename it, and re-enable it when disabled); audited ``agency_register``."""
    code, name = _code(code), name.strip()
    if not name or len(name) > 300:
        raise GrantInvalid("agency name must be 1 to 300 characters")
    register_agency(catalogue, code, name)
    with catalogue.session(durable=True) as s:  # registered again: enabled again
        s.execute(update(Agency).where(Agency.code == code).values(disabled_at=None))
    audit.record(
        catalogue,
        actor=actor,
        action="agency_register",
        subject=f"agency:{code}",
        purpose=AGENCY_PURPOSE,
        outcome="ok",
        detail={"name": name},
    )
    return get_agency(catalogue, code)


def _agency_view(s: Session, agency: Agency, now: datetime) -> dict[str, Any]:
    grants = s.scalars(select(Grant).where(Grant.agency_id == agency.id).order_by(Grant.id))
    keys = s.scalars(
        select(ApiClient.key_prefix).where(
            ApiClient.agency_code == agency.code,
            ApiClient.role == ClientRole.AGENCY.value,
            ApiClient.revoked_at.is_(None),
        )
    ).all()
    return {
        "code": agency.code,
        "name": agency.name,
        "created_at": _iso(agency.created_at),
        "disabled": _disabled(s, agency.code),
        "active_keys": len(keys),
        "grants": [_grant_view(g, agency.code, now) for g in grants],
    }


def get_agency(catalogue: Catalogue, code: str) -> dict[str, Any]:
    code = _code(code)
    with catalogue.reading() as s:
        agency = s.scalar(select(Agency).where(Agency.code == code))
        if agency is None:
            raise AgencyNotFound(code)
        return _agency_view(s, agency, datetime.now(UTC))


def list_agencies(catalogue: Catalogue) -> list[dict[str, Any]]:
    """Every agency with its grants (all states) and how many API keys it holds."""
    now = datetime.now(UTC)
    with catalogue.reading() as s:
        return [_agency_view(s, a, now) for a in s.scalars(select(Agency).order_by(Agency.code))]


def disable_agency(catalogue: Catalogue, code: str, *, actor: str) -> dict[str, Any]:
    """Revoke the agency's grants in force and its agency API keys; audited ``agency_disable`` (with what it ended)."""
    code = _code(code)
    now = datetime.now(UTC)
    with catalogue.session(durable=True) as s:
        agency = s.scalar(select(Agency).where(Agency.code == code))
        if agency is None:
            raise AgencyNotFound(code)
        grants = s.scalars(select(Grant).where(Grant.agency_id == agency.id, Grant.revoked_at.is_(None))).all()
        for g in grants:
            g.revoked_at = now
        keys = s.scalars(
            select(ApiClient).where(
                ApiClient.agency_code == code,
                ApiClient.role == ClientRole.AGENCY.value,  # a station of that unit keeps its key
                ApiClient.revoked_at.is_(None),
            )
        ).all()
        for k in keys:
            k.revoked_at = now
        agency.disabled_at = now
        audit.append(
            s,
            actor=actor,
            action="agency_disable",
            subject=f"agency:{code}",
            purpose=AGENCY_PURPOSE,
            outcome="ok",
            detail={"revoked_grants": [g.id for g in grants], "revoked_keys": [k.key_prefix for k in keys]},
        )
    return get_agency(catalogue, code)


def check_grant(request: GrantRequest) -> GrantRequest:
    """The request with its code checked, types de-duplicated and purpose trimmed; GRANT_INVALID otherwise."""
    code = _code(request.agency_code)
    types = tuple(sorted({t.strip() for t in request.doc_types if t.strip()}))
    unknown = sorted(set(types) - set(DOCUMENT_TYPES))
    if not types or unknown:
        raise GrantInvalid(f"unknown document types {unknown}" if unknown else "no document type")
    purpose = " ".join(request.purpose.split())
    if not 3 <= len(purpose) <= 200:
        raise GrantInvalid("purpose must be 3 to 200 characters")
    if not 1 <= request.days <= MAX_DAYS:
        raise GrantInvalid(f"days must be 1 to {MAX_DAYS}")
    return GrantRequest(code, types, purpose, request.days)


def add_grant(catalogue: Catalogue, request: GrantRequest, *, actor: str) -> dict[str, Any]:
    """Grant an enabled agency these types for this purpose, from now for ``days``; audited ``grant``."""
    req = check_grant(request)
    with catalogue.reading() as s:
        if s.scalar(select(Agency.id).where(Agency.code == req.agency_code)) is None:
            raise AgencyNotFound(req.agency_code)
        if _disabled(s, req.agency_code):
            raise AgencyDisabled(req.agency_code)
    grant_id = grant_access(
        catalogue, req.agency_code, list(req.doc_types), req.purpose, valid_for=timedelta(days=req.days), actor=actor
    )
    return get_grant(catalogue, grant_id)


def get_grant(catalogue: Catalogue, grant_id: int) -> dict[str, Any]:
    with catalogue.reading() as s:
        row = s.execute(
            select(Grant, Agency.code).join(Agency, Agency.id == Grant.agency_id).where(Grant.id == grant_id)
        ).first()
        if row is None:
            raise GrantNotFound(str(grant_id))
        return _grant_view(row[0], row[1], datetime.now(UTC))


def list_grants(catalogue: Catalogue, agency_code: str | None = None) -> list[dict[str, Any]]:
    """Grants (all states), oldest first; one agency's when ``agency_code`` is given."""
    now = datetime.now(UTC)
    query = select(Grant, Agency.code).join(Agency, Agency.id == Grant.agency_id).order_by(Grant.id)
    if agency_code is not None:
        query = query.where(Agency.code == _code(agency_code))
    with catalogue.reading() as s:
        return [_grant_view(g, code, now) for g, code in s.execute(query).all()]


def revoke(catalogue: Catalogue, grant_id: int, *, actor: str) -> dict[str, Any]:
    """Revoke a grant in force; audited ``revoke``. GRANT_NOT_FOUND when unknown or already revoked."""
    if not revoke_grant(catalogue, grant_id, actor=actor):
        raise GrantNotFound(str(grant_id))
    return get_grant(catalogue, grant_id)
