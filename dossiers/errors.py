"""Coded errors of batch intake and pipeline orchestration."""

from sohoa.errors import error

FileMissing = error(
    "FILE_MISSING",
    "Tệp được khai báo trong manifest.json không có trong lô hồ sơ. Bổ sung tệp và gửi lại thành phần này.",
    "A file named in manifest.json is not in the batch. Add the file and send this component again.",
)
DossierExists = error(
    "DOSSIER_EXISTS",
    "Mã hồ sơ đã được tiếp nhận với nội dung khác. Kiểm tra lại mã hồ sơ.",
    "This dossier code was already received with different content. Check the dossier code.",
)
BatchTooLarge = error(
    "BATCH_TOO_LARGE",
    "Lô hồ sơ quá lớn hoặc có dấu hiệu nén bất thường (zip bomb). Chia nhỏ lô và gửi lại.",
    "The batch is too large or abnormally compressed (zip bomb). Split it and send it again.",
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
)
StationDailyQuota = error(
    "STATION_DAILY_QUOTA",
    "Trạm quét đã dùng hết hạn mức số hóa trong ngày (số trang hoặc dung lượng sau giải nén). Lô hồ sơ chưa "
    "được tiếp nhận: gửi lại sau thời gian chờ ghi trong Retry-After (sang ngày mới) hoặc đề nghị quản trị viên "
    "nâng hạn mức.",
    "The station has used up its digitisation budget for the day (pages or unpacked bytes). Nothing was recorded: "
    "send the batch again after Retry-After (the next day), or ask the operator for a larger budget.",
)
DossierCodeForeign = error(
    "DOSSIER_CODE_FOREIGN",
    "Mã hồ sơ không mang mã đơn vị tiếp nhận của trạm quét này. Kiểm tra lại mã hồ sơ: "
    "trạm chỉ gửi hồ sơ do đơn vị mình tiếp nhận.",
    "The dossier code does not carry this station's receiving-unit code. Check the code: "
    "a station sends only the dossiers its own unit received.",
)
