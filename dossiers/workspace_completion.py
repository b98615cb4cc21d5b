"""An officer completes a partial dossier of their centre from the workspace: sends a failed component's
replacement scans, or attaches a document the warehouse holds (``dossiers.completion``).

Scope: the officer's centre must own the dossier (``workspace.scoped``); another centre's answers
NOT_FOUND, as one that does not exist.

A send from the workspace is charged to the dossier's station, as if that station had sent it: the
scans are the station's dossier's, counted against its day (``STATION_DAILY_QUOTA`` applies, so an
officer's uploads cannot exceed what the station may push), and the send is kept with the station's id
(its idempotency and repeat rules are the station's). A dossier without a station (received locally)
is charged to no one. Who did it is in the audit log: ``component_resend`` with the officer as actor.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from dossiers.completion import ComponentUpload, ResendReceipt, attach_stored_document, resend_component
from dossiers.services import Services
from dossiers.workspace import scoped
from sohoa.errors import NotFound
from storage.catalogue.models import Dossier
from storage.catalogue.officers import OfficerPrincipal
from storage.warehouse import audit

RESEND_ACTION = "component_resend"


def _dossier_of(services: Services, officer: OfficerPrincipal, dossier_code: str) -> tuple[int | None, str]:
    """The station that pushed the dossier and its applicant, if the officer's centre owns it; NOT_FOUND otherwise."""
    with services.catalogue.reading() as s:
        query = scoped(select(Dossier.id, Dossier.station_id, Dossier.applicant_id), officer.centre_id)
        row = s.execute(query.where(Dossier.code == dossier_code)).first()
    if row is None:
        raise NotFound(f"dossier {dossier_code}")
    return row[1], row[2]


def _station_of(services: Services, officer: OfficerPrincipal, dossier_code: str) -> int | None:
    """The station that pushed the dossier, if the officer's centre owns it; NOT_FOUND otherwise."""
    return _dossier_of(services, officer, dossier_code)[0]


def resend_from_workspace(
    services: Services, officer: OfficerPrincipal, dossier_code: str, ref: str, upload: ComponentUpload
) -> ResendReceipt:
    """Send a failed component's replacement scans for the officer (module doc); ``resend_component``'s refusals."""
    station_id, applicant_id = _dossier_of(services, officer, dossier_code)
    receipt = resend_component(services, dossier_code, ref, upload, station_id=station_id)
    audit.record(
        services.catalogue,
        actor=officer.actor,
        action=RESEND_ACTION,
        subject=f"dossier:{dossier_code}",
        purpose=f"gửi lại thành phần {ref} của hồ sơ {dossier_code}",
        outcome="ok",
        detail={"component": ref, "pages": receipt.pages, "created": receipt.created, "station_id": station_id},
        owner=applicant_id,
        centre_id=officer.centre_id,
    )
    return receipt


def attach_from_workspace(
    services: Services,
    officer: OfficerPrincipal,
    dossier_code: str,
    ref: str,
    *,
    document_id: int | None = None,
    reference: str | None = None,
    purpose: str = "",
) -> dict[str, Any]:
    """Complete the component by a stored document for the officer (``attach_stored_document``, audited as them)."""
    _station_of(services, officer, dossier_code)
    return attach_stored_document(
        services, dossier_code, ref, document_id, actor=officer.actor, reference=reference, purpose=purpose
    )
