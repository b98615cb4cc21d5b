"""What a batch may cost the pipeline, alone and with the rest of its station's day.

A batch's cost is its pages (PDF pages, TIFF frames, one per other image) and the bytes its
scans expand to, both counted per reference: a manifest that names one small scan 20,000
times costs 20,000 OCR pages. A batch over the per-batch bounds is refused (413) before any
byte is stored. The station's day is kept in the catalogue (``station_usage``) and charged
in the transaction that records the batch, by one conditional update: a refused batch
(429 with Retry-After) records nothing, two API processes cannot both take the last of
the budget, and a restart does not reset it. Days are Vietnam's (UTC+7, no daylight saving).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Connection

from dossiers.batch_reader import CostBounds, ParsedBatch
from dossiers.errors import StationDailyQuota
from signing.vntime import VN_TZ, to_vn
from sohoa.errors import SohoaError
from sohoa.settings import IntakeSettings
from storage.catalogue.db import DriverSQL

MIB = 1024 * 1024


def vietnam_day(now: datetime | None = None) -> date:
    return to_vn(now or datetime.now(UTC)).date()


def seconds_to_next_day(now: datetime | None = None) -> float:
    """Seconds until midnight in Vietnam, when every station's day starts again."""
    local = to_vn(now or datetime.now(UTC))
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), VN_TZ)
    return (midnight - local).total_seconds()


@dataclass(frozen=True)
class BatchCost:
    pages: int
    expanded_bytes: int

    @classmethod
    def of(cls, batch: ParsedBatch) -> BatchCost:
        return cls(batch.pages, batch.expanded_bytes)


def bounds_of(limits: IntakeSettings) -> CostBounds:
    """The per-batch bounds; a station's whole day also bounds one batch."""
    return CostBounds(
        max_pages=min(limits.batch_max_pages, limits.station_daily_pages),
        max_expanded_bytes=min(limits.batch_max_expanded_mb, limits.station_daily_expanded_mb) * MIB,
        max_expansion=limits.batch_max_expansion,
        expansion_floor=limits.batch_expansion_floor_mb * MIB,
    )


def check_batch(batch: ParsedBatch, limits: IntakeSettings) -> BatchCost:
    """The batch's cost, or a refusal (413) if it is over a per-batch bound."""
    cost = BatchCost.of(batch)
    bounds = bounds_of(limits)
    bounds.check_pages(cost.pages)
    bounds.check_bytes(cost.expanded_bytes, batch.archive_bytes)
    return cost


def over_quota(limits: IntakeSettings, *, now: datetime | None = None) -> SohoaError:
    exc = StationDailyQuota(
        f"daily budget: {limits.station_daily_pages} pages, {limits.station_daily_expanded_mb} MiB expanded"
    )
    exc.retry_after_s = seconds_to_next_day(now)
    return exc


_USED = DriverSQL("SELECT pages, expanded_bytes FROM station_usage WHERE station_id = :station AND day = :day")
_OPEN_DAY = DriverSQL(
    "INSERT INTO station_usage (station_id, day, batches, pages, expanded_bytes) "
    "VALUES (:station, :day, 0, 0, 0) ON CONFLICT (station_id, day) DO NOTHING"
)
_CHARGE = DriverSQL(
    "UPDATE station_usage SET batches = batches + 1, pages = pages + :pages, "
    "expanded_bytes = expanded_bytes + :bytes "
    "WHERE station_id = :station AND day = :day "
    "AND pages + :pages <= :max_pages AND expanded_bytes + :bytes <= :max_bytes"
)


def fits_today(conn: Connection, station_id: int, cost: BatchCost, limits: IntakeSettings, day: date) -> bool:
    """Whether the batch fits what the station has left today (a read: the charge decides)."""
    pages, used_bytes = used_today(conn, station_id, day)
    return (
        pages + cost.pages <= limits.station_daily_pages
        and used_bytes + cost.expanded_bytes <= limits.station_daily_expanded_mb * MIB
    )


def charge(conn: Connection, station_id: int, cost: BatchCost, limits: IntakeSettings, day: date) -> bool:
    """Add the batch to the station's day inside the caller's transaction; False (nothing added) if it does not fit."""
    key = {"station": station_id, "day": day}
    _OPEN_DAY.run(conn, key)
    params = key | {
        "pages": cost.pages,
        "bytes": cost.expanded_bytes,
        "max_pages": limits.station_daily_pages,
        "max_bytes": limits.station_daily_expanded_mb * MIB,
    }
    return _CHARGE.run(conn, params).rowcount == 1


def used_today(conn: Connection, station_id: int, day: date) -> tuple[int, int]:
    """(pages, expanded bytes) the station's recorded batches brought in on ``day``."""
    row = _USED.run(conn, {"station": station_id, "day": day}).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)
