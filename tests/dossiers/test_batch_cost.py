"""What a batch costs the pipeline (pages, expanded bytes, per reference) and the bounds on it:
per batch, and per station per Vietnam day in the catalogue (SQLite and PostgreSQL) — issue 17, item 7."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dossiers import budgets, scan_pages
from dossiers.batch_reader import read_batch
from dossiers.errors import BatchTooLarge, BatchTooManyPages, StationDailyQuota
from dossiers.intake import ingest
from dossiers.scan_pages import PageCounter
from dossiers.services import Services
from sohoa.settings import IntakeSettings
from storage.catalogue.clients import authenticate, create_client
from storage.catalogue.models import ClientRole, Dossier, ScanFile
from storage.catalogue.usage_models import StationUsage
from storage.objectstore import Bucket, sha256_hex
from testkit.batches import make_zip, manifest
from testkit.scheduling import run_in_threads
from tests.dossiers import hostile_batches as hostile


def _count(data: bytes, chunk: int) -> int:
    counter = PageCounter()
    for start in range(0, len(data), chunk):
        counter.feed(memoryview(data)[start : start + chunk])
    return counter.pages("scan")


@pytest.mark.parametrize("chunk", [3, 1 << 20])
def test_pages_are_counted_from_the_scan_itself(chunk: int) -> None:
    pdf = hostile.pdf_of(40)
    assert _count(pdf, chunk) == 40
    assert _count(hostile.tiff_of(7), chunk) == 7
    assert _count(hostile.tiny_jpeg(), chunk) == 1
    # What cannot be counted is one page: the digitize step refuses it before any OCR.
    for junk in (b"%PDF-1.7 not really a pdf", pdf[: len(pdf) // 3], b"II*\x00broken", b"x", b""):
        assert _count(junk, chunk) == 1
    # A BigTIFF whose directory chain would claim frames by the thousand: the digitizer does not read
    # BigTIFF (NOT_AN_IMAGE), so intake charges it one page, not a refusal for pages it will never OCR.
    chain = b"".join(
        (0).to_bytes(8, "little") + (16 * (n + 2) if n < 499 else 0).to_bytes(8, "little") for n in range(500)
    )
    bigtiff = b"II+\x00\x08\x00\x00\x00" + (16).to_bytes(8, "little") + chain  # 500 empty directories
    assert _count(bigtiff, chunk) == 1


def test_counting_is_bounded_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """A hostile scan cannot make the count itself expensive: a TIFF chain that loops ends, one too long is
    too many pages, and a PDF past the in-process size is counted by qpdf under an allowance."""
    assert _count(hostile.looping_tiff(), 1 << 20) == 2
    flat = hostile.flat_pdf_of(20_000)  # 2 MB of empty pages: counted by the qpdf program
    assert len(flat) > scan_pages.IN_PROCESS_PDF_BYTES and shutil.which("qpdf")
    assert _count(flat, 1 << 20) == 20_000
    monkeypatch.setattr(scan_pages, "MAX_FRAMES", 3)
    assert _count(hostile.tiff_of(4), 1 << 20) == scan_pages.TOO_MANY
    monkeypatch.setattr(scan_pages, "QPDF_MEMORY_KIB", 16 * 1024)  # far less than qpdf needs to start
    assert _count(flat, 1 << 20) == scan_pages.TOO_MANY


def test_read_batch_refuses_as_soon_as_the_cost_shows(tmp_path: Path) -> None:
    bounds = budgets.bounds_of(IntakeSettings())
    # Bytes: from the zip's directory, before any scan is read.
    unfolding = hostile.unfolding_member()
    with pytest.raises(BatchTooLarge, match="upload expands"):
        read_batch(_write(tmp_path, unfolding), data=unfolding, bounds=bounds)
    # Pages: as they are counted.
    with pytest.raises(BatchTooManyPages):
        read_batch(_write(tmp_path, hostile.one_scan_named_everywhere(), "many.zip"), bounds=bounds)


def _write(tmp_path: Path, data: bytes, name: str = "b.zip") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_a_scan_named_many_times_costs_every_time(tmp_path: Path) -> None:
    data = hostile.one_scan_named_everywhere()
    assert len(data) < 80 * 1024  # the 80 KB
    path = _write(tmp_path, data)
    for batch in (read_batch(path), read_batch(path, data=data)):
        assert batch.pages == 20_000 and batch.archive_bytes == len(data)
        assert batch.expanded_bytes == 20_000 * len(hostile.tiny_jpeg())
    long = _write(tmp_path, hostile.long_pdf_named_often(pages=30, times=3), "long.zip")
    assert read_batch(long).pages == 90


def _usage_and_rows(services: Services) -> tuple[int, int, int]:
    """Dossiers and scan rows in the catalogue, objects in the raw bucket."""
    with services.catalogue.reading() as s:
        dossiers = s.scalar(select(func.count(Dossier.id))) or 0
        scans = s.scalar(select(func.count(ScanFile.id))) or 0
    return dossiers, scans, len(list(services.store.list_objects(Bucket.RAW)))


@pytest.mark.parametrize(
    ("build", "refusal"),
    [
        (hostile.one_scan_named_everywhere, BatchTooManyPages),
        (hostile.long_pdf_named_often, BatchTooManyPages),  # 3 × 400 pages counted inside the PDF
        (hostile.unfolding_member, BatchTooLarge),  # 48 MiB from a few hundred KB, each member under ratio 200
    ],
)
def test_a_batch_over_the_default_bounds_is_refused_and_nothing_is_recorded(
    db_services: Services,
    tmp_path: Path,
    build,
    refusal,  # type: ignore[no-untyped-def]
) -> None:
    data = build()
    path = _write(tmp_path, data)
    batch = read_batch(path, archive_sha256=sha256_hex(data), data=data)
    with pytest.raises(refusal):
        ingest(db_services, batch, station_id=_station(db_services))
    assert _usage_and_rows(db_services) == (0, 0, 0)
    with db_services.catalogue.reading() as s:
        assert s.scalars(select(StationUsage)).all() == []


@pytest.fixture
def tight(db_services: Services) -> Iterator[Services]:
    """The same catalogue and store, with a station day of 10 pages."""
    limits = IntakeSettings(station_daily_pages=10, batch_max_pages=10)
    services = Services(db_services.settings.model_copy(update={"intake": limits}))
    yield services
    services.close()


def _station(services: Services, name: str = "Trạm") -> int:
    principal = authenticate(services.catalogue, create_client(services.catalogue, name, ClientRole.STATION))
    assert principal is not None
    return principal.id


def _batch(tmp_path: Path, code: str, pages: int) -> tuple[Path, bytes]:
    data = hostile.batch_of_pages(code, pages)
    return _write(tmp_path, data, f"{code}.zip"), data


def test_a_stations_day_is_kept_in_the_catalogue_across_restarts(tight: Services, tmp_path: Path) -> None:
    station, other = _station(tight), _station(tight, "Trạm khác")
    first, _ = _batch(tmp_path, "000.00.12.H26-261121-0711", 6)
    second, _ = _batch(tmp_path, "000.00.12.H26-261121-0712", 4)
    third, _ = _batch(tmp_path, "000.00.12.H26-261121-0713", 1)
    recorded = ingest(tight, read_batch(first), station_id=station)
    ingest(tight, read_batch(second), station_id=station)  # 10 pages: exactly the day
    before = _usage_and_rows(tight)
    with pytest.raises(StationDailyQuota) as refused:
        ingest(tight, read_batch(third), station_id=station)
    assert 0 < refused.value.retry_after_s <= 24 * 3600  # type: ignore[attr-defined]
    assert _usage_and_rows(tight) == before  # nothing recorded, nothing stored
    # A push of a batch already recorded is its receipt, not new work: it passes at the limit.
    again = ingest(tight, read_batch(first), station_id=station)
    assert not again.created and again.dossier_id == recorded.dossier_id
    # Another station has its own day.
    assert ingest(tight, read_batch(_batch(tmp_path, "000.00.12.H26-261121-0714", 1)[0]), station_id=other).created

    restarted = Services(tight.settings)  # a new process on the same catalogue
    try:
        with pytest.raises(StationDailyQuota):
            ingest(restarted, read_batch(third), station_id=station)
        with restarted.catalogue.reading() as s:
            usage = s.scalars(select(StationUsage).where(StationUsage.station_id == station)).one()
        assert (usage.day, usage.batches, usage.pages) == (budgets.vietnam_day(), 2, 10)
    finally:
        restarted.close()


def test_the_last_of_a_day_goes_to_one_push_only(tight: Services, tmp_path: Path) -> None:
    """Six pushes of 4 pages at once against 10 pages: two are recorded, whichever process each ran in."""
    station = _station(tight)
    paths = [_batch(tmp_path, f"000.00.12.H26-261121-072{n}", 4)[0] for n in range(6)]
    outcomes: list[str] = []

    def push(n: int) -> None:
        try:
            ingest(tight, read_batch(paths[n]), station_id=station)
            outcomes.append("recorded")
        except StationDailyQuota:
            outcomes.append("refused")

    assert run_in_threads(push, len(paths)) == []
    assert sorted(outcomes) == ["recorded"] * 2 + ["refused"] * 4
    with tight.catalogue.reading() as s:
        assert s.scalar(select(StationUsage.pages).where(StationUsage.station_id == station)) == 8
        assert s.scalar(select(func.count(Dossier.id))) == 2


def test_vietnam_days_and_the_wait_for_the_next_one() -> None:
    late = datetime(2026, 11, 21, 16, 59, 30, tzinfo=UTC)  # 23:59:30 in Hà Nội
    assert budgets.vietnam_day(late).isoformat() == "2026-11-21"
    assert budgets.seconds_to_next_day(late) == 30
    assert budgets.vietnam_day(datetime(2026, 11, 21, 17, 0, tzinfo=UTC)).isoformat() == "2026-11-22"


def test_a_folder_batch_is_bounded_too(services: Services, tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(hostile.tiny_jpeg())
    comps = [{"id": f"c{n}", "files": ["a.jpg"] * 20} for n in range(51)]
    (folder / "manifest.json").write_text(json.dumps(manifest(comps)))
    with pytest.raises(BatchTooManyPages):
        ingest(services, read_batch(folder))
    assert _usage_and_rows(services) == (0, 0, 0)
    # An ordinary batch is far from every bound.
    ok = _write(tmp_path, make_zip(manifest([{"id": "c1", "files": ["a.jpg"]}]), {"a.jpg": b"\xff\xd8"}))
    assert ingest(services, read_batch(ok)).created
