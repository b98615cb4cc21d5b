"""Coded errors of the application layer: reading and recording batches, costs, reuse, e-results, start-up.

Each carries the HTTP status the API answers it with (``http_status``, see ``sohoa.errors``)."""

from __future__ import annotations

from sohoa.errors import SohoaError, error

FileMissing = error(
    "FILE_MISSING",
    "Tệp được khai báo trong manifest.json không có trong lô hồ sơ. Bổ sung tệp và gửi lại thành phần này.",
    "A file named in manifest.json is not in the batch. Add the file and send this component again.",
)
DossierExists = error(
    "DOSSIER_EXISTS",
    "Mã hồ sơ đã được tiếp nhận với nội dung khác. Kiểm tra lại mã hồ sơ.",
    "This dossier code was already received with different content. Check the dossier code.",
    http_status=409,
)
BatchTooLarge = error(
    "BATCH_TOO_LARGE",
    "Lô hồ sơ quá lớn hoặc có dấu hiệu nén bất thường (zip bomb). Chia nhỏ lô và gửi lại.",
    "The batch is too large or abnormally compressed (zip bomb). Split it and send it again.",
    http_status=413,
)
StepAbandoned = error(
    "STEP_RETRIES_EXHAUSTED",
    "Xử lý thành phần hồ sơ thất bại sau nhiều lần thử. Quản trị viên cần kiểm tra hệ thống.",
    "The step failed after every retry. The operator needs to check the system.",
)
MemberUnreadable = error(
    "MEMBER_UNREADABLE",
    "Không đọc được tệp trong lô hồ sơ (tệp đặt mật khẩu, bị hỏng hoặc nén theo kiểu không hỗ trợ). "
    "Nén lại tệp theo chuẩn zip thông thường, không đặt mật khẩu, và gửi lại thành phần này.",
    "A file in the batch cannot be read (password-protected, damaged or compressed by an unsupported method). "
    "Zip the file again as a plain zip without a password and send this component again.",
)
BatchTooManyPages = error(
    "BATCH_TOO_MANY_PAGES",
    "Lô hồ sơ có quá nhiều trang cần số hóa (mỗi lần một tệp được nêu trong manifest.json đều được tính). "
    "Chia hồ sơ thành các lô nhỏ hơn và gửi lại.",
    "The batch holds too many pages to digitise (every time manifest.json names a file counts). "
    "Split it into smaller batches and send them again.",
    http_status=413,
)
StationDailyQuota = error(
    "STATION_DAILY_QUOTA",
    "Trạm quét đã dùng hết hạn mức số hóa trong ngày (số trang hoặc dung lượng sau giải nén). Lô hồ sơ chưa "
    "được tiếp nhận: gửi lại sau thời gian chờ ghi trong Retry-After (sang ngày mới) hoặc đề nghị quản trị viên "
    "nâng hạn mức.",
    "The station has used up its digitisation budget for the day (pages or unpacked bytes). Nothing was recorded: "
    "send the batch again after Retry-After (the next day), or ask the operator for a larger budget.",
    http_status=429,
)
DossierCodeForeign = error(
    "DOSSIER_CODE_FOREIGN",
    "Mã hồ sơ không mang mã đơn vị tiếp nhận của trạm quét này. Kiểm tra lại mã hồ sơ: "
    "trạm chỉ gửi hồ sơ do đơn vị mình tiếp nhận.",
    "The dossier code does not carry this station's receiving-unit code. Check the code: "
    "a station sends only the dossiers its own unit received.",
    http_status=403,
)


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


UploadTooLarge = error(
    "UPLOAD_TOO_LARGE",
    "Tệp tải lên vượt quá dung lượng cho phép. Chia nhỏ lô hồ sơ và gửi lại.",
    "The upload exceeds the allowed size. Split the batch and send it again.",
    http_status=413,
)


ResultPdfInvalid = error(
    "RESULT_PDF_INVALID",
    "Tệp kết quả không phải PDF hợp lệ, bị mã hóa hoặc chứa mã thực thi. Xuất lại PDF và tải lên lại.",
    "The result file is not a valid PDF, is encrypted or contains active content. Export it again and re-upload.",
)


ResultAlreadySigned = error(
    "RESULT_ALREADY_SIGNED",
    "Tệp kết quả đã được ký số hoặc chứng thực. Hệ thống cần thêm mã QR và dấu của cơ quan trước khi ký, việc này "
    "sẽ làm mất hiệu lực chữ ký có sẵn. Tải lên bản chưa ký.",
    "The result file is already signed or certified. The QR code and the agency's stamp are added before the "
    "agency signs, which would invalidate the existing signature. Upload the unsigned file.",
)


ResultActiveContent = error(
    "RESULT_ACTIVE_CONTENT",
    "Tệp kết quả chứa nội dung có thể tự chạy hoặc kết nối ra ngoài. Cơ quan không ký số tệp như vậy; xuất lại PDF "
    "không có các nội dung này và tải lên lại.",
    "The result file holds content that can run or reach elsewhere (scripts, launch or submit actions, "
    "attachments, rich media, XFA, non-https links). The agency does not sign such a file; export it without them.",
)


