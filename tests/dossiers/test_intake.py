"""Intake: a zip batch is kept whole at receipt, and the unpack step gives each scan its raw object once."""

from __future__ import annotations

import json
import threading
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from dossiers import intake
from dossiers.batch_reader import read_batch
from dossiers.intake import ingest
from dossiers.services import Services
from storage.catalogue.models import Dossier, JobStep, ScanFile, StepState
from storage.objectstore import Bucket, sha256_hex
from storage.warehouse.scrub import scrub
from testkit.batches import make_zip, manifest
from testkit.scheduling import run_in_threads
from workers.runner import StepRunner

PAGES = {"a.jpg": b"\xff\xd8page a", "b.jpg": b"\xff\xd8page b", "c.jpg": b"\xff\xd8page c"}


def push(services: Services, tmp_path: Path) -> None:
    comps = [{"id": "c1", "files": ["a.jpg", "b.jpg"]}, {"id": "c2", "files": ["c.jpg"]}]
    path = tmp_path / "batch.zip"
    path.write_bytes(make_zip(manifest(comps), PAGES))
    receipt = ingest(services, read_batch(path))
    assert receipt.created and [c["pages"] for c in receipt.components] == [2, 1]


def scans(services: Services) -> list[tuple[str, str, bool]]:
    with services.catalogue.reading() as s:
        return [(f.object_key, f.sha256, f.stored) for f in s.scalars(select(ScanFile).order_by(ScanFile.id))]


def test_receipt_keeps_the_zip_and_unpack_stores_each_scan_once(
    db_services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = db_services
    fetched: list[str] = []
    real_get_to_file = services.store.get_to_file

    def counting_get_to_file(bucket: Bucket, key: str, *args: Any, **kwargs: Any) -> Any:
        fetched.append(key)
        return real_get_to_file(bucket, key, *args, **kwargs)

    monkeypatch.setattr(services.store, "get_to_file", counting_get_to_file)
    push(services, tmp_path)
    with services.catalogue.reading() as s:
        dossier = s.scalars(select(Dossier)).one()
        archive_key, archive_sha = dossier.archive_key, dossier.archive_sha256
        steps = s.execute(select(JobStep.kind, JobStep.queue)).all()
    assert archive_key is not None and archive_sha is not None
    assert services.store.get_bytes(Bucket.RAW, archive_key, sha256=archive_sha)[:2] == b"PK"
    assert {tuple(step) for step in steps} == {("unpack", "ingest")}
    assert [stored for _k, _s, stored in scans(services)] == [False, False, False]
    assert [sha for _k, sha, _s in scans(services)] == [sha256_hex(d) for d in PAGES.values()]
    assert not any(services.store.exists(Bucket.RAW, key) for key, _s, _st in scans(services))
    report = scrub(services.catalogue, services.store)
    assert report.clean and report.missing == []  # scans not yet unpacked live in the archive

    runner = StepRunner(services, "test")
    while (step_id := runner.claim_next(("ingest",))) is not None:
        assert runner.run(step_id).state == StepState.DONE
    for key, sha, stored in scans(services):
        assert stored and services.store.get_bytes(Bucket.RAW, key, sha256=sha) in PAGES.values()
    with services.catalogue.reading() as s:
        outputs = [st.output for st in s.scalars(select(JobStep).where(JobStep.kind == "unpack"))]
        next_kinds = set(s.scalars(select(JobStep.kind).where(JobStep.state == StepState.PENDING)))
    assert sorted(o["unpacked"] for o in outputs) == [0, 3]  # the first step unpacked the whole dossier
    assert fetched == [archive_key]  # the archive was read once, not once per component
    assert next_kinds == {"digitize"}
    report = scrub(services.catalogue, services.store)
    assert report.clean and report.checked == 4  # three scans and the archive


def test_the_same_pages_in_a_later_batch_are_not_written_again(services: Services, tmp_path: Path) -> None:
    push(services, tmp_path)
    runner = StepRunner(services, "test")
    while (step_id := runner.claim_next(("ingest",))) is not None:
        runner.run(step_id)
    later = tmp_path / "later.zip"
    code = "000.00.12.H26-261121-0043"
    later.write_bytes(make_zip(manifest([{"id": "c1", "files": ["a.jpg"]}], code=code), PAGES))
    ingest(services, read_batch(later))
    step_id = runner.claim_next(("ingest",))
    assert step_id is not None and runner.run(step_id).state == StepState.DONE
    with services.catalogue.reading() as s:
        assert s.get_one(JobStep, step_id).output == {"scans": 1, "unpacked": 0}


def test_a_folder_batch_stores_its_scans_at_receipt_and_starts_at_digitize(services: Services, tmp_path: Path) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps(manifest([{"id": "c1", "files": ["a.jpg", "b.jpg"]}])))
    for name in ("a.jpg", "b.jpg"):
        (folder / name).write_bytes(PAGES[name])
    ingest(services, read_batch(folder))
    assert [stored for _k, _s, stored in scans(services)] == [True, True]
    assert all(services.store.exists(Bucket.RAW, key) for key, _s, _st in scans(services))
    with services.catalogue.reading() as s:
        assert s.execute(select(JobStep.kind, JobStep.queue)).all() == [("digitize", "ocr")]  # nothing to unpack


