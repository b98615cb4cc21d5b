"""The service's front door over real sockets: forwarding headers, public links, metrics, slow clients.

One real ``sohoa serve`` on a free loopback port, configured as behind a reverse proxy at
127.0.0.2 (``SOHOA_API__TRUSTED_PROXIES``); a client connecting from 127.0.0.1 stands for a
local proxy that passes a client's ``X-Forwarded-For`` on unchanged, or for anyone else on the
host. No public base URL is set: the service's links must name the port it was given.
"""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image
from pyzbar.pyzbar import decode

from dossiers.services import Services
from storage.catalogue.models import ClientRole
from storage.warehouse.sharing import grant_access, register_agency
from tests.api.conftest import APPLICANT_ID, add_signed_document
from tests.conftest import make_settings
from tests.e2e.service import running_service

pytestmark = pytest.mark.integration

PROXY = "127.0.0.2"  # the one trusted proxy; 127.0.0.1 is not trusted (uvicorn alone trusts it)
METRICS_TOKEN = "scrape-token-for-tests"
HEAD_TIMEOUT_S = 2
BODY_TIMEOUT_S = 3
AGENCY = "000.00.13.H26"
PURPOSE = "giải quyết thủ tục đăng ký kết hôn"
DOSSIER = "000.00.12.H26-261121-0401"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, shared_pki_dir: Path) -> Iterator[dict]:
    env = {
        "SOHOA_API__TRUSTED_PROXIES": json.dumps([PROXY]),
        "SOHOA_API__METRICS_TOKEN": METRICS_TOKEN,
        "SOHOA_API__HEADER_TIMEOUT_S": str(HEAD_TIMEOUT_S),
        "SOHOA_API__BODY_TIMEOUT_S": str(BODY_TIMEOUT_S),
        "SOHOA_API__VERIFY_BURST_PER_IP": "3",
        "SOHOA_API__VERIFY_PER_MINUTE_PER_IP": "0.01",  # no refill while the test runs
    }
    with running_service(tmp_path_factory.mktemp("front") / "var", shared_pki_dir, **env) as svc:
        yield svc


def connect(service: dict, source: str = "127.0.0.1") -> socket.socket:
    return socket.create_connection(("127.0.0.1", service["port"]), timeout=60, source_address=(source, 0))


