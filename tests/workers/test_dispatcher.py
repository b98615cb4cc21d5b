"""The dispatcher's per-task time limits: a digitize step's grows with its pages, transfers get long ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from dossiers.batch_reader import read_batch
from dossiers.intake import ingest
from dossiers.services import Services
from dossiers.steps import DIGITIZE_OVERHEAD_S, TRANSFER_LIMIT_S
from storage.catalogue.models import JobStep
from testkit.batches import make_zip, manifest
from workers.dispatcher import Dispatcher


def test_a_long_component_gets_time_for_every_page(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pages = {f"p{i:03d}.jpg": f"page {i}".encode() for i in range(40)}
    comps = [
        {"id": "long", "files": list(pages)},
        {"id": "short", "files": ["p000.jpg"]},
        {"id": "pdf", "files": ["bundle.pdf"]},  # one file, up to the component's page cap
    ]
    path = tmp_path / "b.zip"
    path.write_bytes(make_zip(manifest(comps), pages | {"bundle.pdf": b"%PDF-1.7"}))
    ingest(services, read_batch(path))
    with services.catalogue.session() as s:  # as if unpacked: both components wait to be digitised
        s.execute(update(JobStep).values(kind="digitize", queue="ocr"))
    dispatcher = Dispatcher(services)
    sent: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(dispatcher.app, "send_task", lambda name, **kw: sent.append((name, kw)))
    assert dispatcher.dispatch_once() == 3
    per_page = services.settings.ocr.timeout_s
    cap = services.settings.ocr.max_pages_per_component
    limits = sorted(kw["time_limit"] for _name, kw in sent)
    assert limits == [DIGITIZE_OVERHEAD_S + per_page * n for n in (10, 40, cap)]
    assert all(kw["soft_time_limit"] == kw["time_limit"] - 10 for _name, kw in sent)
    assert dispatcher.time_limit("sign") == max(per_page, 120)
    assert dispatcher.time_limit("unpack") == dispatcher.time_limit("store") == TRANSFER_LIMIT_S
    dispatcher.app.close()
