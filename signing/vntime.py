"""Vietnam time (Asia/Ho_Chi_Minh, UTC+07:00, no daylight saving) for what people read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

VN_TZ = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")


def to_vn(dt: datetime) -> datetime:
    """Convert to Vietnam time; a naive datetime is taken as UTC."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(VN_TZ)


def iso_vn(dt: datetime) -> str:
    """ISO 8601 in Vietnam time to the second, e.g. ``2025-03-01T09:30:00+07:00``."""
    return to_vn(dt).replace(microsecond=0).isoformat()
