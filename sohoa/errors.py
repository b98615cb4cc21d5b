"""Errors that carry a stable code and a sentence telling the user what to do.

Codes are API: stations and other tools branch on them. The Vietnamese sentence is
what officers and citizens read; the English one goes to logs and English reports.

This module is the base only (``SohoaError``, ``error``, ``ErrorInfo``) and the few errors every
floor meets (``NotFound``, ``StorageFull``). Each package declares its own in its ``errors``
module, each with the HTTP status the API answers it with (``http_status``; unset: 503 when
retryable, else 422), so the mapping sits next to the error it maps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class SohoaError(Exception):
    """Base of every error the service reports to a user."""

    code: str = "INTERNAL_ERROR"
    message_vi: str = "Lỗi nội bộ của hệ thống. Vui lòng thử lại sau hoặc liên hệ quản trị viên."
    message_en: str = "Internal error. Try again later or contact the operator."
    retryable: bool = False
    http_status: int | None = None  # the API's answer; None: 503 when retryable, else 422
    retry_after_s: float | None = None  # a refusal that knows when it ends: the API's Retry-After

    def __init__(self, detail: str = "", *, message_vi: str | None = None, message_en: str | None = None):
        self.detail = detail
        if message_vi is not None:
            self.message_vi = message_vi
        if message_en is not None:
            self.message_en = message_en
        super().__init__(f"{self.code}: {self.message_en}" + (f" ({detail})" if detail else ""))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message_vi, "message_en": self.message_en}
        if self.detail:
            out["detail"] = self.detail
        return out


@dataclass(frozen=True)
class ErrorInfo:
    """A recorded failure, as stored in the catalogue and returned by the API."""

    code: str
    message: str
    message_en: str = ""
    detail: str = ""

    @classmethod
    def from_exception(cls, exc: BaseException) -> ErrorInfo:
        if isinstance(exc, SohoaError):
            return cls(exc.code, exc.message_vi, exc.message_en, exc.detail)
        return cls(SohoaError.code, SohoaError.message_vi, SohoaError.message_en, type(exc).__name__)


def error(
    code: str, message_vi: str, message_en: str, *, retryable: bool = False, http_status: int | None = None
) -> type[SohoaError]:
    """Declare a SohoaError subclass with a fixed code, messages and the HTTP status the API answers."""
    name = "".join(part.capitalize() for part in code.lower().split("_")) + "Error"
    attributes = {
        "code": code,
        "message_vi": message_vi,
        "message_en": message_en,
        "retryable": retryable,
        "http_status": http_status,
    }
    return type(name, (SohoaError,), attributes)


NotFound = error(
    "NOT_FOUND",
    "Không tìm thấy dữ liệu yêu cầu.",
    "The requested item was not found.",
    http_status=404,
)
StorageFull = error(
    "STORAGE_FULL",
    "Bộ nhớ lưu trữ của hệ thống đã đầy nên dữ liệu chưa được tiếp nhận. "
    "Các hồ sơ đang xử lý vẫn được giữ nguyên; vui lòng gửi lại sau ít phút.",
    "The service's storage is full, so the data was not accepted. "
    "Work in progress is kept; send it again in a few minutes.",
    retryable=True,
    http_status=503,
)
