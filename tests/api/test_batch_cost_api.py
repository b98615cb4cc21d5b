"""Small uploads that cost a lot are refused over HTTP with a coded Vietnamese answer, and nothing is recorded
(issue 17, item 7): per batch 413, past the station's day 429 with Retry-After until Vietnam's midnight."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from storage.catalogue.models import Dossier
from storage.catalogue.usage_models import StationUsage
from storage.objectstore import Bucket
from tests.api.conftest import Api
from tests.dossiers import hostile_batches as hostile

ZIP = {"Content-Type": "application/zip"}


def _push(api: Api, body: bytes, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return api.client.post("/api/v1/batches", content=body, headers=(headers or api.station) | ZIP)


def _nothing_recorded(api: Api) -> None:
    with api.services.catalogue.reading() as s:
        assert s.scalar(select(func.count(Dossier.id))) == 0
        assert s.scalars(select(StationUsage)).all() == []
    assert list(api.services.store.list_objects(Bucket.RAW)) == []
    assert not list((api.services.settings.work_dir / "uploads").iterdir())


@pytest.mark.parametrize(
    ("build", "code"),
    [
        (hostile.one_scan_named_everywhere, "BATCH_TOO_MANY_PAGES"),  # 20,000 OCR pages from under 2 KB
        (hostile.long_pdf_named_often, "BATCH_TOO_MANY_PAGES"),  # 1,200 pages counted inside one PDF
        (hostile.unfolding_member, "BATCH_TOO_LARGE"),  # 48 MiB of scan from a few hundred KB
    ],
)
def test_a_small_upload_that_costs_a_lot_is_refused_with_413(api: Api, build, code: str) -> None:  # type: ignore[no-untyped-def]
    r = _push(api, build())
    assert r.status_code == 413, r.text
    detail = r.json()["detail"]
    assert detail["code"] == code and "Chia" in detail["message"]  # what to do, in Vietnamese
    _nothing_recorded(api)


def test_past_the_stations_day_the_answer_is_429_until_midnight_in_vietnam(make_api) -> None:  # type: ignore[no-untyped-def]
    api = make_api(intake={"station_daily_pages": 5, "batch_max_pages": 5})
    first = hostile.batch_of_pages("000.00.12.H26-261121-0731", 3)
    assert _push(api, first).status_code == 202
    refused = _push(api, hostile.batch_of_pages("000.00.12.H26-261121-0732", 3))
    assert refused.status_code == 429
    assert refused.json()["detail"]["code"] == "STATION_DAILY_QUOTA"
    assert "hạn mức" in refused.json()["detail"]["message"]
    assert 1 <= int(refused.headers["retry-after"]) <= 24 * 3600
    with api.services.catalogue.reading() as s:
        assert s.scalars(select(Dossier.code)).all() == ["000.00.12.H26-261121-0731"]
        assert s.scalar(select(StationUsage.pages)) == 3
    assert _push(api, first).status_code == 200  # a retried push still gets its receipt
    assert _push(api, hostile.batch_of_pages("000.00.12.H26-261121-0733", 2)).status_code == 202  # what is left
