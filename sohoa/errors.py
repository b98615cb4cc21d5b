"""Errors that carry a stable code and a sentence telling the user what to do.

Codes are API: stations and other tools branch on them. The Vietnamese sentence is
what officers and citizens read; the English one goes to logs and English reports.
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


def error(code: str, message_vi: str, message_en: str, *, retryable: bool = False) -> type[SohoaError]:
    """Declare a SohoaError subclass with a fixed code and messages."""
    name = "".join(part.capitalize() for part in code.lower().split("_")) + "Error"
    return type(
        name,
        (SohoaError,),
        {"code": code, "message_vi": message_vi, "message_en": message_en, "retryable": retryable},
    )


# Input and batch errors (station side).
ManifestInvalid = error(
    "MANIFEST_INVALID",
    "Tệp manifest.json của lô hồ sơ không hợp lệ. Kiểm tra lại mã hồ sơ, mã thủ tục và danh sách thành phần.",
    "The batch manifest.json is invalid. Check the dossier code, procedure code and component list.",
)
BatchInvalid = error(
    "BATCH_INVALID",
    "Lô hồ sơ không đọc được (không phải thư mục hoặc tệp zip hợp lệ). Vui lòng đóng gói và gửi lại.",
    "The batch cannot be read (not a folder or a valid zip). Repackage and send it again.",
)
UnsafePath = error(
    "UNSAFE_PATH",
    "Tên tệp trong lô hồ sơ không hợp lệ (chứa đường dẫn ra ngoài thư mục). Đổi tên tệp và gửi lại.",
    "A file name in the batch is unsafe (it points outside the batch). Rename the file and send it again.",
)
UploadTooLarge = error(
    "UPLOAD_TOO_LARGE",
    "Tệp tải lên vượt quá dung lượng cho phép. Chia nhỏ lô hồ sơ và gửi lại.",
    "The upload exceeds the allowed size. Split the batch and send it again.",
)
NotFound = error(
    "NOT_FOUND",
    "Không tìm thấy dữ liệu yêu cầu.",
    "The requested item was not found.",
)
ObjectStoreUnavailable = error(
    "OBJECT_STORE_UNAVAILABLE",
    "Kho lưu trữ tạm thời không truy cập được. Hệ thống sẽ tự thử lại.",
    "The object store is temporarily unreachable. The step will be retried.",
    retryable=True,
)
StorageFull = error(
    "STORAGE_FULL",
    "Bộ nhớ lưu trữ của hệ thống đã đầy nên dữ liệu chưa được tiếp nhận. "
    "Các hồ sơ đang xử lý vẫn được giữ nguyên; vui lòng gửi lại sau ít phút.",
    "The service's storage is full, so the data was not accepted. "
    "Work in progress is kept; send it again in a few minutes.",
    retryable=True,
)
IntegrityError = error(
    "OBJECT_INTEGRITY",
    "Dữ liệu lưu trữ không khớp mã băm (có thể đã bị thay đổi). Liên hệ quản trị viên.",
    "A stored object does not match its SHA-256 (it may have been altered). Contact the operator.",
)
