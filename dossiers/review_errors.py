"""Coded errors of the officers' review workspace (queue, corrections, confirmation)."""

from __future__ import annotations

from sohoa.errors import error

ComponentNotFound = error(
    "COMPONENT_NOT_FOUND",
    "Không tìm thấy thành phần hồ sơ này trong các hồ sơ của trung tâm.",
    "No such component among the centre's dossiers.",
    http_status=404,
)
NotDigitised = error(
    "NOT_DIGITISED",
    "Thành phần hồ sơ chưa được số hóa xong nên chưa thể sửa hoặc xác nhận. Vui lòng thử lại sau ít phút.",
    "The component is not digitised yet, so it cannot be corrected or confirmed. Try again in a few minutes.",
    http_status=409,
)
NotAwaiting = error(
    "NOT_AWAITING_CONFIRMATION",
    "Thành phần hồ sơ không ở trạng thái chờ xác nhận (đã được xác nhận hoặc đang xử lý).",
    "The component is not awaiting confirmation (already confirmed, or being processed).",
    http_status=409,
)
CorrectionInvalid = error(
    "CORRECTION_INVALID",
    "Nội dung sửa không hợp lệ. Kiểm tra lại loại giấy tờ, các trường thông tin và số định danh.",
    "The correction is invalid. Check the document type, the fields and the personal identification numbers.",
    http_status=422,
)
PageNotFound = error(
    "PAGE_NOT_FOUND",
    "Không có trang này trong thành phần hồ sơ, hoặc bản quét không còn lưu trữ.",
    "No such page in the component, or its scan is no longer stored.",
    http_status=404,
)
