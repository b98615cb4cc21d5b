"""``dossiers.agency_admin`` on SQLite and PostgreSQL: agencies, grants, their states and their audit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from dossiers.agency_admin import (
    GrantRequest,
    add_agency,
    add_grant,
    check_grant,
    disable_agency,
    list_agencies,
    list_grants,
    revoke,
)
from dossiers.errors import AgencyCodeMalformed, AgencyDisabled, AgencyNotFound, GrantInvalid, GrantNotFound
from dossiers.services import Services
from storage.catalogue.clients import authenticate, create_client
from storage.catalogue.models import ClientRole
from storage.catalogue.warehouse_models import AuditEntry
from storage.warehouse.sharing import grant_access

AGENCY = "000.00.13.H26"
PURPOSE = "giải quyết thủ tục đăng ký kết hôn"


def test_agencies_and_grants_through_their_states(db_services: Services) -> None:
    catalogue = db_services.catalogue
    made = add_agency(catalogue, AGENCY, "  UBND phường Hoàn Kiếm ", actor="operator")
    assert made["name"] == "UBND phường Hoàn Kiếm" and not made["disabled"]
    key = create_client(catalogue, "HK", ClientRole.AGENCY, AGENCY)
    station = create_client(catalogue, "Trạm HK", ClientRole.STATION, AGENCY)  # a station of the same unit
    grant = add_grant(
        catalogue, GrantRequest(AGENCY, ("birth_certificate", "birth_certificate"), PURPOSE, 7), actor="operator"
    )
    assert grant["doc_types"] == ["birth_certificate"] and grant["state"] == "active"
    past = datetime.now(UTC) - timedelta(days=3)
    grant_access(catalogue, AGENCY, ["marriage_certificate"], PURPOSE, valid_from=past, valid_for=timedelta(days=1))
    assert [g["state"] for g in list_grants(catalogue, AGENCY)] == ["active", "expired"]
    assert revoke(catalogue, grant["id"], actor="operator")["state"] == "revoked"
    with pytest.raises(GrantNotFound):
        revoke(catalogue, grant["id"], actor="operator")

    second = add_grant(catalogue, GrantRequest(AGENCY, ("birth_certificate",), PURPOSE, 7), actor="operator")
    [view] = list_agencies(catalogue)
    assert view["active_keys"] == 1 and len(view["grants"]) == 3
    off = disable_agency(catalogue, AGENCY, actor="operator")
    assert off["disabled"] and off["active_keys"] == 0
    assert authenticate(catalogue, key) is None and authenticate(catalogue, station) is not None
    assert {g["id"]: g["state"] for g in off["grants"]}[second["id"]] == "revoked"
    with pytest.raises(AgencyDisabled):
        add_grant(catalogue, GrantRequest(AGENCY, ("birth_certificate",), PURPOSE, 7), actor="operator")
    assert not add_agency(catalogue, AGENCY, "UBND phường Hoàn Kiếm", actor="operator")["disabled"]

    with catalogue.reading() as s:
        actions = [(e.actor, e.action) for e in s.scalars(select(AuditEntry).order_by(AuditEntry.seq))]
    assert ("operator", "agency_register") in actions and ("operator", "agency_disable") in actions
    assert actions.count(("operator", "grant")) == 3 and ("operator", "revoke") in actions


def test_a_grant_is_checked_before_anything_is_written(db_services: Services) -> None:
    catalogue = db_services.catalogue
    with pytest.raises(AgencyCodeMalformed):
        add_agency(catalogue, "HK", "x", actor="operator")
    with pytest.raises(AgencyNotFound):
        add_grant(catalogue, GrantRequest(AGENCY, ("birth_certificate",), PURPOSE), actor="operator")
    for bad in (
        GrantRequest(AGENCY, (), PURPOSE),
        GrantRequest(AGENCY, ("spaceship_licence",), PURPOSE),
        GrantRequest(AGENCY, ("birth_certificate",), "ab"),
        GrantRequest(AGENCY, ("birth_certificate",), PURPOSE, 0),
        GrantRequest(AGENCY, ("birth_certificate",), PURPOSE, 5000),
    ):
        with pytest.raises(GrantInvalid):
            check_grant(bad)
    assert list_grants(catalogue) == []
