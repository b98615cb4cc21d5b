"""Turn a parsed batch into catalogue rows and raw objects, once.

The bytes reach the raw bucket before the catalogue names them: a zip batch is stored
whole (one write, so a receipt stays fast under many stations) and its scans are
recorded with the content keys the ``unpack`` step will give them; a folder batch's
scans are stored one by one. Then dossier, components, scan files and the first step of
each component are committed in one transaction. Re-pushing the same batch returns the
existing receipt.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError as DbIntegrityError
from sqlalchemy.orm import Session

from dossiers import budgets
from dossiers.batch_reader import BatchFile, ParsedBatch
from dossiers.budgets import BatchCost
from dossiers.errors import DossierExists
from dossiers.services import Services
from dossiers.signer_keys import centre_of_dossier
from dossiers.steps import RAW_TYPE, first_step
from storage.catalogue.db import DriverSQL
from storage.catalogue.models import Component, ComponentState, Dossier, StepState, utcnow
from storage.objectstore import Bucket, StoredObject, content_key

log = logging.getLogger(__name__)


@dataclass
class Receipt:
    dossier_id: int
    dossier_code: str
    created: bool
    applicant_id: str
    components: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dossier_id": self.dossier_id,
            "dossier_code": self.dossier_code,
            "created": self.created,
            "components": self.components,
        }


def _component_view(comp_id: int, row: Component | dict[str, Any]) -> dict[str, Any]:
    """A component as the receipt shows it, from its row or from the values just inserted."""
    get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
    code = get("error_code")
    return {
        "ref": get("ref"),
        "id": comp_id,
        "declared_type": get("declared_type"),
        "pages": get("page_count"),
        "state": get("state"),
        "error": {"code": code, "message": get("error_message")} if code else None,
    }


def _receipt(dossier: Dossier, created: bool) -> Receipt:
    comps = [_component_view(c.id, c) for c in dossier.components]
    return Receipt(dossier.id, dossier.code, created, dossier.applicant_id, comps)


_FIND = "SELECT id, idempotency_key, station_id FROM dossiers WHERE code = :code"
_FIND_BY_CODE = DriverSQL(_FIND)
_FIND_BY_CODE_OR_KEY = DriverSQL(f"{_FIND} OR (station_id = :station AND idempotency_key = :key)")
_FIND_BY_CODE_OR_STATIONLESS_KEY = DriverSQL(f"{_FIND} OR (station_id IS NULL AND idempotency_key = :key)")


def _existing(conn: Connection, batch: ParsedBatch, station_id: int | None, key: str | None) -> Receipt | None:
    """The receipt this batch was already given; DossierExists if the code is taken by other content.

    One indexed query (by idempotency key or by dossier code); the idempotency key wins.
    """
    code = batch.manifest.dossier_code
    if key is None:
        rows = _FIND_BY_CODE.run(conn, {"code": code}).fetchall()
    elif station_id is None:
        rows = _FIND_BY_CODE_OR_STATIONLESS_KEY.run(conn, {"code": code, "key": key}).fetchall()
    else:
        rows = _FIND_BY_CODE_OR_KEY.run(conn, {"code": code, "key": key, "station": station_id}).fetchall()
    if not rows:
        return None
    by_key = [r for r in rows if key is not None and r[1] == key and r[2] == station_id]
    with Session(bind=conn) as s:  # a repeat push: rare enough for the ORM
        dossier = s.get_one(Dossier, (by_key or rows)[0][0])
        if dossier.batch_sha256 != batch.sha256 or dossier.station_id != station_id:
            raise DossierExists(dossier.code)
        return _receipt(dossier, created=False)


ScanPlan = list[list[tuple[BatchFile, str, bool]]]


def _store(services: Services, batch: ParsedBatch) -> tuple[StoredObject | None, ScanPlan]:
    """Put the batch's bytes in the raw bucket; each scan with its raw key and whether it is there yet."""
    if batch.archive is not None:
        kind = {"suffix": ".zip", "content_type": "application/zip"}
        if batch.archive_sha256:  # the upload, hashed as it arrived: moved into the store, not copied
            archive = services.warehouse.move_in(Bucket.RAW, batch.archive, sha256=batch.archive_sha256, **kind)
        else:
            archive = services.warehouse.put_file(Bucket.RAW, batch.archive, **kind)
        return archive, [[(f, content_key(f.sha256), False) for f in comp.files] for comp in batch.components]
    plan: ScanPlan = []
    for comp in batch.components:
        stored = [services.warehouse.put_file(Bucket.RAW, _file_of(f), content_type=RAW_TYPE) for f in comp.files]
        plan.append([(f, obj.key, True) for f, obj in zip(comp.files, stored, strict=True)])
    return None, plan


def _file_of(scan: BatchFile) -> Path:
    """A folder batch's scan is a file (only a zip batch's scans are members of an archive)."""
    if scan.path is None:
        raise ValueError(f"scan {scan.name} of a folder batch has no file")
    return scan.path


_COMPONENT_IDS = DriverSQL("SELECT id FROM components WHERE dossier_id = :dossier_id ORDER BY position")


def _insert_rows(conn: Connection, table: str, rows: list[dict[str, Any]]) -> None:
    if rows:
        DriverSQL.insert(table, tuple(rows[0])).run_many(conn, rows)


