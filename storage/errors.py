"""Errors of the storage package: the object store, its links and keys, the warehouse's sharing and audit."""

from __future__ import annotations

from sohoa.errors import error

ObjectStoreUnavailable = error(
    "OBJECT_STORE_UNAVAILABLE",
    "Kho lưu trữ tạm thời không truy cập được. Hệ thống sẽ tự thử lại.",
    "The object store is temporarily unreachable. The step will be retried.",
    retryable=True,
    http_status=503,
)


ObjectIntegrityError = error(
    "OBJECT_INTEGRITY",
    "Dữ liệu lưu trữ không khớp mã băm (có thể đã bị thay đổi). Liên hệ quản trị viên.",
    "A stored object does not match its SHA-256 (it may have been altered). Contact the operator.",
    http_status=500,
)


ObjectLocked = error(
    "OBJECT_LOCKED",
    "Kết quả điện tử đang trong thời hạn lưu giữ bắt buộc hoặc bị phong tỏa pháp lý; không được xóa hay ghi đè.",
    "The object is under retention or legal hold; it cannot be deleted or overwritten.",
)


LinkInvalid = error(
    "LINK_INVALID",
    "Đường dẫn tải tài liệu không hợp lệ hoặc đã hết hạn. Vui lòng yêu cầu đường dẫn mới.",
    "The download link is invalid or has expired. Request a new link.",
    http_status=403,
)


SecretFileInvalid = error(
    "SECRET_FILE_INVALID",
    "Tệp khóa bí mật của dịch vụ bị hỏng. Liên hệ quản trị viên.",
    "A service secret file does not hold a key of at least 32 bytes in hex; restore it or remove it to make a new one.",
)


AuditHeadMissing = error(
    "AUDIT_LOG_BROKEN",
    "Nhật ký truy cập kho dữ liệu bị hỏng (thiếu bản ghi đầu chuỗi). Liên hệ quản trị viên.",
    "The access audit log's head row is missing (it is created by migration 0005); run `sohoa audit verify`.",
    http_status=500,
)


AgencyCodeInvalid = error(
    "AGENCY_CODE_INVALID",
    "Mã định danh cơ quan không đúng định dạng QĐ 20/2020/QĐ-TTg (ví dụ 000.00.12.H26).",
    "The agency code is not in the QĐ 20/2020 format (e.g. 000.00.12.H26).",
    http_status=403,
)


AgencyUnknown = error(
    "AGENCY_UNKNOWN",
    "Cơ quan chưa được đăng ký khai thác kho dữ liệu. Liên hệ đơn vị quản lý kho.",
    "The agency is not registered to reuse warehouse data. Contact the warehouse operator.",
    http_status=403,
)


GrantRequired = error(
    "GRANT_REQUIRED",
    "Cơ quan chưa được cấp quyền khai thác loại giấy tờ này cho mục đích đã nêu. Yêu cầu đã bị từ chối và ghi nhật ký.",
    "The agency holds no grant for these document types and this purpose. The request was refused and logged.",
    http_status=403,
)


OwnerIdInvalid = error(
    "OWNER_ID_INVALID",
    "Số định danh cá nhân phải gồm đúng 12 chữ số.",
    "The personal identification number must be exactly 12 digits.",
)


AccountError = error(
    "OFFICER_ACCOUNT",
    "Không thực hiện được thao tác với tài khoản cán bộ.",
    "The officer account request cannot be carried out.",
    http_status=422,
)
