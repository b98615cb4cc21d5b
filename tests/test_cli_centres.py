"""``sohoa centres`` and ``sohoa keys officer``: centres, station keys of a centre, officers' and centres' keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from dossiers.services import Services
from storage.catalogue.models import ApiClient, Centre, Officer, OfficerRole
from storage.catalogue.officers import create_officer
from testkit.pki import ServedPki
from tests.conftest import make_settings
from tests.test_cli import sohoa

pytestmark = pytest.mark.integration


def test_centre_and_key_commands(tmp_path: Path, shared_pki_dir: Path, served: ServedPki) -> None:
    added = sohoa(
        [
            "centres",
            "add",
            "ba-dinh",
            "--name",
            "UBND phường Ba Đình",
            "--parent",
            "UBND quận Ba Đình",
            "--symbol",
            "UBND",
        ],
        tmp_path,
        shared_pki_dir,
    )
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["signing_policy"] == "confirm_all"
    again = sohoa(["centres", "add", "ba-dinh", "--name", "x"], tmp_path, shared_pki_dir)
    assert again.returncode == 1 and "CENTRE_EXISTS" in again.stderr
    listed = sohoa(["centres", "list"], tmp_path, shared_pki_dir)
    assert [json.loads(line)["code"] for line in listed.stdout.splitlines()] == ["default", "ba-dinh"]
    station = sohoa(
        ["keys", "create", "--name", "Trạm 1", "--role", "station", "--centre", "ba-dinh"], tmp_path, shared_pki_dir
    )
    assert station.returncode == 0 and station.stdout.startswith("sohoa_")

    services = Services(make_settings(tmp_path / "var", shared_pki_dir))
    try:
        with services.catalogue.reading() as s:
            centre_id = s.scalar(select(Centre.id).where(Centre.code == "ba-dinh"))
            assert s.scalar(select(ApiClient.centre_id).where(ApiClient.name == "Trạm 1")) == centre_id
        assert centre_id is not None
        create_officer(services.catalogue, "alice", "Lê Thị An", OfficerRole.RECEIVING, centre_id)
        passphrase = tmp_path / "pass"
        passphrase.write_bytes((served.directory / "passphrase.txt").read_bytes())
        passphrase.chmod(0o600)
        p12 = tmp_path / "alice.p12"
        p12.write_bytes(served.p12("operator").read_bytes())
        p12.chmod(0o600)
        both = sohoa(["keys", "officer", "alice", "--dev", "--remote", "http://x"], tmp_path, shared_pki_dir)
        assert both.returncode == 2  # one kind of key at a time
        dev = sohoa(["keys", "officer", "alice", "--dev"], tmp_path, shared_pki_dir)
        assert dev.returncode == 0 and "Lê Thị An" in dev.stdout, dev.stderr
        own = sohoa(
            ["keys", "officer", "alice", "--p12", str(p12), "--passphrase-file", str(passphrase)],
            tmp_path,
            shared_pki_dir,
        )
        assert own.returncode == 0, own.stderr
        wrong = sohoa(
            ["centres", "set-key", "ba-dinh", "--p12", str(p12), "--passphrase-file", str(p12)],
            tmp_path,
            shared_pki_dir,
        )
        assert wrong.returncode == 1 and "SIGNING_KEY_REF_INVALID" in wrong.stderr
        with services.catalogue.reading() as s:
            officer = s.scalar(select(Officer).where(Officer.username == "alice"))
            assert officer is not None and officer.key_kind == "p12"
            assert officer.key_ref == {"path": str(p12.resolve()), "passphrase_file": str(passphrase.resolve())}
            assert s.get_one(Centre, centre_id).key_kind == "dev"
        disabled = sohoa(["centres", "disable", "ba-dinh"], tmp_path, shared_pki_dir)
        assert disabled.returncode == 0 and disabled.stdout.strip() == "disabled"
    finally:
        services.close()
