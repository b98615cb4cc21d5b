"""Identifiers are ASCII digits, matched whole: no other Unicode digit, no trailing newline."""

from __future__ import annotations

from typing import cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api import routes_agencies
from storage.errors import AgencyCodeInvalid, OwnerIdInvalid
from storage.warehouse import Warehouse
from storage.warehouse.sharing import check_agency_code, request_documents

AGENCY = "000.00.12.H26"
OWNER = "001203004567"
NOT_ASCII_DIGITS = [
    "00120300456\u0667",  # Arabic-Indic seven
    "\uff10\uff10\uff11203004567",  # fullwidth digits
    "00120300456\u096d",  # Devanagari seven
]


@pytest.mark.parametrize("code", ["000.00.12.H2\u0666", "\u0660\u0660\u0660.00.12.H26", AGENCY + "\n", AGENCY + " "])
def test_agency_codes_are_ascii_digits_matched_whole(code: str) -> None:
    with pytest.raises(AgencyCodeInvalid):
        check_agency_code(code)


def test_a_valid_agency_code_passes() -> None:
    assert check_agency_code(AGENCY) == AGENCY


@pytest.mark.parametrize("owner", [*NOT_ASCII_DIGITS, OWNER + "\n"])
def test_owner_ids_are_ascii_digits_matched_whole(owner: str) -> None:
    # Refused before the warehouse is touched: no catalogue needed.
    with pytest.raises(OwnerIdInvalid):
        request_documents(cast(Warehouse, None), AGENCY, owner, "kiểm tra hồ sơ")


@pytest.fixture
def client() -> TestClient:
    app = FastAPI()
    app.include_router(routes_agencies.router)
    app.dependency_overrides[routes_agencies.agency] = lambda: None
    return TestClient(app)


@pytest.mark.parametrize("owner", [*NOT_ASCII_DIGITS, OWNER + "\n"])
def test_the_agency_route_refuses_owner_ids_that_are_not_ascii_digits(client: TestClient, owner: str) -> None:
    r = client.get("/api/v1/agency/documents", params={"owner_id": owner, "purpose": "kiểm tra hồ sơ"})
    assert r.status_code == 422
    assert [e["loc"] for e in r.json()["detail"]] == [["query", "owner_id"]]


def test_the_agency_route_accepts_a_twelve_digit_owner_id(client: TestClient) -> None:
    # An unknown document type is refused after the query is validated: the owner id passed.
    params = {"owner_id": OWNER, "purpose": "kiểm tra hồ sơ", "doc_type": "passport_photo"}
    r = client.get("/api/v1/agency/documents", params=params)
    assert r.status_code == 422 and r.json()["detail"]["code"] == "DOC_TYPE_UNKNOWN"
