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
    "Không ký được ở mức PAdES được yêu cầu: mức này không tồn tại, hoặc chứng thư số không ghi địa chỉ kiểm tra "
    "trạng thái (OCSP/CRL) mà mức B-LT, B-LTA cần. Các mức: B-B, B-T, B-LT, B-LTA.",
    "The requested PAdES level cannot be produced: it does not exist, or the certificate names no status "
    "service (OCSP/CRL), which B-LT and B-LTA need. Levels: B-B, B-T, B-LT, B-LTA.",
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
PdfRepaired = error(
    "PDF_REPAIRED",
    "Tệp PDF bị hỏng cấu trúc (bảng tham chiếu sai) và đã có chữ ký hoặc lịch sử chỉnh sửa, nên không thể ký thêm "
    "mà không làm mất các chữ ký đó. Xin bản PDF nguyên vẹn từ nơi phát hành.",
    "The PDF's structure is damaged (wrong cross-reference data) and it carries signatures or an edit history, so "
    "it cannot be signed without breaking them. Ask its issuer for an intact copy.",
)
PdfHybridXref = error(
    "PDF_HYBRID_XREF",
    "Tệp PDF dùng bảng tham chiếu lai (bảng và luồng tham chiếu cùng lúc) và đã có chữ ký hoặc lịch sử chỉnh sửa; "
    "loại tệp này không thể kiểm tra chữ ký một cách an toàn nên không được ký thêm. Lưu lại tệp bằng phần mềm "
    "khác trước khi ký lần đầu.",
    "The PDF uses hybrid cross-reference sections (a table and a stream) and already carries signatures or an "
    "edit history; such files cannot be validated safely, so it is not signed again. Save it with another "
    "tool before its first signature.",
)
PdfAlreadySigned = error(
    "PDF_ALREADY_SIGNED",
    "Tệp PDF đã có chữ ký số hoặc đã được chứng thực nên không thể dựng lại trang để chừa chỗ cho mã QR và dấu "
    "(việc đó làm mất hiệu lực chữ ký có sẵn). Dùng bản chưa ký.",
    "The PDF is already signed or certified, so its pages are not rebuilt to make room for the QR code and "
    "stamp (that would invalidate the existing signature). Use the unsigned file.",
)
PdfHybridXrefUnverifiable = error(
    "PDF_HYBRID_XREF",
    "Không kiểm tra được chữ ký: tệp PDF dùng bảng tham chiếu lai (vừa bảng vừa luồng tham chiếu). Với loại tệp "
    "này, các phần mềm đọc PDF khác nhau có thể hiển thị nội dung khác nhau, nên không thể xác nhận an toàn nội dung "
    "đã ký. Đề nghị nơi phát hành ký lại trên tệp PDF được lưu bằng phần mềm khác.",
    "The signatures cannot be validated: the PDF uses hybrid cross-reference sections (a table and a stream). "
    "Different PDF readers may show different content for such a file, so what was signed cannot be confirmed "
    "safely. Ask the issuer to sign a PDF saved with another tool.",
)
TrustRootsNotConfigured = error(
    "TRUST_ROOTS_NOT_CONFIGURED",
    "Chưa có chứng thư số gốc nào để kiểm tra chữ ký. Chỉ ra tệp chứng thư gốc bằng --trust-root TỆP, cấu hình "
    "SOHOA_SIGNING__TRUST_ROOTS, hoặc chạy lệnh trong thư mục của hệ thống (nơi có var/pki).",
    "No trust roots are configured for verification. Name a root certificate file with --trust-root FILE, "
    "configure SOHOA_SIGNING__TRUST_ROOTS, or run the command from the service's folder (where var/pki is).",
)
PdfNotSigned = error(
    "PDF_NOT_SIGNED",
    "Tệp PDF không có chữ ký số nào nên không có gì để lập báo cáo kiểm tra.",
    "The PDF carries no signature, so there is nothing to report on.",
)
PdfTooCostly = error(
    "PDF_TOO_COSTLY",
    "Tệp PDF khai báo dữ liệu lớn bất thường (dữ liệu chữ ký, số đối tượng, số trang hoặc số lần sửa đổi vượt xa "
    "một tệp ký số thật) nên không được kiểm tra. Tệp có thể đã được tạo ra có chủ ý để làm quá tải hệ thống.",
    "The PDF declares far more than any real signed file holds (signature data, objects, pages or revisions), "
    "so it is not verified; it may have been crafted to overload the verifier.",
)


RetimestampBlocked = error(
    "TSA_CERT_NOT_RENEWED",
    "Chứng thư số của dịch vụ cấp dấu thời gian không còn hạn lâu hơn dấu thời gian mới nhất của tài liệu, "
    "nên chưa thể gia hạn hiệu lực chữ ký. Liên hệ quản trị viên để gia hạn chứng thư của dịch vụ cấp dấu thời gian.",
    "The time-stamping service's certificate does not outlive the document's newest time-stamp, so a new one "
    "would extend nothing. The TSA's certificate must be renewed; the document is tried again at the next run.",
)


NotTimestamped = error(
    "RESULT_NOT_TIMESTAMPED",
    "Tài liệu không có dấu thời gian nên không thể gia hạn hiệu lực chữ ký dài hạn (B-LTA).",
    "The document carries no time-stamp, so its long-term (B-LTA) validity cannot be extended.",
)
RemoteSignerUnavailable = error(
    "REMOTE_SIGNER_UNAVAILABLE",
    "Dịch vụ ký số từ xa tạm thời không phản hồi. Hệ thống sẽ tự thử lại.",
    "The remote signing service did not answer. The step will be retried.",
    retryable=True,
)
RemoteSignerInvalid = error(
    "REMOTE_SIGNER_INVALID",
    "Dịch vụ ký số từ xa trả về chữ ký hoặc chứng thư số không hợp lệ. Liên hệ quản trị viên để kiểm tra dịch vụ.",
    "The remote signing service answered with an invalid signature or certificate. Ask the operator to check it.",
)
