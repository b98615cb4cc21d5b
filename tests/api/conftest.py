"""The API in-process: an app with its own catalogue, keys for each role, and a signed e-result."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from dossiers.result_render import render_result_pdf
from dossiers.services import Services
from sohoa.settings import ApiSettings, IntakeSettings, Settings
from storage.catalogue.clients import create_client
from storage.catalogue.models import ClientRole
from storage.objectstore import Bucket
from testkit.batches import make_zip, manifest
from testkit.scheduling import run_steps
from tests.officer_accounts import OfficerAccount, make_officer, sign_in
from tests.storage.factories import add_document

APPLICANT_ID = "001090012345"
BIRTH = "1990-03-15"


@dataclass
class Api:
    client: TestClient
    services: Services
    station: dict[str, str]
    officer: dict[str, str]

    def key(self, name: str, role: ClientRole, agency_code: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {create_client(self.services.catalogue, name, role, agency_code)}"}


def api_settings(settings: Settings, intake: dict[str, Any] | None = None, **api: Any) -> Settings:
    """``settings`` with these API settings, and these intake bounds (``IntakeSettings``) when given."""
    update: dict[str, Any] = {"api": ApiSettings(**api)}
    if intake is not None:
        update["intake"] = IntakeSettings(**intake)
    return settings.model_copy(update=update)


@pytest.fixture
def make_api(settings: Settings) -> Iterator[Callable[..., Api]]:
    clients: list[TestClient] = []

    def make(*, intake: dict[str, Any] | None = None, **api: Any) -> Api:
        app_settings = api_settings(settings, intake, **api)
        client = TestClient(create_app(app_settings, start_workers=False))
        client.__enter__()
        clients.append(client)
        creds = json.loads((app_settings.var_dir / "dev-credentials.json").read_text())
        return Api(
            client,
            client.app.state.services,  # type: ignore[attr-defined]
            {"Authorization": f"Bearer {creds['station_key']}"},
            {"Authorization": f"Bearer {creds['officer_key']}"},
        )

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    return make_api()


@pytest.fixture
def signed_in_officer(api: Api) -> Callable[..., tuple[OfficerAccount, dict[str, str]]]:
    """Make an officer (password + TOTP) and sign ``api.client`` in as them by session cookie.

    ``signed_in_officer("lan.nt", role=OfficerRole.RESULT, centre="BD")`` returns the account and the
    ``X-CSRF-Token`` header that the client's state-changing requests need (forms: field ``csrf``).
    """

    def make(username: str = "lan.nt", **officer: Any) -> tuple[OfficerAccount, dict[str, str]]:
        account = make_officer(api.services, username, **officer)
        return account, sign_in(api.client, account)

    return make


def push_dossier(
    api: Api,
    code: str,
    *,
    applicant_id: str = APPLICANT_ID,
    birth: str | None = BIRTH,
    components: list[dict] | None = None,
    headers: dict[str, str] | None = None,
) -> dict:
    m = manifest(components or [{"id": "c1", "declared_type": "application_form", "files": ["a.jpg"]}], code=code)
    m["applicant_id"] = applicant_id
    if birth is not None:
        m["applicant_birth_date"] = birth
    files = {name: b"\xff\xd8 scan " + name.encode() for c in m["components"] for name in c["files"]}
    r = api.client.post(
        "/api/v1/batches",
        content=make_zip(m, files),
        headers=(headers or api.station) | {"Content-Type": "application/zip"},
    )
    assert r.status_code in (200, 202), r.text
    return r.json()


def issue_signed_result(api: Api, dossier_code: str, title: str = "Giấy xác nhận tình trạng hôn nhân") -> str:
    r = api.client.post(
        f"/api/v1/dossiers/{dossier_code}/results/from-template",
        json={"title": title, "body": ["Ông/bà Trần Thị Hoa hiện chưa đăng ký kết hôn với ai."], "level": "B-T"},
        headers=api.officer,
    )
    assert r.status_code == 202, r.text
    run_steps(api.services)
    code = r.json()["code"]
    assert api.client.get(f"/api/v1/results/{code}", headers=api.officer).json()["state"] == "done"
    return code


def add_signed_document(
    services: Services,
    *,
    owner_id: str,
    doc_type: str,
    fields: dict | None = None,
    code: str,
    birth_date: str | None = None,
) -> int:
    """A digitised document as the pipeline leaves it: signed PDF in the documents bucket, rows done.

    ``birth_date`` (ISO): the applicant's, as the station that pushed the document's dossier recorded it.
    """
    from signing.signers import sign_pdf

    pdf = sign_pdf(render_result_pdf([f"Bản sao điện tử {doc_type}"]), services.signing_key("operator"), level="B-B")
    obj = services.warehouse.put_bytes(Bucket.DOCUMENTS, pdf, suffix=".pdf", content_type="application/pdf")
    doc_id, _ = add_document(
        services.catalogue,
        owner_id=owner_id,
        doc_type=doc_type,
        fields=fields,
        code=code,
        sha256=obj.sha256,
        size=obj.size,
        object_key=obj.key,
        object_version=obj.version_id,
        signature_level="B-B",
        birth_date=date.fromisoformat(birth_date) if birth_date else None,
    )
    return doc_id


def asgi_scope(method: str, path: str, headers: list[tuple[bytes, bytes]], client: str = "127.0.0.1") -> dict[str, Any]:
    """An HTTP request's ASGI scope, for tests that drive the app's receive channel themselves."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": (client, 5000),
        "server": ("testserver", 80),
    }