IdempotencyKeyReused = error(
    "IDEMPOTENCY_KEY_REUSED",
    "Khóa Idempotency-Key này đã được dùng cho một yêu cầu cấp kết quả khác. "
    "Gửi lại đúng nội dung của yêu cầu đó, hoặc dùng khóa mới cho yêu cầu mới.",
    "This Idempotency-Key was already used for a different issue request. "
    "Resend that request unchanged, or use a new key for a new request.",
    http_status=409,
)


ReuseNeedsBirthDate = error(
    "REUSE_NEEDS_BIRTH_DATE",
    "Chưa tra cứu giấy tờ có thể dùng lại: manifest.json cần ghi ngày sinh của người nộp (applicant_birth_date) "
    "để đối chiếu với kho dữ liệu. Hồ sơ vẫn được tiếp nhận bình thường.",
    "Reusable documents were not looked up: manifest.json must give the applicant's date of birth "
    "(applicant_birth_date) to match the warehouse's records. The dossier was received as usual.",
)


ReuseBudgetExhausted = error(
    "REUSE_BUDGET_EXHAUSTED",
    "Trạm quét đã hết lượt tra cứu giấy tờ dùng lại trong ngày nên chưa tra cứu cho hồ sơ này. Hồ sơ vẫn được "
    "tiếp nhận bình thường; cán bộ tiếp nhận kiểm tra giấy tờ theo cách thông thường hoặc liên hệ quản trị viên.",
    "The station has used up today's reuse lookups, so none was made for this dossier. The dossier was "
    "received as usual; check its documents the usual way or contact the operator.",
)


ComponentAlreadyDone = error(
    "COMPONENT_DONE",
    "Thành phần hồ sơ này đã được số hóa và ký số xong, không cần gửi lại hay bổ sung. Kiểm tra lại mã thành phần.",
    "This component is already digitised and signed: there is nothing to send again or attach. Check its ref.",
    http_status=409,
)
ComponentBusy = error(
    "COMPONENT_BUSY",
    "Thành phần hồ sơ đang được xử lý. Chờ kết quả; chỉ gửi lại hoặc bổ sung thành phần khi nó bị lỗi.",
    "This component is being processed. Wait for its result; send it again or attach a document only once it failed.",
    http_status=409,
)
ComponentScansMissing = error(
    "COMPONENT_SCANS_MISSING",
    "Chưa có tệp quét nào được gửi kèm. Gửi lại thành phần kèm ít nhất một tệp quét.",
    "No scan was sent. Send the component again with at least one scan.",
)
ResendKeyReused = error(
    "IDEMPOTENCY_KEY_REUSED",
    "Khóa Idempotency-Key này đã được dùng cho một lần gửi lại thành phần khác. "
    "Gửi lại đúng nội dung của lần đó, hoặc dùng khóa mới cho lần gửi mới.",
    "This Idempotency-Key was already used to send another component (or other scans). "
    "Resend that request unchanged, or use a new key.",
    http_status=409,
)
ReuseDocumentUnavailable = error(
    "REUSE_DOCUMENT_UNAVAILABLE",
    "Không dùng lại được giấy tờ này: giấy tờ không có trong kho, không thuộc người nộp hồ sơ, "
    "hoặc chưa được ký số và lưu trữ. Kiểm tra lại mã giấy tờ hoặc quét thành phần này.",
    "This document cannot be reused: it is not in the warehouse, not the applicant's, or not signed and stored.",
)
ReuseTypeMismatch = error(
    "REUSE_TYPE_MISMATCH",
    "Giấy tờ trong kho không cùng loại với thành phần hồ sơ đã khai báo. Chọn giấy tờ đúng loại hoặc quét "
    "thành phần này.",
    "The stored document is not of the component's declared type.",
)
ReuseDocumentExpired = error(
    "REUSE_DOCUMENT_EXPIRED",
    "Giấy tờ trong kho đã hết hiệu lực nên không dùng lại được. Đề nghị người nộp xuất trình giấy tờ còn hiệu lực.",
    "The stored document has expired and cannot be reused.",
)


class SigningConfigError(SohoaError):
    """The production signing configuration cannot be used (a file missing, unreadable or not a certificate,
    or a key this process was asked for is not configured). Raised at start-up, never papered over with the
    development PKI; the detail names the setting and what is wrong with it."""

    code = "SIGNING_CONFIG_INVALID"
    message_vi = "Cấu hình ký số của hệ thống không dùng được. Quản trị viên cần kiểm tra khóa và chứng thư số."
    message_en = "The signing configuration cannot be used."
    http_status = 503  # the service's own configuration, never the request's fault

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail)

    def __str__(self) -> str:
        return self.detail  # printed as it is at start-up: the detail is the whole story


