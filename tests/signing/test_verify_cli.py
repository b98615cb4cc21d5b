"""`sohoa verify`: which roots it trusts (never a PKI of its own making), its exit codes, the ETSI report.

Run as a user would, from a folder of their own: before, a missing ./var/pki was generated there and
every genuine document of the service was then reported untrusted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from signing.dev import DevPki
from signing.keys import SigningKey
from signing.signers import sign_pdf
from signing.timestamps import http_timestamper
from signing.validation import RevocationCache, main_indications
from testkit.pki import ServedPki

from .conftest import _make_pdf
from .test_verify_hybrid import hybrid_pdf
from .test_verify_producers import pillow_pdf, sign_with_pyhanko

pytestmark = pytest.mark.integration
Verify = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def verify(tmp_path: Path) -> Verify:
    """``sohoa verify`` in an empty folder, with no SOHOA_ setting but those given."""
    clean = {name: value for name, value in os.environ.items() if not name.startswith("SOHOA_")}

    def run(*args: str, **settings: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli.main", "verify", *args],
            cwd=tmp_path,
            env=clean | settings | {"PYTHONPATH": str(Path(__file__).resolve().parents[2])},
            capture_output=True,
            text=True,
            timeout=300,
        )

    return run


@pytest.fixture(scope="module")
def pillow_signed(tmp_path_factory: pytest.TempPathFactory, operator_key: SigningKey) -> Path:
    path = tmp_path_factory.mktemp("docs") / "pillow-signed.pdf"
    path.write_bytes(sign_with_pyhanko(pillow_pdf(), operator_key))
    return path


def test_without_roots_it_says_so_and_creates_nothing(verify: Verify, pillow_signed: Path, tmp_path: Path) -> None:
    vi = verify(str(pillow_signed))
    assert vi.returncode == 2, vi.stdout + vi.stderr
    assert (
        vi.stdout.startswith("LỖI TRUST_ROOTS_NOT_CONFIGURED: Chưa có chứng thư số gốc") and "--trust-root" in vi.stdout
    )
    en = verify(str(pillow_signed), "--lang", "en", "--json")
    assert en.returncode == 2
    error = json.loads(en.stdout)["error"]
    assert error["code"] == "TRUST_ROOTS_NOT_CONFIGURED" and "No trust roots" in error["message_en"]
    assert not (tmp_path / "var").exists()


def test_trust_root_option(verify: Verify, pillow_signed: Path, pki: DevPki, tmp_path: Path) -> None:
    out = verify(str(pillow_signed), "--trust-root", str(pki.root_cert))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Tài liệu hợp lệ" in out.stdout
    assert f"Chứng thư gốc được tin cậy: {pki.root_cert} (--trust-root)" in out.stderr
    assert not (tmp_path / "var").exists()


def test_an_existing_development_pki_is_used(verify: Verify, pillow_signed: Path, pki: DevPki) -> None:
    out = verify(str(pillow_signed), "--json", SOHOA_SIGNING__PKI_DIR=str(pki.directory))
    assert out.returncode == 0, out.stdout + out.stderr
    assert json.loads(out.stdout)["valid"] is True
    assert "PKI phát triển" in out.stderr


def test_configured_trust_roots_are_used(
    verify: Verify, pillow_signed: Path, served: ServedPki, pki: DevPki, tmp_path: Path
) -> None:
    """A verify-only host: trust roots (and a TSA) configured; a development PKI lying around is not trusted."""
    settings = {
        "SOHOA_SIGNING__TRUST_ROOTS": json.dumps([str(served.root_cert)]),
        "SOHOA_SIGNING__TSA_URL": served.tsa_url,
        "SOHOA_SIGNING__PKI_DIR": str(pki.directory),
    }
    signed = sign_pdf(_make_pdf(1), served.key("operator"), level="B-T", timestamper=http_timestamper(served.tsa_url))
    (tmp_path / "served.pdf").write_bytes(signed)

    ok = verify(str(tmp_path / "served.pdf"), **settings)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "(SOHOA_SIGNING__TRUST_ROOTS)" in ok.stderr
    untrusted = verify(str(pillow_signed), "--json", **settings)
    assert untrusted.returncode == 1 and "untrusted" in json.loads(untrusted.stdout)["signatures"][0]["problems"]
    assert "Traceback" not in untrusted.stderr  # an untrusted chain is a verdict, not a fault


def test_etsi_report_next_to_the_json_one(verify: Verify, served: ServedPki, tmp_path: Path) -> None:
    pdf = tmp_path / "b-lt.pdf"
    tsa = http_timestamper(served.tsa_url)
    pdf.write_bytes(
        sign_pdf(_make_pdf(1), served.key("agency"), level="B-LT", timestamper=tsa, revocation=RevocationCache())
    )  # type: ignore[arg-type]
    xml = tmp_path / "report.xml"

    out = verify(str(pdf), "--json", "--trust-root", str(served.root_cert), "--etsi-report", str(xml))
    assert out.returncode == 0, out.stdout + out.stderr
    assert json.loads(out.stdout)["valid"] is True
    assert main_indications(xml.read_text(encoding="utf-8")) == ["total-passed"]
    assert f"Báo cáo ETSI TS 119 102-2: {xml}" in out.stderr


def test_hybrid_file_is_explained(verify: Verify, pki: DevPki, operator_key: SigningKey, tmp_path: Path) -> None:
    pdf = tmp_path / "hybrid.pdf"
    pdf.write_bytes(sign_with_pyhanko(hybrid_pdf(), operator_key))
    xml = tmp_path / "report.xml"

    out = verify(str(pdf), "--trust-root", str(pki.root_cert), "--etsi-report", str(xml))
    assert out.returncode == 2, out.stdout + out.stderr
    assert "bảng tham chiếu lai" in out.stdout and "bị hỏng" not in out.stdout
    assert not xml.exists() and "Không ghi báo cáo ETSI" in out.stderr
    en = verify(str(pdf), "--trust-root", str(pki.root_cert), "--lang", "en")
    assert en.returncode == 2 and "hybrid cross-reference sections" in en.stdout
