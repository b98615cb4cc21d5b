"""Who an officer request acts as: a signed-in person (session cookie) or an officer's personal API key.

Every officer action is authorised by role and audited under ``OfficerPrincipal.actor``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials

from api.auth import bearer, principal_of
from storage.catalogue.models import ClientRole, OfficerRole
from storage.catalogue.officers import OfficerPrincipal, load_officer


def _forbidden() -> HTTPException:
    return HTTPException(
        403, detail={"code": "FORBIDDEN", "message": "Tài khoản không có quyền thực hiện thao tác này."}
    )


def officer_from_key(request: Request, credentials: HTTPAuthorizationCredentials | None) -> OfficerPrincipal:
    """The officer whose personal API key this is (blocking); 401 without a key, 403 for a key of no officer."""
    principal = principal_of(request, credentials, (ClientRole.OFFICER,))
    if principal.officer_id is None:
        raise HTTPException(
            403,
            detail={
                "code": "NOT_AN_OFFICER_ACCOUNT",
                "message": "Khóa truy cập này không gắn với tài khoản cán bộ nào.",
            },
        )
    officer = load_officer(request.app.state.services.catalogue, principal.officer_id)
    if officer is None:
        raise HTTPException(
            401, detail={"code": "UNAUTHENTICATED", "message": "Tài khoản cán bộ đã bị khóa hoặc không còn."}
        )
    return officer


def require_officer(*roles: OfficerRole) -> Callable[..., OfficerPrincipal]:
    """A dependency: the calling officer, if their role is one of ``roles`` (all roles when none is given)."""
    allowed = roles or tuple(OfficerRole)

    def dependency(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
    ) -> OfficerPrincipal:
        officer = officer_from_key(request, credentials)
        if officer.role not in allowed:
            raise _forbidden()
        return officer

    return dependency
