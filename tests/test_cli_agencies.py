"""``sohoa agencies`` and ``sohoa grants`` (issue 21): register an agency, grant it types, list, revoke,
disable; refusals with a clear code and message in Vietnamese and English; every change audited as
``operator``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from dossiers.services import Services
from storage.catalogue.warehouse_models import AuditEntry
from tests.conftest import make_settings
from tests.test_cli import sohoa

pytestmark = pytest.mark.integration
AGENCY = "000.00.13.H26"
PURPOSE = "giải quyết thủ tục đăng ký kết hôn"


def test_agency_and_grant_commands(tmp_path: Path, shared_pki_dir: Path) -> None:
    def run(*args: str) -> tuple[int, str, str]:
        out = sohoa(list(args), tmp_path, shared_pki_dir)
        return out.returncode, out.stdout, out.stderr

    code, out, err = run("agencies", "add", AGENCY, "--name", "UBND phường Hoàn Kiếm")
    assert code == 0, err
    assert json.loads(out)["code"] == AGENCY
    code, _, err = run("agencies", "add", "HK", "--name", "x")
    assert code == 1 and "AGENCY_CODE_INVALID" in err and "QĐ 20/2020" in err

    code, out, err = run(
        "grants",
        "add",
        AGENCY,
        "--types",
        "birth_certificate,marriage_certificate",
        "--purpose",
        PURPOSE,
        "--days",
        "30",
    )
    assert code == 0, err
    grant = json.loads(out)
    assert grant["doc_types"] == ["birth_certificate", "marriage_certificate"] and grant["state"] == "active"
    code, _, err = run("grants", "add", AGENCY, "--types", "spaceship", "--purpose", PURPOSE)
    assert code == 1 and "GRANT_INVALID" in err and "loại giấy tờ" in err and "spaceship" in err
    code, _, err = run("grants", "add", "000.00.99.H26", "--types", "birth_certificate", "--purpose", PURPOSE)
    assert code == 1 and "AGENCY_NOT_FOUND" in err

    code, out, _ = run("grants", "list", "--agency", AGENCY, "--json")
    assert code == 0 and [json.loads(line)["id"] for line in out.splitlines()] == [grant["id"]]
    code, out, _ = run("grants", "list")
    assert code == 0 and out.startswith(f"{grant['id']}\t{AGENCY}\tactive\t")
    code, out, _ = run("agencies", "list")
    assert code == 0 and out.startswith(f"{AGENCY}\tactive\tkeys=0\tgrants=1\t")

    code, out, err = run("grants", "revoke", str(grant["id"]))
    assert code == 0 and json.loads(out)["state"] == "revoked", err
    code, _, err = run("grants", "revoke", str(grant["id"]))
    assert code == 1 and "GRANT_NOT_FOUND" in err

    key = sohoa(
        ["keys", "create", "--name", "HK", "--role", "agency", "--agency-code", AGENCY], tmp_path, shared_pki_dir
    )
    assert key.returncode == 0, key.stderr
    code, out, err = run("agencies", "disable", AGENCY)
    assert code == 0, err
    assert json.loads(out)["disabled"] is True and json.loads(out)["active_keys"] == 0
    code, out, _ = run("agencies", "list", "--json")
    assert json.loads(out)["disabled"] is True
    code, _, err = run("grants", "add", AGENCY, "--types", "birth_certificate", "--purpose", PURPOSE)
    assert code == 1 and "AGENCY_DISABLED" in err

    services = Services(make_settings(tmp_path / "var", shared_pki_dir))
    try:
        with services.catalogue.reading() as s:
            entries = s.execute(select(AuditEntry.actor, AuditEntry.action).order_by(AuditEntry.seq)).all()
    finally:
        services.close()
    mine = [
        (actor, action)
        for actor, action in entries
        if action in {"agency_register", "grant", "revoke", "agency_disable"}
    ]
    assert mine == [
        ("operator", "agency_register"),
        ("operator", "grant"),
        ("operator", "revoke"),
        ("operator", "agency_disable"),
    ]
