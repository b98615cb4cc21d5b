"""Map coded domain errors to HTTP responses, and the API's own refusals."""

from __future__ import annotations

import logging
import math

from fastapi import HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from sohoa.errors import SohoaError

log = logging.getLogger(__name__)

STATUS_BY_CODE = {
    "NOT_FOUND": 404,
    "DOSSIER_EXISTS": 409,
    "IDEMPOTENCY_KEY_REUSED": 409,
    "UPLOAD_TOO_LARGE": 413,
    "BATCH_TOO_LARGE": 413,
    "OBJECT_STORE_UNAVAILABLE": 503,
    "GRANT_REQUIRED": 403,
    "AGENCY_UNKNOWN": 403,
    "AGENCY_CODE_INVALID": 403,
    "LINK_INVALID": 403,
    # The service's own data at fault, never the request: a stored object altered, the audit log broken.
    "OBJECT_INTEGRITY": 500,
    "AUDIT_LOG_BROKEN": 500,
}


async def sohoa_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """The error's code and sentence; its detail too, unless the fault is the service's own.

    A 5xx detail names our infrastructure (an endpoint, a folder): it goes to the log only.
    """
    assert isinstance(exc, SohoaError)
    status = STATUS_BY_CODE.get(exc.code, 503 if exc.retryable else 422)
    body = exc.to_dict()
    if status >= 500 and body.pop("detail", None):
        log.warning("%s %s answered %d %s: %s", request.method, request.url.path, status, exc.code, exc.detail)
    return JSONResponse({"detail": body}, status_code=status)


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
    if wants_page and exc.status_code in PAGE_TITLES and "text/html" in request.headers.get("accept", ""):
        from api.pages import page

        detail = exc.detail if isinstance(exc.detail, dict) else {}
        text = detail.get("message") or PAGE_TITLES[exc.status_code]
        response = page(request, "message.html", exc.status_code, title=PAGE_TITLES[exc.status_code], text=text)
        response.headers.update(exc.headers or {})
        return response
    return await http_exception_handler(request, exc)
