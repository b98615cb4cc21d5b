"""``sohoa search``: the catalogue searched from the command line, audited as the operator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dossiers.services import Services
from sohoa.settings import Settings, SigningSettings
from storage.catalogue.warehouse_models import AuditEntry
from tests.storage.factories import add_document

pytestmark = pytest.mark.integration


def run(args: list[str], tmp_path: Path, pki: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"SOHOA_VAR_DIR": str(tmp_path / "var"), "SOHOA_SIGNING__PKI_DIR": str(pki)}
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "search", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_search_from_the_command_line(tmp_path: Path, shared_pki_dir: Path) -> None:
    services = Services(Settings(var_dir=tmp_path / "var", signing=SigningSettings(pki_dir=shared_pki_dir)))
    services.prepare()
    text = "GIẤY KHAI SINH Họ và tên: Nguyễn Văn An Nơi sinh: Hà Nội"
    doc_id, code = add_document(services.catalogue, owner_id="001203004567", doc_type="birth_certificate", text=text)
    add_document(services.catalogue, owner_id="079188001234", doc_type="diploma", text="Bằng tốt nghiệp Trần Thị Bình")

    shown = run(["nguyen van an"], tmp_path, shared_pki_dir)
    assert shown.returncode == 0, shown.stderr
    assert code in shown.stdout and "[Nguyễn] [Văn] [An]" in shown.stdout and "Bình" not in shown.stdout

    as_json = run(["--owner", "001203004567", "--type", "birth_certificate", "--json"], tmp_path, shared_pki_dir)
    body = json.loads(as_json.stdout)
    assert [h["id"] for h in body["results"]] == [doc_id]
    assert json.loads(run(["khai sinh", "--type", "diploma", "--json"], tmp_path, shared_pki_dir).stdout)["count"] == 0
    assert run(["--owner", "123"], tmp_path, shared_pki_dir).returncode == 2
    empty = run([], tmp_path, shared_pki_dir)
    assert empty.returncode == 2 and "Vui lòng nhập" in empty.stderr

    with services.catalogue.session() as s:
        actors = {e.actor for e in s.query(AuditEntry).filter(AuditEntry.action == "search")}
    assert actors == {"operator"}
    services.close()
