"""One client flooding public verification with costly PDFs does not lock citizens out (issue 17, item 2).

As it was met: four connections sending PDFs that each cost a verifier seconds held both sandbox
processes and every verification thread, and citizens' checks were answered 503 VERIFY_BUSY. Here
the real service runs (``sohoa serve``); one client (127.0.0.1) floods on four keep-alive
connections with files just under the declared-size bounds (seconds of a core each) after one
19.6 MB ``/Contents``, while a citizen on another address (127.0.0.2: Linux routes all of 127/8 to
loopback) checks a real signed result ten times. Every citizen's check must be answered.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench.api.costly_pdf import cms_hex_of, signature_heavy_pdf
from dossiers.result_render import render_result_pdf
from signing.dev import ensure_dev_pki
from signing.keys import load_pkcs12_signer
from signing.signers import sign_pdf
from tests.e2e.service import running_service

pytestmark = pytest.mark.integration

FLOOD_CONNECTIONS = 4
HONEST_CHECKS = 10
PDF = {"Content-Type": "application/pdf"}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, shared_pki_dir: Path) -> Iterator[dict]:
    env = {
        "SOHOA_API__VERIFY_TIMEOUT_S": "20",  # a waiting check gives up (503) after this
        "SOHOA_API__VERIFY_PER_MINUTE_PER_IP": "6000",  # counting requests is not what is under test
        "SOHOA_API__VERIFY_BURST_PER_IP": "1000",
        "SOHOA_API__VERIFY_SECONDS_BURST": "600",  # nor the budget: the flood goes on all through the test
    }
    with running_service(tmp_path_factory.mktemp("flood") / "var", shared_pki_dir, **env) as svc:
        yield svc


def test_citizens_are_answered_while_one_client_floods(service: dict, shared_pki_dir: Path) -> None:
    pki = ensure_dev_pki(shared_pki_dir)
    signed = sign_pdf(render_result_pdf(["Kết quả kiểm tra"]), load_pkcs12_signer(pki.operator_p12, pki.passphrase()))
    cms = cms_hex_of(signed)
    huge = signature_heavy_pdf(cms, contents_hex_digits=19_600_000)
    costly = signature_heavy_pdf(cms, contents_hex_digits=2_000_000)  # under the bound: seconds of a core
    stop, flooding = threading.Event(), threading.Barrier(FLOOD_CONNECTIONS + 1, timeout=300)
    flood_answers: Counter[str] = Counter()
    huge_answer: list[dict] = []
    flood_errors: list[BaseException] = []

    def flood(n: int) -> None:
        try:
            flood_once(n)
        except BaseException as exc:  # reported below; a broken barrier lets the main thread go on
            flood_errors.append(exc)
            flooding.abort()

    def flood_once(n: int) -> None:
        with httpx.Client(base_url=service["base"], timeout=120) as client:
            if n == 0:
                huge_answer.append(client.post("/api/v1/verify", content=huge, headers=PDF).json())
            first = True
            while not stop.is_set():
                r = client.post("/api/v1/verify", content=costly, headers=PDF)
                flood_answers[str(r.status_code)] += 1
                if first:
                    first = False
                    flooding.wait()  # every connection has had an answer: the flood is in full swing

    threads = [threading.Thread(target=flood, args=(n,)) for n in range(FLOOD_CONNECTIONS)]
    for thread in threads:
        thread.start()
    citizen = httpx.Client(
        base_url=service["base"], timeout=120, transport=httpx.HTTPTransport(local_address="127.0.0.2")
    )
    answers = []
    try:
        flooding.wait()
        for n in range(HONEST_CHECKS):
            if n % 2:
                page = citizen.post("/kiem-tra", files={"tep": ("kq.pdf", signed, "application/pdf")})
                answers.append((page.status_code, "hợp lệ" in page.text and "KHÔNG hợp lệ" not in page.text))
            else:
                r = citizen.post("/api/v1/verify", content=signed, headers=PDF)
                answers.append((r.status_code, r.status_code == 200 and r.json()["valid"]))
    finally:
        stop.set()
        for thread in threads:
            thread.join(180)
        citizen.close()
    assert flood_errors == []
    assert answers == [(200, True)] * HONEST_CHECKS, (answers, flood_answers)
    assert huge_answer[0]["problems"] == ["pdf_too_costly"]  # refused by what it declares, not verified
    assert flood_answers["200"] >= FLOOD_CONNECTIONS  # the flood was answered too, one check at a time
