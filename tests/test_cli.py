"""The CLI contract: command names, JSON shapes and exit codes other tools rely on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def sohoa(args: list[str], tmp_path: Path, pki: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"SOHOA_VAR_DIR": str(tmp_path / "var"), "SOHOA_SIGNING__PKI_DIR": str(pki)}
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.parametrize(
    "command",
    [
        "serve",
        "ingest",
        "resend",
        "reuse",
        "digitize",
        "sign",
        "verify",
        "worker",
        "demo",
        "keys",
        "migrate",
        "officers",
        "classifier",
        "centres",
        "agencies",
        "grants",
        "appointment-slip",
        "notices",
    ],
)
def test_every_command_has_help(command: str, tmp_path: Path, shared_pki_dir: Path) -> None:
    out = sohoa([command, "--help"], tmp_path, shared_pki_dir, timeout=60)
    assert out.returncode == 0 and "Usage:" in out.stdout


def test_digitize_json_lines_for_good_and_bad_inputs(tmp_path: Path, shared_pki_dir: Path, sample_batch: Path) -> None:
    manifest = json.loads((sample_batch / "manifest.json").read_text())
    good = sample_batch / manifest["components"][0]["files"][0]
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image at all")
    out = sohoa(["digitize", str(good), str(bad), "--json", "--out", str(tmp_path / "out")], tmp_path, shared_pki_dir)
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [line["ok"] for line in lines] == [True, False]
    ok, err = lines
    assert {"file", "ok", "type", "confidence", "pages", "fields", "pdf"} <= ok.keys()
    assert ok["type"] == manifest["components"][0]["declared_type"] and Path(ok["pdf"]).exists()
    assert ok["pages"][0]["text"] and 0 < ok["pages"][0]["confidence"] <= 1
    assert err["file"] == str(bad) and err["error"]["code"] == "NOT_AN_IMAGE" and err["error"]["message"]


def test_demo_runs_end_to_end_and_every_signature_validates(tmp_path: Path, shared_pki_dir: Path) -> None:
    out = sohoa(["demo"], tmp_path, shared_pki_dir)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "-KQ1 (done)" in out.stdout
    assert "trang/s" in out.stdout
    assert "KHÔNG" not in out.stdout


def test_sign_and_verify_commands(tmp_path: Path, shared_pki_dir: Path) -> None:
    from dossiers.result_render import render_result_pdf

    src = tmp_path / "in.pdf"
    src.write_bytes(render_result_pdf(["Kết quả thử nghiệm"]))
    signed = sohoa(["sign", str(src), "--out", str(tmp_path / "out"), "--level", "B-T"], tmp_path, shared_pki_dir)
    assert signed.returncode == 0, signed.stderr
    verified = sohoa(["verify", str(tmp_path / "out" / "in.pdf"), "--json"], tmp_path, shared_pki_dir)
    assert verified.returncode == 0, verified.stdout
    assert json.loads(verified.stdout)["valid"] is True
    unsigned = sohoa(["verify", str(src)], tmp_path, shared_pki_dir)
    assert unsigned.returncode == 1


def test_serve_port_is_the_port_the_service_names(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``serve --port N`` binds N and is the settings' port, which the development PKI's CRL and OCSP URLs name."""
    import uvicorn
    from click.testing import CliRunner

    import api.app
    from cli.main import main

    bound: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **bind: bound.update(bind))
    monkeypatch.setattr(api.app, "create_app", lambda settings, ingest_sample=False: bound.update(settings=settings))
    monkeypatch.setenv("SOHOA_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("SOHOA_API__PORT", raising=False)
    monkeypatch.delenv("SOHOA_SIGNING__DEV_PKI_URL", raising=False)
    before = dict(os.environ)
    result = CliRunner().invoke(main, ["serve", "--port", "8123"])
    assert result.exit_code == 0, result.output
    settings = bound["settings"]
    assert bound["port"] == 8123 and settings.api.port == 8123  # type: ignore[attr-defined]
    assert settings.dev_pki_url == "http://127.0.0.1:8123/dev/pki"  # type: ignore[attr-defined]
    assert dict(os.environ) == before  # one process: nothing is left in the environment of the caller


def _serve_captured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *args: str) -> dict[str, object]:
    """What ``sohoa serve ARGS`` would hand uvicorn.run, and the settings it would build the app with."""
    import uvicorn
    from click.testing import CliRunner

    import api.app
    from cli.main import main
    from sohoa.settings import get_settings

    bound: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **bind: bound.update(bind))
    monkeypatch.setattr(api.app, "create_app", lambda settings, ingest_sample=False: bound.update(settings=settings))
    monkeypatch.setenv("SOHOA_VAR_DIR", str(tmp_path / "var"))
    for name in ("SOHOA_API__PORT", "SOHOA_API__PUBLIC_BASE_URL", "SOHOA_SIGNING__DEV_PKI_URL"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()  # the command reads this environment, not one cached before
    try:
        result = CliRunner().invoke(main, ["serve", *args])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    return bound


def test_serve_port_is_the_public_address_and_no_forwarding_header_is_trusted(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``serve --port N``: QR codes, agency links and ingest name port N; X-Forwarded-For is believed from no one."""
    bound = _serve_captured(monkeypatch, tmp_path, "--port", "8123")
    assert bound["settings"].api.base_url == "http://127.0.0.1:8123"  # type: ignore[attr-defined]
    assert bound["proxy_headers"] is False and bound["forwarded_allow_ips"] == []
    monkeypatch.setenv("SOHOA_API__TRUSTED_PROXIES", '["10.0.0.5"]')
    bound = _serve_captured(monkeypatch, tmp_path, "--port", "8123")
    assert bound["proxy_headers"] is True and "10.0.0.5/32" in bound["forwarded_allow_ips"]  # type: ignore[operator]


def test_ingest_pushes_to_the_configured_port_by_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from click.testing import CliRunner

    import cli.station_client
    from cli.main import main
    from sohoa.settings import get_settings

    pushed: list[str] = []

    def push(url: str, key: str, path: Path, idempotency_key: str | None) -> dict:
        pushed.append(url)
        return {"dossier_code": "x", "state": "done", "components": []}

    monkeypatch.setattr(cli.station_client, "push_and_follow", push)
    monkeypatch.setenv("SOHOA_API__PORT", "8123")
    monkeypatch.delenv("SOHOA_API__PUBLIC_BASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main, ["ingest", str(tmp_path), "--key", "k"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert pushed == ["http://127.0.0.1:8123"]
