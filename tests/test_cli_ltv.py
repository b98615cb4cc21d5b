"""`sohoa sign --level B-LTA` works on the embedded defaults, with no service running.

The CLI runs as a process of its own with a fresh ``var`` and an API port nothing listens on: the
development PKI's CRL/OCSP URLs (under that port) can only be answered in-process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509

from dossiers.result_render import render_result_pdf
from signing.dev import DevPkiHttp, ensure_dev_pki, revoke
from testkit.poppler import pdfsig
from testkit.servers import free_port
from tests.devpki_v1 import write_v1_pki

pytestmark = pytest.mark.integration


def sohoa(args: list[str], var: Path, port: int) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOHOA_")}
    env |= {"SOHOA_VAR_DIR": str(var), "SOHOA_API__PORT": str(port)}
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args], env=env, capture_output=True, text=True, timeout=600
    )


def _source(tmp_path: Path) -> Path:
    src = tmp_path / "in.pdf"
    src.write_bytes(render_result_pdf(["Kết quả thử nghiệm ký số dài hạn"]))
    return src


def _verified_level(path: Path, var: Path, port: int) -> dict:
    out = sohoa(["verify", str(path), "--json"], var, port)
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads(out.stdout)
    assert report["valid"] is True, report
    return report["signatures"][0]


def test_sign_b_lta_on_the_embedded_defaults_without_the_service(tmp_path: Path) -> None:
    var, port = tmp_path / "var", free_port()
    signed = sohoa(["sign", str(_source(tmp_path)), "--out", str(tmp_path / "out"), "--level", "B-LTA"], var, port)
    assert signed.returncode == 0, signed.stderr
    manifest = json.loads((var / "pki" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["base_url"] == f"http://127.0.0.1:{port}/dev/pki"
    signature = _verified_level(tmp_path / "out" / "in.pdf", var, port)
    assert signature["level"] == "B-LTA" and signature["revocation"] == "good"

    # pdfsig asks the OCSP responder the certificates name: serve it there, as the service does.
    pki = ensure_dev_pki(var / "pki")
    nss = tmp_path / "nss"
    nss.mkdir()
    subprocess.run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True, capture_output=True)
    subprocess.run(
        ["certutil", "-A", "-d", f"sql:{nss}", "-n", "root", "-t", "CT,C,C", "-i", str(pki.root_cert)], check=True
    )
    server = DevPkiHttp(port)
    try:
        report = pdfsig(tmp_path / "out" / "in.pdf", f"sql:{nss}")
    finally:
        server.stop()
    first = report.split("Signature #2")[0]
    assert "Signature is Valid." in first and "Certificate is Trusted." in first, report
    assert "Signature #2" in report  # the document time-stamp of B-LTA


def test_an_old_pki_is_upgraded_and_a_revoked_tsa_refuses_b_lta(tmp_path: Path) -> None:
    var, port = tmp_path / "var", free_port()
    write_v1_pki(var / "pki")
    src = _source(tmp_path)
    signed = sohoa(["sign", str(src), "--out", str(tmp_path / "out"), "--level", "B-LTA"], var, port)
    assert signed.returncode == 0, signed.stderr
    assert _verified_level(tmp_path / "out" / "in.pdf", var, port)["level"] == "B-LTA"

    pki = ensure_dev_pki(var / "pki")
    revoke(pki, x509.load_pem_x509_certificate((pki.directory / "tsa.pem").read_bytes()).serial_number)
    refused = sohoa(["sign", str(src), "--out", str(tmp_path / "again"), "--level", "B-LTA"], var, port)
    assert refused.returncode == 1 and "SIGNER_CERT_REVOKED" in refused.stderr, refused.stderr
