"""The API documentation page (``/docs``): Swagger UI served from this service, never from a CDN.

FastAPI's own page loads Swagger UI from a CDN and starts it with an inline script: offline (a
centre's closed network) it is blank, and a strict CSP would refuse the script anyway. The
assets (Swagger UI 5, which reads the OpenAPI 3.1 that FastAPI writes) come from the pinned
``fastapi-offline`` package, mounted at ``/static/swagger-ui``; the start-up script is
``/static/api-docs.js``.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter
from fastapi.responses import HTMLResponse

SWAGGER_UI_DIR = Path(fastapi_offline.__file__).parent / "static"
router = APIRouter(include_in_schema=False)

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>sohoa API</title>
  <link rel="stylesheet" href="/static/swagger-ui/swagger-ui.css">
  <link rel="icon" type="image/png" href="/static/swagger-ui/favicon.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/static/swagger-ui/swagger-ui-bundle.js"></script>
  <script src="/static/api-docs.js"></script>
</body>
</html>
"""


@router.get("/docs", response_class=HTMLResponse)
async def api_docs() -> HTMLResponse:
    return HTMLResponse(PAGE, headers={"Cache-Control": "no-cache"})
