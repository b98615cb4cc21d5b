"""A restart resumes every unfinished step: the real pipeline, a crashed worker, a fresh pool."""

from __future__ import annotations

import time
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from dossiers.batch_reader import read_batch
from dossiers.intake import ingest
from dossiers.services import Services
from storage.catalogue.models import Component, Document, JobStep, StepState, utcnow
from tests.conftest import make_settings
from workers.embedded import EmbeddedPool
from workers.runner import StepRunner

pytestmark = pytest.mark.integration


def test_restart_resumes_unfinished_steps_exactly_once(
    tmp_path: Path, shared_pki_dir: Path, sample_batch: Path
) -> None:
    first = Services(make_settings(tmp_path / "var", shared_pki_dir))
    first.prepare()
    zipped = tmp_path / "batch.zip"
    with zipfile.ZipFile(zipped, "w") as zf:
        for path in sorted(sample_batch.iterdir()):
            zf.write(path, path.name)
    receipt = ingest(first, read_batch(zipped))
    crashed = StepRunner(first, "crashed-worker")
    leased = crashed.claim_next(("ingest",))  # dies while unpacking the first component
    assert leased is not None
    first.close()  # the process dies holding a lease

    restarted = Services(make_settings(tmp_path / "var", shared_pki_dir, lease_seconds=300))
    restarted.prepare()
    with restarted.catalogue.session() as s:  # time passes: the dead worker's lease runs out
        s.execute(update(JobStep).where(JobStep.id == leased).values(lease_until=utcnow() - timedelta(seconds=1)))
    pool = EmbeddedPool(restarted, threads=2)
    pool.start()
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            with restarted.catalogue.session() as s:
                states = list(s.scalars(select(Component.state)))
            if all(st in ("done", "failed") for st in states):
                break
            time.sleep(0.2)
    finally:
        pool.stop()
    with restarted.catalogue.session() as s:
        assert list(s.scalars(select(Component.state))) == ["done"] * len(receipt.components)
        assert s.scalar(select(func.count(Document.id))) == len(receipt.components)
        kinds = s.execute(select(JobStep.kind, func.count()).group_by(JobStep.kind)).all()
        assert dict(kinds) == {k: len(receipt.components) for k in ("unpack", "digitize", "sign", "store")}
        assert set(s.scalars(select(JobStep.state))) == {StepState.DONE}
    assert crashed.run(leased).state == "lost"
    restarted.close()
