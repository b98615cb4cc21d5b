"""Bearer API-key authentication and role checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from storage.catalogue.clients import Principal, authenticate
from storage.catalogue.models import ClientRole

bearer = HTTPBearer(auto_error=False, description="API key issued by `sohoa keys create`")


def _unauthenticated(message: str) -> HTTPException:
    return HTTPException(
        401, detail={"code": "UNAUTHENTICATED", "message": message}, headers={"WWW-Authenticate": "Bearer"}
    )


def _forbidden() -> HTTPException:
    return HTTPException(
        403, detail={"code": "FORBIDDEN", "message": "Tài khoản không có quyền thực hiện thao tác này."}
    )


def principal_of(
    request: Request, credentials: HTTPAuthorizationCredentials | None, roles: tuple[ClientRole, ...]
) -> Principal:
    """The caller behind a bearer key with one of ``roles`` (blocking: reads the catalogue); 401 or 403 when refused."""
    if credentials is None:
        raise _unauthenticated("Thiếu khóa truy cập (API key).")
    principal = authenticate(request.app.state.services.catalogue, credentials.credentials)
    if principal is None:
        raise _unauthenticated("Khóa truy cập không hợp lệ hoặc đã bị thu hồi.")
    if principal.role not in roles:
        raise _forbidden()
    return principal


def require(*roles: ClientRole) -> Callable[..., Principal]:
    """A dependency: the authenticated caller, if its role is one of ``roles`` (one worker-thread hop)."""

    def dependency(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
    ) -> Principal:
        return principal_of(request, credentials, roles)

    return dependency
