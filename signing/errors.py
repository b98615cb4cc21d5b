"""Coded errors raised by the signing package.

Codes are API (see ``sohoa.errors``): callers branch on ``exc.code``. Messages never
carry key material or passphrases; details name files and algorithms only.
"""

from __future__ import annotations

from sohoa.errors import error

SigningKeyUnavailable = error(
    "SIGNING_KEY_UNAVAILABLE",
    "Không mở được khóa ký số (tệp PKCS#12 thiếu, hỏng hoặc sai mật khẩu). Liên hệ quản trị viên để kiểm tra "
    "cấu hình khóa ký.",
    "The signing key cannot be opened (PKCS#12 file missing, damaged or wrong passphrase). Ask the operator "
    "to check the signing key configuration.",
)
SigningLevelUnsupported = error(
    "SIGNING_LEVEL_UNSUPPORTED",
    "Mức chữ ký PAdES được yêu cầu chưa được hỗ trợ. Chọn mức B-B hoặc B-T.",
    "The requested PAdES signature level is not supported yet. Use B-B or B-T.",
)
TimestamperRequired = error(
    "TIMESTAMPER_REQUIRED",
    "Mức chữ ký này cần dịch vụ cấp dấu thời gian nhưng hệ thống chưa được cấu hình. Liên hệ quản trị viên.",
    "This signature level needs a time-stamping service, but none is configured. Ask the operator to configure one.",
)
TimestampUnavailable = error(
    "TIMESTAMP_UNAVAILABLE",
    "Dịch vụ cấp dấu thời gian tạm thời không phản hồi. Hệ thống sẽ tự thử lại.",
    "The time-stamping service did not answer. The step will be retried.",
    retryable=True,
)
PdfInvalid = error(
    "PDF_INVALID",
    "Tệp PDF không đọc được (bị hỏng hoặc đã bị mã hóa). Kiểm tra lại tệp và gửi lại.",
    "The PDF cannot be read (damaged or encrypted). Check the file and send it again.",
)
SigningFailed = error(
    "SIGNING_FAILED",
    "Ký số tài liệu không thành công. Vui lòng thử lại hoặc liên hệ quản trị viên.",
    "Signing the document failed. Try again or contact the operator.",
)
SignatureFontUnavailable = error(
    "SIGNATURE_FONT_UNAVAILABLE",
    "Không tìm thấy phông chữ tiếng Việt để hiển thị chữ ký. Cài đặt gói fonts-liberation hoặc fonts-dejavu.",
    "No font with Vietnamese glyphs was found for the signature appearance. Install fonts-liberation or fonts-dejavu.",
)
TrustRootInvalid = error(
    "TRUST_ROOT_INVALID",
    "Không đọc được chứng thư số gốc dùng để kiểm tra chữ ký. Liên hệ quản trị viên.",
    "A trust root certificate used for verification cannot be read. Contact the operator.",
)
DevPkiInvalid = error(
    "DEV_PKI_INVALID",
    "Thư mục khóa phát triển (dev PKI) không đầy đủ hoặc bị hỏng. Xóa thư mục đó để hệ thống tạo lại.",
    "The development PKI folder is incomplete or damaged. Delete it so that it is generated again.",
)
