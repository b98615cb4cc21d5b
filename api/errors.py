"""Map coded domain errors to HTTP responses, and the API's own refusals."""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from sohoa.diskspace import is_disk_full, storage_full
from sohoa.errors import SohoaError, StorageFull, error

log = logging.getLogger(__name__)


def http_status(exc: SohoaError) -> int:
    """The status a coded error is answered with: its own (declared with it), else 503 if retryable, else 422."""
    return exc.http_status or (503 if exc.retryable else 422)


async def sohoa_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """The error's code and sentence; its detail too, unless the fault is the service's own.

    A 5xx detail names our infrastructure (an endpoint, a folder): it goes to the log only.
    """
    assert isinstance(exc, SohoaError)
    if exc.code != StorageFull.code and is_disk_full(exc):  # a coded error raised from a full disk: not its verdict
        exc = storage_full(exc)
    status = http_status(exc)
    body = exc.to_dict()
    if status >= 500 and body.pop("detail", None):
        log.warning("%s %s answered %d %s: %s", request.method, request.url.path, status, exc.code, exc.detail)
    headers = {}
    if exc.code == StorageFull.code:  # space comes back when an operator frees it: not at once
        headers["Retry-After"] = str(request.app.state.services.settings.storage.full_retry_after_s)
    if (wait := getattr(exc, "retry_after_s", None)) is not None:  # a refusal that knows when it ends
        headers["Retry-After"] = str(retry_seconds(wait))
    return JSONResponse({"detail": body}, status_code=status, headers=headers)


async def disk_full_handler(request: Request, exc: Exception) -> Response:
    """A write refused for lack of space (``ENOSPC``, SQLite's "database or disk is full", PostgreSQL's
    disk_full), wherever it happened: 503 STORAGE_FULL with Retry-After, not a bare 500.

    Any other error of these classes is raised on, to be answered (500) and logged as before.
    """
    if not is_disk_full(exc):
        raise exc
    return await sohoa_error_handler(request, storage_full(exc))


def retry_seconds(wait: float) -> int:
    """A wait as whole seconds for Retry-After and messages (never 0)."""
    return max(1, math.ceil(wait))


def rate_limited(retry_after: float, message: str) -> HTTPException:
    """429 with a whole-second Retry-After (never 0)."""
    return HTTPException(
        429,
        detail={"code": "RATE_LIMITED", "message": message},
        headers={"Retry-After": str(retry_seconds(retry_after))},
    )


def not_found(what: str) -> HTTPException:
    message = "Không tìm thấy dữ liệu yêu cầu."
    return HTTPException(404, detail={"code": "NOT_FOUND", "message": message, "detail": what})


PAGE_TITLES = {
    413: "Tệp quá lớn",
    422: "Dữ liệu gửi lên không hợp lệ",
    429: "Thao tác quá nhanh",
}


async def page_or_json_error(request: Request, exc: Exception) -> Response:
    """JSON for the API; a Vietnamese page for the portal's forms (a browser reads those)."""
    assert isinstance(exc, StarletteHTTPException)
    wants_page = not request.url.path.startswith(("/api/", "/dev/", "/objects/"))
    if (
        wants_page
        and exc.status_code == 401
        and request.url.path.startswith("/can-bo")
        and "text/html" in request.headers.get("accept", "")
    ):
        from api.officer_pages import sign_in_redirect  # an officer page, signed out: the sign-in page

        return sign_in_redirect(request)
    if wants_page and exc.status_code in PAGE_TITLES and "text/html" in request.headers.get("accept", ""):
        from api.pages import page

        detail: dict[str, Any] = exc.detail if isinstance(exc.detail, dict) else {}  # ours are dicts
        text = detail.get("message") or PAGE_TITLES[exc.status_code]
        response = page(request, "message.html", exc.status_code, title=PAGE_TITLES[exc.status_code], text=text)
        response.headers.update(exc.headers or {})
        return response
    return await http_exception_handler(request, exc)


ResultCodeInvalid = error(
    "RESULT_CODE_INVALID",
    "Mã kết quả chứa ký tự không hợp lệ. Vui lòng nhập lại đúng mã ghi trên giấy hẹn.",
    "The result code holds control characters.",
)


UploadStalled = error(
    "UPLOAD_STALLED",
    "Dữ liệu tải lên bị gián đoạn quá lâu nên máy chủ đã dừng nhận. Kiểm tra kết nối mạng rồi gửi lại.",
    "The upload stopped sending data for too long, so the server stopped waiting. Check the network and send it again.",
    http_status=408,
)