ComponentNotFound = error(
    "COMPONENT_NOT_FOUND",
    "Không tìm thấy thành phần hồ sơ này tại trung tâm của cán bộ.",
    "No such component at the officer's centre.",
    http_status=404,
)
ComponentNotAwaiting = error(
    "COMPONENT_NOT_AWAITING",
    "Thành phần hồ sơ này không ở trạng thái chờ cán bộ xác nhận (chưa số hóa xong, đã được ký hoặc bị lỗi).",
    "This component is not waiting for an officer's confirmation (not digitised yet, already signed or failed).",
    http_status=409,
)
ComponentConfirmedByOther = error(
    "COMPONENT_ALREADY_CONFIRMED",
    "Thành phần hồ sơ này đã được một cán bộ khác xác nhận; bản sao được ký bằng chữ ký số của cán bộ đó.",
    "Another officer already confirmed this component; the copy is signed with their key.",
    http_status=409,
)
CentreNotFound = error(
    "CENTRE_NOT_FOUND",
    "Không tìm thấy trung tâm (cơ quan) với mã này.",
    "No centre with this code.",
    http_status=404,
)
CentreExists = error(
    "CENTRE_EXISTS",
    "Đã có trung tâm (cơ quan) với mã này.",
    "A centre with this code already exists.",
    http_status=409,
)
CentreForbidden = error(
    "CENTRE_FORBIDDEN",
    "Cán bộ quản trị chỉ được thay đổi thông tin trung tâm của mình.",
    "A centre admin may change their own centre only.",
    http_status=403,
)
SigningKeyRefInvalid = error(
    "SIGNING_KEY_REF_INVALID",
    "Khóa ký số đăng ký không dùng được (tệp không có, quyền truy cập tệp quá rộng, sai mật khẩu hoặc không kết nối "
    "được thiết bị/dịch vụ ký). Kiểm tra lại rồi đăng ký lại.",
    "The registered signing key cannot be used (missing file, file open to others, wrong passphrase, or the "
    "device or service cannot be reached). Check it and register it again.",
    http_status=422,
)
OfficerNotInCentre = error(
    "OFFICER_NOT_FOUND",
    "Không có cán bộ với tên đăng nhập này trong trung tâm của bạn.",
    "No officer with this username in your centre.",
    http_status=404,
)
OfficerExists = error(
    "OFFICER_EXISTS",
    "Tên đăng nhập này đã được dùng cho một cán bộ khác. Vui lòng chọn tên khác.",
    "An officer with this username exists.",
    http_status=409,
)
OfficerSelfAction = error(
    "OFFICER_SELF_ACTION",
    "Không thể tự khóa tài khoản của chính mình; hãy nhờ một quản trị viên khác.",
    "An administrator cannot disable their own account.",
    http_status=409,
)
OfficerOwnPassword = error(
    "OFFICER_OWN_PASSWORD",
    "Không thể đặt lại mật khẩu của chính mình tại đây; hãy dùng trang Đổi mật khẩu.",
    "An administrator changes their own password with the current one, not by a reset.",
    http_status=409,
)
CentrePolicyInvalid = error(
    "CENTRE_POLICY_INVALID",
    "Chế độ ký không hợp lệ. Chọn “Xác nhận tất cả trước khi ký” hoặc “Tự động ký bản chắc chắn”.",
    "The signing policy must be confirm_all or auto_confident.",
    http_status=422,
)
AgencyCodeMalformed = error(
    "AGENCY_CODE_INVALID",
    "Mã định danh cơ quan không đúng định dạng QĐ 20/2020/QĐ-TTg (ví dụ 000.00.12.H26).",
    "The agency code is not in the QĐ 20/2020 format (e.g. 000.00.12.H26).",
    http_status=422,
)
AgencyNotFound = error(
    "AGENCY_NOT_FOUND",
    "Không tìm thấy cơ quan khai thác dữ liệu có mã này. Đăng ký cơ quan trước khi cấp quyền.",
    "No agency of this code is registered; register it first.",
    http_status=404,
)
AgencyDisabled = error(
    "AGENCY_DISABLED",
    "Cơ quan đã bị vô hiệu hóa; không thể cấp quyền mới. Đăng ký lại cơ quan để kích hoạt.",
    "The agency is disabled; add it again to re-enable it before granting access.",
    http_status=409,
)
GrantInvalid = error(
    "GRANT_INVALID",
    "Quyền khai thác không hợp lệ: cần chọn loại giấy tờ hợp lệ, nêu mục đích và thời hạn từ 1 đến 3650 ngày.",
    "A grant needs known document types, a purpose (3 to 200 characters) and a validity of 1 to 3650 days.",
    http_status=422,
)
GrantNotFound = error(
    "GRANT_NOT_FOUND",
    "Không tìm thấy quyền khai thác này, hoặc quyền đã bị thu hồi.",
    "No grant in force has this id (unknown or already revoked).",
    http_status=404,
)
AuditFilterInvalid = error(
    "AUDIT_FILTER_INVALID",
    "Điều kiện lọc nhật ký không hợp lệ: số định danh gồm đúng 12 chữ số, ngày theo dạng năm-tháng-ngày và "
    "ngày bắt đầu không sau ngày kết thúc.",
    "The audit trail filter is invalid: a số định danh has 12 digits, dates are YYYY-MM-DD and the first "
    "day is not after the last.",
    http_status=422,
)