def read_until_closed(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def verify_statuses(client: httpx.Client, forwarded_for: list[str]) -> list[int]:
    """POST /api/v1/verify once per X-Forwarded-For value; 429 once the client's quota (3) is spent."""
    return [
        client.post("/api/v1/verify", content=b"not a pdf", headers={"X-Forwarded-For": address}).status_code
        for address in forwarded_for
    ]


def test_forwarded_for_from_a_peer_that_is_not_a_trusted_proxy_is_ignored(service: dict) -> None:
    """A client behind a local proxy that passes the header on cannot pick a fresh address per request."""
    with httpx.Client(base_url=service["base"]) as client:  # from 127.0.0.1, loopback but not trusted
        statuses = verify_statuses(client, [f"198.51.100.{n}" for n in range(1, 7)])
    assert 429 not in statuses[:3] and statuses[3:] == [429, 429, 429], statuses


def test_forwarded_for_from_a_trusted_proxy_names_the_client(service: dict) -> None:
    transport = httpx.HTTPTransport(local_address=PROXY)
    with httpx.Client(base_url=service["base"], transport=transport) as proxy:
        statuses = verify_statuses(proxy, ["203.0.113.7"] * 3 + ["198.51.100.99, 203.0.113.7", "203.0.113.8"])
    # The client is the address the proxy appended (the rightmost one not trusted): one prepended by the
    # client itself is no fresh identity, and another client keeps a quota of its own.
    assert 429 not in statuses[:3] and statuses[3] == 429 and statuses[4] != 429, statuses


@pytest.fixture(scope="module")
def shared_document(service: dict) -> Iterator[Services]:
    """A signed document of the applicant, an agency granted it, and the test's view of the service's data."""
    services = Services(make_settings(service["var"], service["pki"]))
    add_signed_document(services, owner_id=APPLICANT_ID, doc_type="birth_certificate", code=DOSSIER)
    register_agency(services.catalogue, AGENCY, "UBND phường Hoàn Kiếm")
    grant_access(services.catalogue, AGENCY, ["birth_certificate"], PURPOSE)
    yield services
    services.close()


def test_agency_links_name_the_public_address_whatever_the_host_header(
    service: dict, shared_document: Services
) -> None:
    from storage.catalogue.clients import create_client

    key = create_client(shared_document.catalogue, "UBND phường Hoàn Kiếm", ClientRole.AGENCY, AGENCY)
    reply = httpx.get(
        f"{service['base']}/api/v1/agency/documents",
        params={"owner_id": APPLICANT_ID, "purpose": PURPOSE},
        headers={"Authorization": f"Bearer {key}", "Host": "evil.example"},
    )
    assert reply.status_code == 200, reply.text
    [document] = reply.json()["documents"]
    assert document["url"].startswith(f"http://127.0.0.1:{service['port']}/objects/"), document["url"]
    fetched = httpx.get(document["url"])
    assert fetched.status_code == 200 and fetched.content.startswith(b"%PDF")


def test_the_qr_code_of_an_e_result_names_the_port_the_service_was_given(
    service: dict, shared_document: Services, tmp_path: Path
) -> None:
    officer = httpx.Client(base_url=service["base"], headers={"Authorization": f"Bearer {service['officer_key']}"})
    spec = {"title": "Giấy xác nhận", "body": ["Nội dung thử nghiệm."], "level": "B-B"}
    issued = officer.post(f"/api/v1/dossiers/{DOSSIER}/results/from-template", json=spec)
    assert issued.status_code == 202, issued.text
    code = issued.json()["code"]
    for _ in range(600):
        view = officer.get(f"/api/v1/results/{code}").json()
        if view["state"] in ("done", "failed"):
            break
        time.sleep(0.1)
    assert view["state"] == "done", view
    (tmp_path / "kq.pdf").write_bytes(officer.get(view["download_url"]).content)
    page = tmp_path / "page"
    subprocess.run(
        ["pdftoppm", "-r", "150", "-f", "1", "-l", "1", "-png", str(tmp_path / "kq.pdf"), str(page)], check=True
    )
    [qr] = [d.data.decode("utf-8") for d in decode(Image.open(next(tmp_path.glob("page*.png"))))]
    assert f"http://127.0.0.1:{service['port']}/tra-cuu/ket-qua/{code}" in qr, qr


def test_metrics_need_the_token_even_from_loopback(service: dict) -> None:
    """Behind a reverse proxy on the same host every request comes from loopback: that proves nothing."""
    assert httpx.get(f"{service['base']}/metrics").status_code == 403
    scraped = httpx.get(f"{service['base']}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert scraped.status_code == 200 and "sohoa_http_requests_total" in scraped.text


def test_a_request_head_sent_byte_by_byte_is_cut_off_while_other_clients_are_served(service: dict) -> None:
    with connect(service) as slow:
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        answer = b""
        for step in range(240):  # up to a minute of one byte every 0.25 s; the deadline is HEAD_TIMEOUT_S
            if step == 2:
                assert httpx.get(f"{service['base']}/healthz").status_code == 200  # a normal client meanwhile
            if select.select([slow], [], [], 0.25)[0]:
                answer = read_until_closed(slow)
                break
            slow.sendall(b"a")
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert "quá chậm" in answer.decode()


def test_a_connection_that_sends_nothing_is_closed(service: dict) -> None:
    with connect(service) as idle:
        assert read_until_closed(idle) == b""  # closed, no response (socket timeout: 60 s)


def test_a_request_head_larger_than_the_limit_is_refused(service: dict) -> None:
    line = b"X-Big: " + b"a" * 1000 + b"\r\n"
    with connect(service) as big:
        big.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + line * 70)  # 70 KB, head not finished
        try:
            answer = read_until_closed(big)
        except ConnectionResetError:  # the rest of what we sent was unread when it closed
            answer = b"reset"
    assert answer.startswith(b"HTTP/1.1 431 ") or answer == b"reset", answer[:200]


def _upload_head(service: dict, length: int) -> bytes:
    return (
        f"POST /api/v1/batches HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {service['station_key']}\r\n"
        f"Content-Type: application/zip\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def test_a_stalled_upload_is_answered_408_and_the_connection_closed(service: dict) -> None:
    with connect(service) as stalled:
        stalled.sendall(_upload_head(service, 100_000) + b"PK\x03\x04" + b"\0" * 996)
        assert httpx.get(f"{service['base']}/healthz").status_code == 200  # a normal client meanwhile
        answer = read_until_closed(stalled)  # nothing more is sent; the socket's timeout is 60 s
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 "), answer[:300]
    error = json.loads(body)["detail"]
    assert error["code"] == "UPLOAD_STALLED" and "gián đoạn" in error["message"]


def test_a_slow_upload_that_keeps_moving_is_not_cut(service: dict) -> None:
    """The body deadline is on silence, not on the whole upload: this one takes longer than the deadline."""
    with connect(service) as slow:
        slow.sendall(_upload_head(service, 100_000))
        sent = 0
        for _ in range(4 * BODY_TIMEOUT_S):  # about 1.2 s longer than the deadline in all
            slow.sendall(b"\0" * 1000)
            sent += 1000
            time.sleep(0.3)
        slow.sendall(b"\0" * (100_000 - sent))
        head = slow.recv(65536)
    assert head.startswith(b"HTTP/1.1 4") and not head.startswith(b"HTTP/1.1 408"), head[:300]  # not a zip: 4xx


@pytest.fixture(scope="module")
def processes(tmp_path_factory: pytest.TempPathFactory, shared_pki_dir: Path) -> Iterator[dict]:
    """``sohoa serve --processes 2`` (distributed mode: Redis for the shared limits and as the broker)."""
    redis = os.environ.get("SOHOA_TEST_RATE_LIMIT_REDIS_URL", "redis://127.0.0.1:6379/12")
    env = {
        "SOHOA_WORKERS__MODE": "celery",
        "SOHOA_WORKERS__BROKER_URL": redis,
        "SOHOA_API__RATE_LIMIT_REDIS_URL": redis,
        "SOHOA_API__RATE_LIMIT_PREFIX": f"test:{uuid.uuid4().hex[:12]}:",
        "SOHOA_API__HEADER_TIMEOUT_S": str(HEAD_TIMEOUT_S),
        "SOHOA_API__VERIFY_BURST_PER_IP": "3",
        "SOHOA_API__VERIFY_PER_MINUTE_PER_IP": "0.01",
    }
    var = tmp_path_factory.mktemp("front-processes") / "var"
    with running_service(var, shared_pki_dir, args=("--processes", "2"), **env) as svc:
        yield svc


def test_every_api_process_ignores_forwarding_headers_and_cuts_slow_heads(processes: dict) -> None:
    """The same front door when several processes serve the port: each was started with the same options."""
    with httpx.Client(base_url=processes["base"]) as client:
        statuses = verify_statuses(client, [f"198.51.100.{n}" for n in range(1, 5)])
    assert 429 not in statuses[:3] and statuses[3] == 429, statuses
    slow = [connect(processes) for _ in range(8)]  # the kernel spreads new connections over both processes
    try:
        for sock in slow:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        assert all(read_until_closed(sock).startswith(b"HTTP/1.1 408 ") for sock in slow)
    finally:
        for sock in slow:
            sock.close()
