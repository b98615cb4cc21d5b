"""Turn a parsed batch into catalogue rows and raw objects, once.

Raw scans go to the raw bucket first (content-addressed, so a retry rewrites nothing);
then dossier, components, scan files and the first step of each component are
committed in one transaction. Re-pushing the same batch returns the existing receipt.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError as DbIntegrityError

from storage.catalogue.models import Component, ComponentState, Dossier, JobStep, ScanFile, StepState, utcnow
from storage.objectstore import Bucket
from workers.batch import ParsedBatch
from workers.errors import DossierExists
from workers.pipeline import first_step
from workers.services import Services

log = logging.getLogger(__name__)


@dataclass
class Receipt:
    dossier_id: int
    dossier_code: str
    created: bool
    components: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dossier_id": self.dossier_id,
            "dossier_code": self.dossier_code,
            "created": self.created,
            "components": self.components,
        }


def _receipt(dossier: Dossier, created: bool) -> Receipt:
    comps = [
        {
            "ref": c.ref,
            "id": c.id,
            "declared_type": c.declared_type,
            "pages": c.page_count,
            "state": c.state,
            "error": {"code": c.error_code, "message": c.error_message} if c.error_code else None,
        }
        for c in dossier.components
    ]
    return Receipt(dossier.id, dossier.code, created, comps)


def _existing(services: Services, batch: ParsedBatch, station_id: int | None, key: str | None) -> Receipt | None:
    with services.catalogue.session() as s:
        dossier = None
        if key is not None:
            dossier = s.scalar(select(Dossier).where(Dossier.station_id == station_id, Dossier.idempotency_key == key))
        if dossier is None:
            dossier = s.scalar(select(Dossier).where(Dossier.code == batch.manifest.dossier_code))
        if dossier is None:
            return None
        if dossier.batch_sha256 != batch.sha256 or dossier.station_id != station_id:
            raise DossierExists(dossier.code)
        return _receipt(dossier, created=False)


def ingest(
    services: Services, batch: ParsedBatch, *, station_id: int | None = None, idempotency_key: str | None = None
) -> Receipt:
    """Record a batch; idempotent on (station, idempotency key) and on the dossier code + content."""
    existing = _existing(services, batch, station_id, idempotency_key)
    if existing is not None:
        return existing

    stored: list[list[tuple[str, Any]]] = []
    for comp in batch.components:
        stored.append(
            [
                (f.name, services.store.put_file(Bucket.RAW, f.path, content_type="application/octet-stream"))
                for f in comp.files
            ]
        )

    m = batch.manifest
    try:
        with services.catalogue.session() as s:
            dossier = Dossier(
                code=m.dossier_code,
                procedure_code=m.procedure_code,
                applicant_id=m.applicant_id,
                applicant_name=m.applicant_name,
                applicant_birth_date=m.applicant_birth_date,
                receiving_centre=m.receiving_centre,
                station_id=station_id,
                batch_sha256=batch.sha256,
                idempotency_key=idempotency_key,
            )
            s.add(dossier)
            for position, (comp, objects) in enumerate(zip(batch.components, stored, strict=True)):
                row = Component(
                    ref=comp.spec.id,
                    position=position,
                    name=comp.spec.name,
                    declared_type=comp.spec.declared_type,
                    page_count=len(objects),
                )
                for idx, (name, obj) in enumerate(objects):
                    row.files.append(
                        ScanFile(position=idx, filename=name, sha256=obj.sha256, size=obj.size, object_key=obj.key)
                    )
                if comp.error is not None:
                    row.state = ComponentState.FAILED
                    row.error_code = comp.error.code
                    row.error_message = comp.error.message_vi
                dossier.components.append(row)
            s.flush()
            for row, comp in zip(dossier.components, batch.components, strict=True):
                if comp.error is None:
                    kind, queue = first_step()
                    s.add(
                        JobStep(
                            kind=kind,
                            queue=queue,
                            component_id=row.id,
                            state=StepState.PENDING,
                            input_sha256=batch.sha256,
                            created_at=utcnow(),
                        )
                    )
            receipt = _receipt(dossier, created=True)
    except DbIntegrityError:
        log.info("dossier %s was recorded concurrently; returning the existing receipt", m.dossier_code)
        existing = _existing(services, batch, station_id, idempotency_key)
        if existing is None:
            raise
        return existing
    log.info("ingested dossier %s with %d components", m.dossier_code, len(batch.components))
    return receipt
