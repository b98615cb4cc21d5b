"""``sohoa appointment-slip`` and ``sohoa notices list|send|retry`` (issue 21, part 5), with the development
e-mail transport (``notices.email=file``: ``.eml`` files under var/outbox)."""

from __future__ import annotations

import email
import email.policy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import update

from dossiers.batch_reader import read_batch
from dossiers.intake import ingest
from dossiers.result_render import render_result_pdf
from dossiers.results import issue_result_once
from dossiers.services import Services
from sohoa.settings import NoticeSettings
from storage.catalogue.models import ComponentState, EResult
from testkit.batches import make_zip, manifest
from tests.conftest import make_settings

pytestmark = pytest.mark.integration
CODE = "000.00.12.H26-261206-0701"
ENV = {"SOHOA_NOTICES__EMAIL": "file", "SOHOA_NOTICES__SMS": "file"}


def sohoa(args: list[str], tmp_path: Path, pki: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | ENV | {"SOHOA_VAR_DIR": str(tmp_path / "var"), "SOHOA_SIGNING__PKI_DIR": str(pki)}
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args], env=env, capture_output=True, text=True, timeout=300
    )


def test_slip_and_notice_commands(tmp_path: Path, shared_pki_dir: Path) -> None:
    settings = make_settings(tmp_path / "var", shared_pki_dir)
    services = Services(settings.model_copy(update={"notices": NoticeSettings(email="file", sms="file")}))
    services.prepare()
    try:
        m = manifest([{"id": "don", "name": "Tờ khai", "files": ["a.jpg"]}], code=CODE)
        path = tmp_path / "batch.zip"
        contact = {"contact_email": "hoa@example.vn", "contact_phone": "0912345678"}
        path.write_bytes(make_zip(m | contact, {"a.jpg": b"\xff\xd8 scan"}))
        ingest(services, read_batch(path))
        issued = issue_result_once(services, CODE, render_result_pdf(["Kết quả"]), title="Kết quả")
        with services.catalogue.session() as s:
            s.execute(update(EResult).where(EResult.id == issued.result.id).values(state=ComponentState.DONE))
    finally:
        services.close()
    result = issued.result.code

    out = sohoa(["appointment-slip", CODE, "--size", "A4", "-o", str(tmp_path / "slip.pdf")], tmp_path, shared_pki_dir)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) | {"bytes": 0} == {
        "dossier_code": CODE,
        "size": "A4",
        "file": str(tmp_path / "slip.pdf"),
        "bytes": 0,
    }
    assert (tmp_path / "slip.pdf").read_bytes().startswith(b"%PDF")
    out = sohoa(["appointment-slip", CODE[:-1] + "9", "-o", str(tmp_path / "x.pdf")], tmp_path, shared_pki_dir)
    assert out.returncode == 1 and "NOT_FOUND" in out.stderr

    out = sohoa(["notices", "list"], tmp_path, shared_pki_dir)
    assert out.returncode == 0, out.stderr
    lines = sorted(out.stdout.splitlines())
    assert [line.split("\t")[1:5] for line in lines] == [
        [result, "email", "h***@example.vn", "pending"],
        [result, "sms", "+84******678", "pending"],
    ]
    out = sohoa(["notices", "send"], tmp_path, shared_pki_dir)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"sent": 2, "retry": 0, "failed": 0}
    (eml,) = (tmp_path / "var" / "outbox").glob("*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert message["To"] == "hoa@example.vn" and result in message.get_content()
    sms = (tmp_path / "var" / "outbox" / "sms.log").read_text()
    assert sms.startswith("+84912345678\t") and result in sms and sms.isascii()

    out = sohoa(["notices", "list", "--state", "sent", "--json"], tmp_path, shared_pki_dir)
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert {(r["channel"], r["state"], r["attempts"]) for r in rows} == {("email", "sent", 1), ("sms", "sent", 1)}
    out = sohoa(["notices", "retry", str(rows[0]["id"])], tmp_path, shared_pki_dir)
    assert out.returncode == 0 and json.loads(out.stdout)["state"] == "sent"  # a sent notice stays sent
    out = sohoa(["notices", "retry", "9999"], tmp_path, shared_pki_dir)
    assert out.returncode == 1 and "NOT_FOUND" in out.stderr


def test_each_command_closes_its_services(
    tmp_path: Path, shared_pki_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Successful or failing, a command releases its database connections (Services.close) before it ends."""
    from click.testing import CliRunner

    from cli.main import main
    from sohoa.settings import get_settings

    for name, value in (
        ENV | {"SOHOA_VAR_DIR": str(tmp_path / "var"), "SOHOA_SIGNING__PKI_DIR": str(shared_pki_dir)}
    ).items():
        monkeypatch.setenv(name, value)
    closed: list[Services] = []
    close = Services.close

    def counted(self: Services) -> None:
        closed.append(self)
        close(self)

    monkeypatch.setattr(Services, "close", counted)
    get_settings.cache_clear()
    try:
        runs = [
            (["notices", "list"], 0),
            (["notices", "send"], 0),
            (["notices", "retry", "9999"], 1),
            (["appointment-slip", CODE, "-o", str(tmp_path / "x.pdf")], 1),
        ]
        for n, (args, code) in enumerate(runs, start=1):
            result = CliRunner().invoke(main, args)
            assert result.exit_code == code, result.output
            assert len(closed) == n, args
    finally:
        get_settings.cache_clear()
