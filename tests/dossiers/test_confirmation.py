"""confirm_component on SQLite and PostgreSQL: one sign step however often it is confirmed, audited, per centre."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from dossiers.batch_reader import read_batch
from dossiers.centres import add_centre, centre_id_by_code
from dossiers.confirmation import confirm_component
from dossiers.errors import ComponentNotAwaiting, ComponentNotFound
from dossiers.intake import ingest
from dossiers.services import Services
from storage.catalogue.models import Component, ComponentState, JobStep, OfficerRole
from storage.catalogue.officers import OfficerPrincipal, create_officer, load_officer
from storage.catalogue.warehouse_models import AuditEntry
from testkit.batches import make_zip, manifest


def _officer(services: Services, username: str, centre_id: int) -> OfficerPrincipal:
    officer = load_officer(
        services.catalogue, create_officer(services.catalogue, username, username, OfficerRole.RECEIVING, centre_id)
    )
    assert officer is not None
    return officer


def test_confirm_queues_one_signature_for_the_officers_centre(db_services: Services, tmp_path: Path) -> None:
    services = db_services
    add_centre(services, "a", "UBND phường A")
    add_centre(services, "b", "UBND phường B")
    centre_a, centre_b = centre_id_by_code(services, "a"), centre_id_by_code(services, "b")
    path = tmp_path / "batch.zip"
    path.write_bytes(make_zip(manifest([{"id": "c1", "files": ["a.jpg"]}]), {"a.jpg": b"\xff\xd8 scan"}))
    receipt = ingest(services, read_batch(path), centre_id=centre_a)
    component_id = receipt.components[0]["id"]
    alice, bea = _officer(services, "alice", centre_a), _officer(services, "bea", centre_b)

    with pytest.raises(ComponentNotAwaiting):  # still pending: not digitised yet
        confirm_component(services, component_id, alice)
    with services.catalogue.session() as s:
        s.get_one(Component, component_id).state = ComponentState.AWAITING
    with pytest.raises(ComponentNotFound):
        confirm_component(services, component_id, bea)
    with pytest.raises(ComponentNotFound):
        confirm_component(services, 10_000, alice)
    for _ in range(2):
        confirm_component(services, component_id, alice)
    with services.catalogue.reading() as s:
        comp = s.get_one(Component, component_id)
        assert (comp.state, comp.confirmed_by) == (ComponentState.PROCESSING, alice.id)
        signs = s.scalar(select(func.count()).where(JobStep.component_id == component_id, JobStep.kind == "sign"))
        assert signs == 1
        audited = s.scalars(select(AuditEntry).where(AuditEntry.action == "confirm_copy")).all()
        assert [(a.actor, a.subject) for a in audited] == [("officer:alice", f"component:{component_id}")]
