"""OpenAPI pieces shared by the routers: error responses and raw request bodies."""

from __future__ import annotations

from typing import Any

_ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {
            "type": "object",
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ERROR_SCHEMA}}}


ERRORS: dict[int | str, dict[str, Any]] = {
    401: _error("Missing, unknown, forged or revoked API key"),
    403: _error("The key's role may not do this, or no grant covers the request"),
    404: _error("Not found, or not yours"),
    413: _error("Upload too large (declared or streamed), or a zip that would expand too far"),
    422: _error("Invalid input; `detail.code` says which"),
    429: _error("Rate limited; see Retry-After"),
}


def binary_body(description: str, media_type: str, *, multipart: dict[str, Any] | None = None) -> dict[str, Any]:
    content: dict[str, Any] = {media_type: {"schema": {"type": "string", "format": "binary"}}}
    if multipart is not None:
        content["multipart/form-data"] = {"schema": multipart}
    return {"requestBody": {"required": True, "description": description, "content": content}}