def _record(
    s: Connection,
    batch: ParsedBatch,
    station_id: int | None,
    key: str | None,
    archive: StoredObject | None,
    scans: ScanPlan,
    centre_id: int | None = None,
) -> Receipt:
    """Insert the dossier, its components, scan files and first steps.

    Every receipt runs these, as SQL on the driver's cursor: the ORM's bulk insert took most
    of a receipt's database time. So the rows carry the models' defaults themselves.
    """
    m = batch.manifest
    now = utcnow()
    dossier = {
        "code": m.dossier_code,
        "procedure_code": m.procedure_code,
        "applicant_id": m.applicant_id,
        "applicant_name": m.applicant_name or "",
        "applicant_birth_date": m.applicant_birth_date,
        "receiving_centre": m.receiving_centre or "",
        "station_id": station_id,
        "centre_id": centre_id,
        "batch_sha256": batch.sha256,
        "archive_key": archive.key if archive else None,
        "archive_sha256": archive.sha256 if archive else None,
        "idempotency_key": key,
        "created_at": now,
    }
    dossier_id = int(DriverSQL.insert("dossiers", tuple(dossier), returning="id").run(s, dossier).fetchone()[0])
    if m.contact_email or m.contact_phone:  # kept only to tell the applicant of results (dossiers.notices)
        contact = {"dossier_id": dossier_id, "email": m.contact_email, "phone": m.contact_phone, "created_at": now}
        _insert_rows(s, "dossier_contacts", [contact])
    components = [
        {
            "dossier_id": dossier_id,
            "ref": comp.spec.id,
            "position": position,
            "name": comp.spec.name or "",
            "declared_type": comp.spec.declared_type,
            "page_count": len(files),
            "state": ComponentState.FAILED.value if comp.error else ComponentState.PENDING.value,
            "error_code": comp.error.code if comp.error else None,
            "error_message": comp.error.message_vi if comp.error else None,
        }
        for position, (comp, files) in enumerate(zip(batch.components, scans, strict=True))
    ]
    _insert_rows(s, "components", components)
    ids = [int(r[0]) for r in _COMPONENT_IDS.run(s, {"dossier_id": dossier_id}).fetchall()]
    files = [
        {
            "component_id": comp_id,
            "position": idx,
            "filename": f.name,
            "sha256": f.sha256,
            "size": f.size,
            "object_key": obj_key,
            "member": f.member,
            "stored": stored,
        }
        for comp_id, plan in zip(ids, scans, strict=True)
        for idx, (f, obj_key, stored) in enumerate(plan)
    ]
    _insert_rows(s, "scan_files", files)
    kind, queue = first_step(archived=archive is not None)
    steps = [
        {
            "kind": kind,
            "queue": queue,
            "component_id": comp_id,
            "state": StepState.PENDING.value,
            "attempts": 0,
            "input_sha256": batch.sha256,
            "output": {},
            "created_at": now,
            "updated_at": now,
        }
        for comp_id, comp in zip(ids, batch.components, strict=True)
        if comp.error is None
    ]
    _insert_rows(s, "job_steps", steps)
    views = [_component_view(comp_id, row) for comp_id, row in zip(ids, components, strict=True)]
    return Receipt(dossier_id, m.dossier_code, True, m.applicant_id, views)


def _over_budget(
    services: Services, batch: ParsedBatch, station_id: int, key: str | None, cost: BatchCost
) -> Receipt | None:
    """None when the batch fits the station's day; else its earlier receipt if it is a repeat, else the refusal.

    Read before anything is stored, so that a refused batch leaves no object behind.
    """
    limits = services.settings.intake
    with services.catalogue.autocommit() as db:  # every station's receipt reads it: one statement, no transaction
        if budgets.fits_today(db.connection, station_id, cost, limits, budgets.vietnam_day()):
            return None
    with services.catalogue.transaction(readonly=True) as conn:
        receipt = _existing(conn, batch, station_id, key)
    if receipt is None:
        raise budgets.over_quota(limits)
    return receipt


def ingest(
    services: Services,
    batch: ParsedBatch,
    *,
    station_id: int | None = None,
    idempotency_key: str | None = None,
    centre_id: int | None = None,
) -> Receipt:
    """Record a batch; idempotent on (station, idempotency key) and on the dossier code + content.

    ``centre_id``: the pushing station's centre, recorded on the dossier (None: the default centre).

    The batch's cost is checked first (``dossiers.budgets``): over a per-batch bound, or past
    what its station has left today, it is refused before anything is stored (a repeat of a
    batch already recorded still gets its receipt). Then the bytes are stored
    (content-addressed: a repeat rewrites nothing), and one transaction finds or records the
    dossier, charging the station's day with it.
    """
    limits = services.settings.intake
    cost = budgets.check_batch(batch, limits)
    if station_id is not None and (repeat := _over_budget(services, batch, station_id, idempotency_key, cost)):
        return repeat
    archive, scans = _store(services, batch)
    centre_id = centre_of_dossier(services, centre_id)

    def find_or_record() -> Receipt:
        with services.catalogue.transaction(durable=True) as conn:  # a receipt must outlive a power loss
            receipt = _existing(conn, batch, station_id, idempotency_key)
            if receipt is None:
                day = budgets.vietnam_day()
                if station_id is not None and not budgets.charge(conn, station_id, cost, limits, day):
                    raise budgets.over_quota(limits)  # taken meanwhile by another push: nothing recorded
                receipt = _record(conn, batch, station_id, idempotency_key, archive, scans, centre_id)
        if receipt.created:
            log.info("ingested dossier %s with %d components", receipt.dossier_code, len(batch.components))
        return receipt

    try:
        return find_or_record()
    except DbIntegrityError:
        log.info("dossier %s was recorded concurrently; returning that receipt", batch.manifest.dossier_code)
        return find_or_record()
