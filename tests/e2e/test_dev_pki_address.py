"""The running service is where the development PKI's certificates send a relying party.

As a user met it: ``sohoa sign`` made the development PKI (naming port 8000), then the service was
started on another port; pdfsig, which asks the OCSP responder a certificate names, could not trust
anything. The service now re-issues the PKI's certificates (same keys) for the address it serves.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from cryptography import x509

from dossiers.result_render import render_result_pdf
from signing.dev import existing_dev_pki
from testkit.poppler import pdfsig
from tests.e2e.service import running_service

pytestmark = pytest.mark.integration


def _sohoa(args: list[str], var: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOHOA_")} | {"SOHOA_VAR_DIR": str(var)}
    return subprocess.run([sys.executable, "-m", "cli.main", *args], env=env, capture_output=True, text=True)


def test_a_pki_made_by_the_cli_names_the_service_once_it_runs(tmp_path: Path) -> None:
    var = tmp_path / "var"
    source = tmp_path / "kq.pdf"
    source.write_bytes(render_result_pdf(["Kết quả thử nghiệm địa chỉ dịch vụ"]))
    first = _sohoa(["sign", str(source), "--out", str(tmp_path / "before"), "--level", "B-B"], var)
    assert first.returncode == 0, first.stderr
    made = existing_dev_pki(var / "pki")
    assert made is not None and made.base_url == "http://127.0.0.1:8000/dev/pki"

    with running_service(var, var / "pki", keep_pki_url=False) as svc:
        pki = existing_dev_pki(var / "pki")
        assert pki is not None and pki.base_url == f"{svc['base']}/dev/pki"
        agency = x509.load_pem_x509_certificate((pki.directory / "agency.pem").read_bytes())
        aia = agency.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
        assert [d.access_location.value for d in aia] == [f"{svc['base']}/dev/pki/ocsp"]
        crl = httpx.get(f"{svc['base']}/dev/pki/ca.crl", timeout=10)
        ca = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
        assert crl.status_code == 200 and x509.load_der_x509_crl(crl.content).is_signature_valid(ca.public_key())

        signed = _sohoa(["sign", str(source), "--out", str(tmp_path / "after"), "--level", "B-T"], var)
        assert signed.returncode == 0, signed.stderr
        nss = tmp_path / "nss"
        nss.mkdir()
        subprocess.run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True, capture_output=True)
        subprocess.run(
            ["certutil", "-A", "-d", f"sql:{nss}", "-n", "root", "-t", "CT,C,C", "-i", str(pki.root_cert)], check=True
        )
        report = pdfsig(tmp_path / "after" / "kq.pdf", f"sql:{nss}")
        assert "Signature is Valid." in report and "Certificate is Trusted." in report, report
