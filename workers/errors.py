"""Errors of the worker pool's own jobs (maintenance)."""

from __future__ import annotations

from sohoa.errors import error

RetimestampConflict = error(
    "RETIMESTAMP_CONFLICT",
    "Kết quả điện tử đã được thay đổi trong khi đang gia hạn dấu thời gian; lần gia hạn này bị bỏ qua.",
    "The e-result changed (or the claim on it was lost) while it was being re-time-stamped; this extension "
    "was not recorded.",
)
