"""Errors the digitizer reports, each with a stable code and a sentence for the station officer."""

from __future__ import annotations

from sohoa.errors import error

FileNotFound = error(
    "FILE_NOT_FOUND",
    "Không tìm thấy tệp ảnh quét của thành phần hồ sơ. Kiểm tra lại tên tệp trong manifest và gửi lại.",
    "A scanned file of the component was not found. Check the file names in the manifest and send it again.",
)
ImageEmpty = error(
    "IMAGE_EMPTY",
    "Tệp ảnh quét rỗng hoặc trang trắng hoàn toàn. Vui lòng quét lại trang tài liệu và gửi lại.",
    "The scanned file is empty or a completely blank page. Rescan the page and send it again.",
)
ImageCorrupt = error(
    "IMAGE_CORRUPT",
    "Tệp ảnh quét bị hỏng hoặc không đầy đủ (có thể do truyền tệp bị gián đoạn). Vui lòng quét hoặc gửi lại tệp.",
    "The scanned image is damaged or truncated (the transfer may have been interrupted). Rescan or resend it.",
)
NotAnImage = error(
    "NOT_AN_IMAGE",
    "Tệp không phải ảnh quét được hỗ trợ. Vui lòng quét lại dưới dạng JPEG, PNG, TIFF hoặc PDF.",
    "The file is not a supported scan. Rescan it as JPEG, PNG, TIFF or PDF.",
)
ImageTooLarge = error(
    "IMAGE_TOO_LARGE",
    "Ảnh quét có kích thước điểm ảnh quá lớn. Vui lòng quét lại ở độ phân giải 200–300 dpi và gửi lại.",
    "The scan has too many pixels. Rescan at 200–300 dpi and send it again.",
)
TooManyPages = error(
    "TOO_MANY_PAGES",
    "Thành phần hồ sơ có quá nhiều trang. Vui lòng tách thành nhiều thành phần và gửi lại.",
    "The component has too many pages. Split it into several components and send it again.",
)
PdfEncrypted = error(
    "PDF_ENCRYPTED",
    "Tệp PDF được đặt mật khẩu hoặc mã hóa nên không xử lý được. Vui lòng gỡ mật khẩu hoặc quét lại và gửi lại.",
    "The PDF is password-protected or encrypted. Remove the protection or rescan, then send it again.",
)
PdfActiveContent = error(
    "PDF_ACTIVE_CONTENT",
    "Tệp PDF chứa mã thực thi (JavaScript, hành động tự động) nên bị từ chối. Vui lòng quét lại tài liệu gốc.",
    "The PDF contains active content (JavaScript, automatic actions) and is refused. Rescan the original.",
)
OcrFailed = error(
    "OCR_FAILED",
    "Nhận dạng ký tự (OCR) không thành công. Hệ thống sẽ thử lại; nếu vẫn lỗi, vui lòng quét lại rõ hơn.",
    "Text recognition (OCR) failed. It will be retried; if it keeps failing, rescan the page more clearly.",
    retryable=True,
)
OcrEngineUnavailable = error(
    "OCR_ENGINE_UNAVAILABLE",
    "Bộ nhận dạng ký tự (OCR) chưa được cài đặt trên máy xử lý. Vui lòng liên hệ quản trị viên.",
    "The OCR engine is not installed on this worker. Contact the operator.",
)


UnsafePath = error(
    "UNSAFE_PATH",
    "Tên tệp trong lô hồ sơ không hợp lệ (chứa đường dẫn ra ngoài thư mục). Đổi tên tệp và gửi lại.",
    "A file name in the batch is unsafe (it points outside the batch). Rename the file and send it again.",
)
