"""The review workspace in-process, on SQLite and on the real PostgreSQL server: two centres, an officer
of each with a personal API key, a station, and helpers that put digitised components in the queue."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select

from api.app import create_app
from bench.corpus.render import Line, render_page
from dossiers.services import Services
from storage.catalogue.clients import create_client
from storage.catalogue.models import (
    ClientRole,
    Component,
    ComponentState,
    Dossier,
    JobStep,
    OfficerRole,
    StepState,
)
from storage.catalogue.officers import create_centre, create_officer
from testkit.batches import make_zip, manifest
from testkit.scheduling import run_steps
from tests.conftest import make_settings

APPLICANT_ID = "001090012345"


@dataclass
class Workspace:
    client: TestClient
    services: Services
    centre_a: int
    centre_b: int
    officer_a: dict[str, str]  # headers: the bearer key of officer A (centre A)
    officer_b: dict[str, str]
    officer_a_id: int
    station: dict[str, str]

    def get(self, path: str, who: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> Any:
        return self.client.get(path, headers=(who or self.officer_a) | (headers or {}))


def new_workspace(services: Services, client: TestClient) -> Workspace:
    catalogue = services.catalogue
    a = create_centre(catalogue, "HK", "UBND phường Hàng Bạc", place="Hàng Bạc")
    b = create_centre(catalogue, "BD", "UBND phường Ba Đình", place="Ba Đình")
    oa = create_officer(catalogue, "an.nguyen", "Nguyễn Văn An", OfficerRole.RECEIVING, a, title="Chuyên viên")
    ob = create_officer(catalogue, "binh.tran", "Trần Văn Bình", OfficerRole.RECEIVING, b)
    key_a = create_client(catalogue, "Nguyễn Văn An", ClientRole.OFFICER, officer_id=oa)
    key_b = create_client(catalogue, "Trần Văn Bình", ClientRole.OFFICER, officer_id=ob)
    station = create_client(catalogue, "Trạm quét Hàng Bạc", ClientRole.STATION, centre_id=a)
    return Workspace(
        client,
        services,
        a,
        b,
        {"Authorization": f"Bearer {key_a}"},
        {"Authorization": f"Bearer {key_b}"},
        oa,
        {"Authorization": f"Bearer {station}"},
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def ws(request: pytest.FixtureRequest, tmp_path: Path, shared_pki_dir: Path) -> Iterator[Workspace]:
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    settings = make_settings(tmp_path / "var", shared_pki_dir, database_url=url)
    with TestClient(create_app(settings, start_workers=False)) as client:
        yield new_workspace(client.app.state.services, client)  # type: ignore[attr-defined]


@pytest.fixture
def ws_sqlite(tmp_path: Path, shared_pki_dir: Path) -> Iterator[Workspace]:
    settings = make_settings(tmp_path / "var", shared_pki_dir)
    with TestClient(create_app(settings, start_workers=False)) as client:
        yield new_workspace(client.app.state.services, client)  # type: ignore[attr-defined]


def seed_component(
    services: Services,
    *,
    code: str,
    centre_id: int | None,
    output: dict[str, Any],
    state: ComponentState = ComponentState.AWAITING,
    received: datetime | None = None,
    name: str = "",
) -> int:
    """A dossier of one component whose digitize step is done with ``output`` (as the OCR step writes it)."""
    with services.catalogue.session() as s:
        dossier = Dossier(
            code=code,
            procedure_code="1.001193",
            applicant_id=APPLICANT_ID,
            applicant_name="Nguyễn Thị Mai",
            batch_sha256="0" * 64,
            centre_id=centre_id,
            created_at=received or datetime.now(UTC),
        )
        comp = Component(ref="c1", position=0, name=name or "Giấy tờ", state=state, page_count=1)
        dossier.components.append(comp)
        s.add(dossier)
        s.flush()
        full = {"pages": [{"confidence": 0.9}], "text": "", "fields": {}, "parties": [], "warnings": []} | output
        s.add(JobStep(kind="digitize", queue="ocr", component_id=comp.id, state=StepState.DONE, output=full))
        return comp.id


def older(minutes: int) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)


def jpeg(lines: list[Line]) -> bytes:
    buf = io.BytesIO()
    render_page(lines, dpi=200).image.save(buf, "JPEG", quality=85, dpi=(200, 200))
    return buf.getvalue()


def hold_for_confirmation(services: Services, component_id: int) -> None:
    """What the signing branch does after digitising under the ``confirm_all`` policy: no sign step yet,
    the component waits for an officer."""
    with services.catalogue.session() as s:
        s.execute(delete(JobStep).where(JobStep.component_id == component_id, JobStep.kind == "sign"))
        s.get_one(Component, component_id).state = ComponentState.AWAITING


def push_and_digitise(ws: Workspace, code: str, files: dict[str, bytes], components: list[dict]) -> dict[str, int]:
    """Push a batch as the centre's station, run the real unpack and OCR steps, hold each component for an
    officer; the components' ids by ref."""
    m = manifest(components, code=code)
    m["applicant_id"] = APPLICANT_ID
    r = ws.client.post(
        "/api/v1/batches", content=make_zip(m, files), headers=ws.station | {"Content-Type": "application/zip"}
    )
    assert r.status_code == 202, r.text
    run_steps(ws.services, ("ingest", "ocr"))
    with ws.services.catalogue.reading() as s:
        rows = s.execute(select(Component.ref, Component.id).join(Dossier).where(Dossier.code == code)).all()
        ids = {ref: cid for ref, cid in rows}
    for cid in ids.values():
        hold_for_confirmation(ws.services, cid)
    return ids
