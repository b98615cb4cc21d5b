"""Officer pages: the shared template context (who is signed in, the session's CSRF token, the nav).

Pages of officers extend ``officer_base.html`` (blocks ``title`` and ``content``) and are rendered with
``officer_page``; their forms carry ``<input type="hidden" name="csrf" value="{{ officer_csrf }}">``
and scripts send the ``X-CSRF-Token`` header read from ``<meta name="csrf-token">``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.routing import Match

from api.pages import page
from storage.catalogue.models import OfficerRole
from storage.catalogue.officers import OfficerPrincipal

LANDING = "/can-bo"
QUEUE = "/can-bo/hang-cho"  # the review queue (another part of the service) once it is there
SIGN_IN = "/can-bo/dang-nhap"

ROLE_NAMES = {
    OfficerRole.RECEIVING: "Cán bộ tiếp nhận",
    OfficerRole.RESULT: "Cán bộ trả kết quả",
    OfficerRole.ADMIN: "Quản trị trung tâm",
}


def officer_page(
    request: Request, name: str, officer: OfficerPrincipal | None, status: int = 200, **context: Any
) -> HTMLResponse:
    """A page for ``officer`` (None: signed out, as the sign-in pages are)."""
    session = getattr(request.state, "officer_session", None)
    context.setdefault("officer_csrf", session.csrf_token if session is not None else "")
    return page(
        request,
        name,
        status,
        officer=officer,
        role_name=ROLE_NAMES.get(officer.role, "") if officer else "",
        is_admin=officer is not None and officer.role == OfficerRole.ADMIN,
        **context,
    )


def after_sign_in(request: Request, wanted: str | None = None) -> str:
    """Where a browser goes once signed in: the page it asked for, else the review queue when served."""
    if wanted and wanted.startswith("/can-bo") and not wanted.startswith("//") and "\\" not in wanted:
        return wanted
    return QUEUE if serves(request, QUEUE) else LANDING


def serves(request: Request, path: str) -> bool:
    """Whether this application answers GET ``path`` (a page another part of the service may add)."""
    scope = {"type": "http", "method": "GET", "path": path, "root_path": "", "headers": []}
    return any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes)


def sign_in_redirect(request: Request) -> RedirectResponse:
    """To the sign-in page, coming back here afterwards (pages a GET reaches; else the landing page)."""
    wanted = request.url.path if request.method == "GET" else None
    target = f"{SIGN_IN}?tiep={quote(wanted, safe='/')}" if wanted and wanted != LANDING else SIGN_IN
    return RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})
