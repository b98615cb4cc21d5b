"""The committed OpenAPI spec is the app's, and a schemathesis run against it finds no server error."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings

from api.openapi import COMMITTED, generate, render
from storage.catalogue.models import ClientRole
from storage.warehouse.sharing import grant_access, register_agency
from tests.api.conftest import Api, issue_signed_result, push_dossier

BUDGET_S = 45
EXAMPLES = 25


def test_committed_spec_matches_the_app() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == render(generate()), "run: .venv/bin/python -m api.openapi"


def test_spec_documents_every_audience_and_security() -> None:
    spec = json.loads(COMMITTED.read_text(encoding="utf-8"))
    tags = {tag for path in spec["paths"].values() for op in path.values() for tag in op.get("tags", [])}
    assert {"stations", "officers", "agencies", "public"} <= tags
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["type"] == "http"
    assert "application/zip" in spec["paths"]["/api/v1/batches"]["post"]["requestBody"]["content"]


def test_schemathesis_finds_no_server_error(make_api: Callable[..., Api]) -> None:
    import schemathesis

    api = make_api(station_burst=100_000, station_batches_per_minute=1e6, lookup_max_failures_per_ip=100_000)
    push_dossier(api, "000.00.12.H26-261121-0401")
    issue_signed_result(api, "000.00.12.H26-261121-0401")
    register_agency(api.services.catalogue, "000.00.13.H26", "UBND phường Hoàn Kiếm")
    grant_access(api.services.catalogue, "000.00.13.H26", ["birth_certificate"], "kiểm thử")
    keys = {
        "stations": api.station,
        "officers": api.officer,
        "agencies": api.key("Cơ quan", ClientRole.AGENCY, "000.00.13.H26"),
        "public": {},
    }
    schemathesis.serializer.alias(["application/pdf", "application/zip"], "application/octet-stream")
    schema = schemathesis.openapi.from_dict(json.loads(COMMITTED.read_text(encoding="utf-8")))
    schema.app = api.client.app
    deadline = time.monotonic() + BUDGET_S
    failures: list[str] = []
    calls = 0

    def exercise(label: str, headers: dict[str, str], strategy) -> None:  # type: ignore[no-untyped-def]
        @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def run(case) -> None:  # type: ignore[no-untyped-def]
            nonlocal calls
            if time.monotonic() > deadline:
                return
            for auth in (headers, {}):
                response = case.call(headers=auth, timeout=10)
                calls += 1
                if response.status_code >= 500:
                    failures.append(f"{label}: {response.status_code} {response.text[:200]}")

        run()

    for result in schema.get_all_operations():
        operation = result.ok()
        exercise(operation.label, keys[(operation.tags or ["public"])[0]], operation.as_strategy())
    print(f"schemathesis: {calls} calls, {len(failures)} server errors")
    assert calls > 100
    assert not failures, failures


@pytest.mark.parametrize("path", ["/openapi.json", "/docs"])
def test_spec_and_docs_are_served(api: Api, path: str) -> None:
    assert api.client.get(path).status_code == 200
