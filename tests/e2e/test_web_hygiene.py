"""Browser security headers and a strict CSP that the pages really live with, checked in real Chromium.

The service runs as ``sohoa serve``; every page a person opens is loaded in headless Chromium
and the browser's console is read: a script or style the policy refused, or anything that failed
to load (the API documentation's Swagger UI used to come from a CDN), is a failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.service import running_service

pytestmark = pytest.mark.integration

PAGES = ["/", "/tra-cuu", "/kiem-tra", "/tram-quet", "/docs", "/tra-cuu/ket-qua/KHONG-CO"]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, shared_pki_dir: Path) -> Iterator[dict]:
    with running_service(tmp_path_factory.mktemp("hygiene") / "var", shared_pki_dir) as svc:
        yield svc


@pytest.mark.parametrize("path", [*PAGES, "/api/v1/batches/none", "/static/sohoa.css", "/openapi.json"])
def test_every_response_carries_the_security_headers(service: dict, path: str) -> None:
    r = httpx.get(service["base"] + path)
    csp = dict(part.strip().split(" ", 1) for part in r.headers["content-security-policy"].split(";"))
    assert csp["default-src"] == "'self'" and csp["script-src"] == "'self'" and csp["style-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'" and csp["form-action"] == "'self'"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert "strict-transport-security" not in r.headers  # plain HTTP: HSTS belongs to the TLS proxy
    assert "server" not in r.headers  # no server name and version for a scanner


def test_pages_render_under_the_policy_with_nothing_refused_or_fetched_elsewhere(service: dict, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    problems: list[str] = []
    for path in PAGES:
        browser.get(service["base"] + path)
        if path == "/docs":  # Swagger UI, from this service's own copy, drew the API's title
            title = browser.find_element(By.CSS_SELECTOR, ".swagger-ui .info .title")
            assert title.text.startswith("sohoa")
        else:
            assert browser.find_element(By.TAG_NAME, "header").value_of_css_property("background-color") == (
                "rgba(183, 28, 28, 1)"  # the stylesheet, a file under /static, applied
            )
        origins = browser.execute_script(
            "return performance.getEntriesByType('resource').map(e => new URL(e.name).origin)"
        )
        assert set(origins) <= {service["base"]}, (path, origins)
        problems += [f"{path}: {e['message']}" for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    # A 404 page logs its own status as an error; anything else (a refused script or style) is a defect.
    assert [p for p in problems if "status of 404" not in p] == []


def test_a_hostile_page_cannot_frame_the_portal(service: dict, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    hostile = tmp_path / "hostile.html"
    hostile.write_text(f'<iframe id="f" src="{service["base"]}/tra-cuu" width="600" height="400"></iframe>')
    browser.get(hostile.as_uri())
    refused = [e["message"] for e in browser.get_log("browser") if "frame-ancestors" in e["message"]]
    assert refused, "Chromium loaded the portal inside another site's frame"
