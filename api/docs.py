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


def error_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ERROR_SCHEMA}}}


ERRORS: dict[int | str, dict[str, Any]] = {
    401: error_response("Missing, unknown, forged or revoked API key"),
    403: error_response("The key's role may not do this, or no grant covers the request"),
    404: error_response("Not found, or not yours"),
    413: error_response("Upload too large (declared or streamed), or a zip that would expand too far"),
    422: error_response("Invalid input; `detail.code` says which"),
    429: error_response("Rate limited; see Retry-After"),
}


def binary_body(description: str, media_type: str, *, multipart: dict[str, Any] | None = None) -> dict[str, Any]:
    content: dict[str, Any] = {media_type: {"schema": {"type": "string", "format": "binary"}}}
    if multipart is not None:
        content["multipart/form-data"] = {"schema": multipart}
    return {"requestBody": {"required": True, "description": description, "content": content}}
