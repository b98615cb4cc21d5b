"""``sohoa officers …``: accounts made, listed, unlocked, reset and disabled from the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dossiers.services import Services
from sohoa.settings import Settings, SigningSettings
from storage.accounts.signin import Accounts, Outcome, Policy
from storage.accounts.totp import TotpBox
from storage.catalogue.clients import authenticate
from storage.catalogue.officers import create_centre
from tests.test_cli import sohoa

pytestmark = pytest.mark.integration


def run(args: list[str], tmp_path: Path, pki: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = os.environ | {"SOHOA_VAR_DIR": str(tmp_path / "var"), "SOHOA_SIGNING__PKI_DIR": str(pki)}
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args], env=env, input=stdin, capture_output=True, text=True, timeout=120
    )


def test_officer_accounts_from_the_command_line(tmp_path: Path, shared_pki_dir: Path) -> None:
    settings = Settings(var_dir=tmp_path / "var", signing=SigningSettings(pki_dir=shared_pki_dir))
    services = Services(settings)
    services.prepare()
    add = ["officers", "add", "lan.nt", "--name", "Nguyễn Thị Lan", "--role", "receiving_officer", "--centre", "BD"]
    refused = run(add, tmp_path, shared_pki_dir)
    assert refused.returncode == 1 and "no centre with code 'BD'" in refused.stderr
    create_centre(services.catalogue, "BD", "UBND phường Ba Đình")

    made = run(add, tmp_path, shared_pki_dir)
    assert made.returncode == 0, made.stderr
    initial = made.stdout.strip().splitlines()[-1].rsplit(" ", 1)[-1]
    given = run(
        ["officers", "add", "hoa.tt", "--name", "Trần Thị Hoa", "--role", "result_officer", "--centre", "BD",
         "--title", "Phó Chủ tịch", "--password-stdin"],
        tmp_path, shared_pki_dir, stdin="mat-khau-cua-hoa-2026\n",
    )  # fmt: skip
    assert given.returncode == 0 and "initial password" not in given.stdout
    rows = [json.loads(line) for line in run(["officers", "list"], tmp_path, shared_pki_dir).stdout.splitlines()]
    assert [(r["username"], r["role"], r["centre"], r["totp"]) for r in rows] == [
        ("lan.nt", "receiving_officer", "BD", False),
        ("hoa.tt", "result_officer", "BD", False),
    ]

    accounts = Accounts(
        services.catalogue, TotpBox.from_file(settings.totp_key_file), Policy.from_settings(settings.officer_auth)
    )
    assert accounts.check_password("lan.nt", initial).outcome == Outcome.OK
    assert accounts.check_password("hoa.tt", "mat-khau-cua-hoa-2026").outcome == Outcome.OK
    for _ in range(5):
        accounts.check_password("lan.nt", "sai")
    assert accounts.check_password("lan.nt", initial).outcome == Outcome.LOCKED
    assert run(["officers", "unlock", "lan.nt"], tmp_path, shared_pki_dir).stdout.strip() == "unlocked"
    assert accounts.check_password("lan.nt", initial).outcome == Outcome.OK

    key = run(["officers", "key", "lan.nt"], tmp_path, shared_pki_dir).stdout.strip()
    principal = authenticate(services.catalogue, key)
    assert principal is not None and principal.officer_id == rows[0]["id"]
    reset = run(["officers", "reset-password", "lan.nt"], tmp_path, shared_pki_dir)
    assert reset.returncode == 0 and reset.stdout.startswith("password reset"), reset.stderr
    initial = reset.stdout.strip().splitlines()[-1].rsplit(" ", 1)[-1]
    assert accounts.check_password("lan.nt", initial).outcome == Outcome.OK
    weak = run(["officers", "reset-password", "lan.nt", "--password-stdin"], tmp_path, shared_pki_dir, stdin="123\n")
    assert weak.returncode == 1 and accounts.check_password("lan.nt", initial).outcome == Outcome.OK
    assert run(["officers", "reset-totp", "lan.nt"], tmp_path, shared_pki_dir).returncode == 0
    assert run(["officers", "disable", "lan.nt"], tmp_path, shared_pki_dir).stdout.strip() == "disabled"
    assert accounts.check_password("lan.nt", initial).outcome == Outcome.WRONG
    missing = run(["officers", "disable", "khong.co"], tmp_path, shared_pki_dir)
    assert missing.returncode == 1 and "no officer named" in missing.stderr
    assert sohoa(["officers", "--help"], tmp_path, shared_pki_dir, timeout=60).returncode == 0
    services.close()
