"""Jinja2 templates of the Vietnamese pages, and their filters."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api import csrf
from signing.vntime import to_vn

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def vn_time(value: datetime | None) -> str:
    """Vietnamese reading of a time: ``09:30:00 ngày 01/03/2026 (giờ Việt Nam)``."""
    if value is None:
        return "—"
    t = to_vn(value)
    return f"{t:%H:%M:%S} ngày {t:%d/%m/%Y} (giờ Việt Nam)"


templates.env.filters["vn_time"] = vn_time
templates.env.globals["csrf_token"] = csrf.form_token  # the portal forms' hidden field (api.csrf)


def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    response = templates.TemplateResponse(
        request, name, context, status_code=status, headers={"Cache-Control": "no-store"}
    )
    csrf.remember(request, response)  # a form on the page made the browser an id: its cookie
    return response
