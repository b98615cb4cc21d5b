"""A real `sohoa serve` refuses costly small batches and keeps a station's day across a restart (issue 17, item 7)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.dossiers import hostile_batches as hostile
from tests.e2e.service import running_service

pytestmark = pytest.mark.integration

DAY = {"SOHOA_INTAKE__STATION_DAILY_PAGES": "4", "SOHOA_INTAKE__BATCH_MAX_PAGES": "4"}


def _push(svc: dict, body: bytes) -> httpx.Response:
    headers = {"Authorization": f"Bearer {svc['station_key']}", "Content-Type": "application/zip"}
    return httpx.post(f"{svc['base']}/api/v1/batches", content=body, headers=headers, timeout=60)


def test_a_stations_day_survives_a_restart_of_the_service(tmp_path: Path, shared_pki_dir: Path) -> None:
    var = tmp_path / "var"
    with running_service(var, shared_pki_dir, **DAY) as svc:
        assert _push(svc, hostile.batch_of_pages("000.00.12.H26-261121-0741", 3)).status_code == 202
        costly = _push(svc, hostile.one_scan_named_everywhere("000.00.12.H26-261121-0742"))
        assert costly.status_code == 413 and costly.json()["detail"]["code"] == "BATCH_TOO_MANY_PAGES"
        over = _push(svc, hostile.batch_of_pages("000.00.12.H26-261121-0743", 2))
        assert over.status_code == 429 and over.json()["detail"]["code"] == "STATION_DAILY_QUOTA"
        assert int(over.headers["retry-after"]) >= 1
    with running_service(var, shared_pki_dir, **DAY) as svc:  # the same catalogue, a new process
        again = _push(svc, hostile.batch_of_pages("000.00.12.H26-261121-0743", 2))
        assert again.status_code == 429 and again.json()["detail"]["code"] == "STATION_DAILY_QUOTA"
        assert _push(svc, hostile.batch_of_pages("000.00.12.H26-261121-0744", 1)).status_code == 202
        status = httpx.get(
            f"{svc['base']}/api/v1/dossiers/000.00.12.H26-261121-0742",
            headers={"Authorization": f"Bearer {svc['station_key']}"},
        )
        assert status.status_code == 404  # the refused batch left no dossier