def test_receipt_rows_hold_what_the_manifest_said(db_services: Services, tmp_path: Path) -> None:
    services = db_services
    m = manifest(
        [
            {"id": "c1", "declared_type": "application_form", "name": "Tờ khai", "files": ["a.jpg", "b.jpg"]},
            {"id": "c2", "files": ["missing.jpg"]},
            {"id": "c3", "files": ["c.jpg"]},
        ]
    ) | {"applicant_birth_date": "1990-03-15"}
    data = make_zip(m, PAGES, zipfile.ZIP_STORED)  # scans stored, as stations send JPEGs
    path = tmp_path / "batch.zip"
    path.write_bytes(data)
    before = datetime.now(UTC)
    receipt = ingest(services, read_batch(path, data=data), idempotency_key="push-1")
    assert [(c["ref"], c["pages"], c["state"]) for c in receipt.components] == [
        ("c1", 2, "pending"),
        ("c2", 0, "failed"),
        ("c3", 1, "pending"),
    ]
    assert receipt.components[1]["error"]["code"] == "FILE_MISSING"
    with services.catalogue.reading() as s:
        dossier = s.scalars(select(Dossier)).one()
        assert dossier.applicant_birth_date == date(1990, 3, 15)
        assert dossier.applicant_name == "Trần Thị Hoa" and dossier.idempotency_key == "push-1"
        assert before <= dossier.created_at <= datetime.now(UTC)
        comps = {c.ref: c for c in dossier.components}
        assert [c.id for c in dossier.components] == [c["id"] for c in receipt.components]
        assert comps["c1"].name == "Tờ khai" and comps["c1"].declared_type == "application_form"
        assert comps["c2"].state == "failed" and comps["c2"].error_code == "FILE_MISSING"
        assert [(f.filename, f.position, f.member, f.stored) for f in comps["c1"].files] == [
            ("a.jpg", 0, "a.jpg", False),
            ("b.jpg", 1, "b.jpg", False),
        ]
        steps = s.scalars(select(JobStep).order_by(JobStep.component_id)).all()
        assert [st.component_id for st in steps] == [comps["c1"].id, comps["c3"].id]  # none for the failed one
        for st in steps:
            assert (st.state, st.attempts, st.output, st.input_sha256) == ("pending", 0, {}, dossier.batch_sha256)
            assert st.created_at.tzinfo is not None

    again = ingest(services, read_batch(path), idempotency_key="push-1")  # the same push, read from disk
    assert not again.created and again.dossier_id == receipt.dossier_id
    assert [c["id"] for c in again.components] == [c["id"] for c in receipt.components]


@pytest.mark.parametrize("db_services", ["postgresql"], indirect=True)
def test_two_pushes_of_one_batch_at_once_get_one_dossier(
    db_services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both look before either records; the loser breaks the unique code and returns the winner's receipt.

    PostgreSQL only: SQLite's writers queue for one lock, so there the two cannot both look first.
    """
    services = db_services
    data = make_zip(manifest([{"id": "c1", "files": ["a.jpg"]}]), PAGES, zipfile.ZIP_STORED)
    both_looked = threading.Barrier(2, timeout=20)
    first_look = threading.local()
    original = intake._existing

    def look_then_wait(*args: Any) -> Any:
        found = original(*args)
        if not getattr(first_look, "done", False):
            first_look.done = True
            both_looked.wait()
        return found

    monkeypatch.setattr(intake, "_existing", look_then_wait)
    receipts: list[Any] = []

    def push(n: int) -> None:
        path = tmp_path / f"push{n}.zip"
        path.write_bytes(data)
        receipts.append(ingest(services, read_batch(path, data=data), station_id=None))

    errors = run_in_threads(push, 2)
    assert not errors, errors
    assert sorted(r.created for r in receipts) == [False, True]
    assert receipts[0].dossier_id == receipts[1].dossier_id
    with services.catalogue.reading() as s:
        assert len(s.scalars(select(Dossier)).all()) == 1
