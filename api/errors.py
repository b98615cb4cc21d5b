"""Map coded domain errors to HTTP responses."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

from sohoa.errors import SohoaError

STATUS_BY_CODE = {
    "NOT_FOUND": 404,
    "DOSSIER_EXISTS": 409,
    "UPLOAD_TOO_LARGE": 413,
    "BATCH_TOO_LARGE": 413,
    "OBJECT_STORE_UNAVAILABLE": 503,
}


async def sohoa_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SohoaError)
    status = STATUS_BY_CODE.get(exc.code, 503 if exc.retryable else 422)
    return JSONResponse({"detail": exc.to_dict()}, status_code=status)
