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
PdfTooComplex = error(
    "PDF_TOO_COMPLEX",
    "Tệp PDF quá phức tạp để kiểm tra (vượt quá thời gian hoặc bộ nhớ cho phép). Tệp có thể đã bị làm hỏng có chủ ý.",
    "The PDF could not be verified within the time or memory allowed; it may have been crafted to do that.",
)
VerifyBusy = error(
    "VERIFY_BUSY",
    "Hệ thống đang kiểm tra nhiều tệp cùng lúc. Vui lòng thử lại sau ít phút.",
    "Every verification process is busy. Try again in a few minutes.",
    retryable=True,
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
PdfEncrypted = error(
    "PDF_ENCRYPTED",
    "Tệp PDF đã được mã hóa hoặc đặt mật khẩu nên không thể ký số. Gửi bản PDF không mã hóa.",
    "The PDF is encrypted or password-protected and cannot be signed. Send an unencrypted PDF.",
)
PdfCertified = error(
    "PDF_CERTIFIED",
    "Tệp PDF đã được chứng thực và khóa mọi thay đổi nên không thể ký thêm. Dùng bản gốc chưa chứng thực.",
    "The PDF is certified against any change and cannot be signed again. Use the original, uncertified file.",
)
KeyCertMismatch = error(
    "KEY_CERT_MISMATCH",
    "Khóa bí mật không khớp với chứng thư số được cấu hình. Liên hệ quản trị viên để kiểm tra cặp khóa.",
    "The private key does not match the configured certificate. Ask the operator to check the key pair.",
)
SignerCertExpired = error(
    "SIGNER_CERT_EXPIRED",
    "Chứng thư số của người ký đã hết hạn hoặc chưa có hiệu lực. Gia hạn chứng thư số trước khi ký.",
    "The signer's certificate has expired or is not yet valid. Renew the certificate before signing.",
)
SignerCertRevoked = error(
    "SIGNER_CERT_REVOKED",
    "Chứng thư số của người ký đã bị thu hồi. Không được ký bằng chứng thư này; liên hệ tổ chức cung cấp dịch vụ.",
    "The signer's certificate has been revoked. It must not be used; contact the certificate provider.",
)
RevocationUnavailable = error(
    "REVOCATION_UNAVAILABLE",
    "Không lấy được thông tin trạng thái chứng thư số (OCSP/CRL). Hệ thống sẽ tự thử lại.",
    "Certificate status information (OCSP/CRL) could not be obtained. The step will be retried.",
    retryable=True,
)
HsmUnavailable = error(
    "HSM_UNAVAILABLE",
    "Không kết nối được thiết bị ký số (HSM/token PKCS#11) hoặc sai mã PIN. Kiểm tra thiết bị và cấu hình.",
    "The signing device (HSM / PKCS#11 token) cannot be reached or the PIN is wrong. Check the device and settings.",
)
HsmUnavailableRetryable = error(
    "HSM_UNAVAILABLE",
    "Thiết bị ký số (HSM/token PKCS#11) tạm thời không phản hồi. Hệ thống sẽ tự thử lại.",
    "The signing device (HSM / PKCS#11 token) did not answer. The step will be retried.",
    retryable=True,
)
