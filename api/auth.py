"""Bearer API-key authentication and role checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from storage.catalogue.clients import Principal, authenticate
from storage.catalogue.models import ClientRole

_bearer = HTTPBearer(auto_error=False, description="API key issued by `sohoa keys create`")


def current_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None:
        raise HTTPException(
            401,
            detail={"code": "UNAUTHENTICATED", "message": "Thiếu khóa truy cập (API key)."},
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = authenticate(request.app.state.services.catalogue, credentials.credentials)
    if principal is None:
        raise HTTPException(
            401,
            detail={"code": "UNAUTHENTICATED", "message": "Khóa truy cập không hợp lệ hoặc đã bị thu hồi."},
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


def require(*roles: ClientRole) -> Callable[..., Awaitable[Principal]]:
    async def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if principal.role not in roles:
            raise HTTPException(
                403, detail={"code": "FORBIDDEN", "message": "Tài khoản không có quyền thực hiện thao tác này."}
            )
        return principal

    return dependency
