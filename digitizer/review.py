"""Warning codes a digitised component may carry, and the Vietnamese sentence shown to officers for each.

Codes are English and stable (logs, API, tests); the sentences are what the station console, the API
and ``sohoa digitize`` show next to them. One table, so every surface says the same thing.
"""

from __future__ import annotations

from collections.abc import Iterable

# Code -> the sentence an officer reads. Keep in step with the codes the digitizer emits.
MESSAGES: dict[str, str] = {
    "LOW_RESOLUTION": "Bản quét có độ phân giải thấp (dưới mức tối thiểu), chữ có thể bị đọc sai.",
    "DPI_ESTIMATED": "Tệp không ghi độ phân giải; hệ thống đã ước lượng kích thước trang.",
    "NO_TEXT": "Không đọc được chữ nào trên một hoặc nhiều trang.",
    "LOW_OCR_CONFIDENCE": "Độ tin cậy nhận dạng chữ thấp; cần đối chiếu nội dung với bản giấy.",
    "ID_NUMBER_INVALID": "Số định danh cá nhân đọc được không hợp lệ; cần kiểm tra lại với bản giấy.",
    "ID_BIRTH_YEAR_MISMATCH": "Số định danh cá nhân không khớp với năm sinh ghi trên giấy tờ.",
    "TYPE_MISMATCH": "Loại giấy tờ nhận dạng được khác với loại đã khai báo trong hồ sơ.",
    "UNKNOWN_DECLARED_TYPE": "Loại giấy tờ khai báo không có trong danh mục; hệ thống đã tự nhận dạng.",
    "UNFAMILIAR_TEXT": (
        "Nội dung không giống loại giấy tờ nào trong danh mục; đã xếp vào loại khác, cần cán bộ xác định loại."
    ),
    "TYPE_UNCERTAIN": "Chưa chắc chắn về loại giấy tờ; cần cán bộ xác nhận loại giấy tờ.",
}

FALLBACK = "Cần cán bộ kiểm tra lại thành phần này (mã cảnh báo {code})."


def message(code: str) -> str:
    """The Vietnamese sentence for a warning code (a generic one for codes this table does not know)."""
    return MESSAGES.get(code) or FALLBACK.format(code=code)


def describe(codes: Iterable[str]) -> list[dict[str, str]]:
    """``[{"code", "message"}]`` for each distinct code, in order."""
    seen: list[str] = []
    for code in codes:
        if code not in seen:
            seen.append(code)
    return [{"code": code, "message": message(code)} for code in seen]


# Document type -> its Vietnamese name, as officers read it (the workspace's type list).
TYPE_NAMES: dict[str, str] = {
    "application_form": "Đơn, tờ khai, phiếu đề nghị",
    "citizen_id_card": "Căn cước công dân",
    "birth_certificate": "Giấy khai sinh",
    "marriage_certificate": "Giấy chứng nhận kết hôn",
    "land_use_certificate": "Giấy chứng nhận quyền sử dụng đất",
    "power_of_attorney": "Giấy ủy quyền",
    "diploma": "Văn bằng, bằng tốt nghiệp",
    "contract": "Hợp đồng",
    "residence_confirmation": "Giấy xác nhận thông tin về cư trú",
    "other": "Giấy tờ khác",
}


def type_name(doc_type: str | None) -> str:
    """The Vietnamese name of a document type (the code itself when unknown)."""
    return TYPE_NAMES.get(doc_type or "", doc_type or "—")
