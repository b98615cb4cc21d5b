"""The committed OpenAPI spec is the app's, and a schemathesis run against it finds no server error."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings

from api.openapi import COMMITTED, generate, render
from storage.catalogue.models import ClientRole
from storage.warehouse.sharing import grant_access, register_agency
from tests.api.conftest import Api, issue_signed_result, push_dossier

EXAMPLES = 25  # per operation: the run's length grows with the spec, never cut short
MIN_CALLS = 5


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
    spec = json.loads(COMMITTED.read_text(encoding="utf-8"))
    schemathesis.serializer.alias(["application/pdf", "application/zip"], "application/octet-stream")
    schema = schemathesis.openapi.from_dict(spec)
    schema.app = api.client.app
    failures: list[str] = []
    calls: Counter[tuple[str, str]] = Counter()  # (operation, auth variant) -> requests sent
    statuses: defaultdict[tuple[str, str], set[int]] = defaultdict(set)

    def exercise(label: str, headers: dict[str, str], strategy) -> None:  # type: ignore[no-untyped-def]
        @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def run(case) -> None:  # type: ignore[no-untyped-def]
            for variant, auth in (("key", headers), ("anonymous", {})):
                response = case.call(headers=auth, timeout=10)
                calls[label, variant] += 1
                statuses[label, variant].add(response.status_code)
                if response.status_code >= 500:
                    failures.append(f"{label} ({variant}): {response.status_code} {response.text[:200]}")

        run()

    for result in schema.get_all_operations():
        operation = result.ok()
        exercise(operation.label, keys[(operation.tags or ["public"])[0]], operation.as_strategy())
    print(f"schemathesis: {calls.total()} calls, {len(failures)} server errors; per operation: {dict(calls)}")
    assert not failures, failures
    # Every operation of the spec, with its audience's key and without, was called often enough to mean
    # something (an operation without any input has a single distinct request).
    expected = {
        f"{method.upper()} {path}": (
            bool(op.get("parameters") or op.get("requestBody")),
            op.get("tags", ["public"])[0] != "public",
        )
        for path, methods in spec["paths"].items()
        for method, op in methods.items()
    }
    assert {label for label, _ in calls} == set(expected)
    short = {
        (label, variant): calls[label, variant]
        for label, (takes_input, _) in expected.items()
        for variant in ("key", "anonymous")
        if calls[label, variant] < (MIN_CALLS if takes_input else 1)
    }
    assert not short, f"operations called too few times: {short}"
    # The keys got past authentication (the calls reached the handlers); no anonymous call to a keyed
    # operation succeeded.
    for label, (_, keyed) in expected.items():
        if keyed:
            assert 401 not in statuses[label, "key"], (label, statuses[label, "key"])
            assert not any(200 <= code < 300 for code in statuses[label, "anonymous"]), label


@pytest.mark.parametrize("path", ["/openapi.json", "/docs"])
def test_spec_and_docs_are_served(api: Api, path: str) -> None:
    assert api.client.get(path).status_code == 200
