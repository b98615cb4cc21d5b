"""Admission to public checks: clients pay in sandbox seconds, a process stays for those in good standing,
files that declare absurd sizes never reach a sandbox. (Under a real flood: tests/e2e/test_verify_flood.py.)"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import anyio
import pytest
from fastapi.testclient import TestClient

from api.verify_admission import MemoryBudget, RedisBudget, SandboxShare, VerifyAdmission
from bench.api.costly_pdf import cms_hex_of, signature_heavy_pdf
from dossiers.result_render import render_result_pdf
from signing.errors import VerifyBusy
from signing.signers import sign_pdf
from testkit.scheduling import FakeClock
from testkit.servers import RATE_LIMIT_REDIS_URL
from tests.api.conftest import Api


def test_a_client_pays_the_seconds_its_checks_used_not_a_price_per_request() -> None:
    clock = FakeClock()
    budget = MemoryBudget(per_second=0.5, burst=60.0, clock=clock)
    admission = VerifyAdmission(budget, SandboxShare(2, 1), wait_s=30)
    assert admission.wait("honest") == (0.0, True)
    for _ in range(100):  # a hundred quick checks (a signed result: a fraction of a second each)
        budget.charge("honest", 0.2)
        clock.now += 1
    assert admission.wait("honest") == (0.0, True)  # they never add up to the allowance
    budget.charge("flood", 31.0)  # one file that took 31 s: over half the allowance, no longer in good standing
    assert admission.wait("flood") == (0.0, False)
    budget.charge("flood", 28.0)
    budget.charge("flood", 28.0)  # ran while the balance was still positive: the balance goes below zero
    wait, standing = admission.wait("flood")
    assert not standing and wait == pytest.approx(27.0 / 0.5, abs=0.01)  # until the balance is positive again
    clock.now += wait
    assert admission.wait("flood")[0] == 0.0
    clock.now += 10_000
    assert budget.balance("flood") == 60.0  # refilled, never above the burst


def test_a_debt_is_never_forgotten_to_make_room_for_new_clients() -> None:
    """Bounded memory without a reset: addresses sprayed to fill the table do not wipe a flooder's debt."""
    clock = FakeClock()
    budget = MemoryBudget(per_second=1.0, burst=60.0, clock=clock, max_keys=2)
    budget.charge("flood", 100.0)
    budget.charge("sprayed-1", 0.5)
    budget.charge("sprayed-2", 0.5)  # no room: new clients share one entry
    assert budget.balance("flood") == -40.0 and budget.balance("sprayed-3") == 59.5
    clock.now += 1
    assert budget.balance("flood") == -39.0  # kept, refilling
    clock.now += 100
    budget.charge("newcomer", 1.0)  # the table's entries have refilled: they go, the newcomer has its own
    assert budget.balance("newcomer") == 59.0 and budget.balance("flood") == 60.0


def run(main: Callable[[], object]) -> None:
    anyio.run(main)  # type: ignore[arg-type]


def test_one_client_never_holds_the_reserved_process() -> None:
    async def main() -> None:
        share = SandboxShare(processes=2, reserved=1)
        await share.acquire("flood", True, 1)  # its first check may take any process
        with pytest.raises(VerifyBusy):  # its second must leave the last one to others
            await share.acquire("flood", True, 0.01)
        with pytest.raises(VerifyBusy):  # nor may a client that has spent half its allowance take it
            await share.acquire("spender", False, 0.01)
        await share.acquire("citizen", True, 1)  # a citizen in good standing gets it at once
        assert share.free == 0 and share.running == {"flood": 1, "citizen": 1}
        share.release("citizen")
        share.release("flood")
        assert share.free == 2 and share.running == {}

    run(main)


def test_waiting_clients_in_good_standing_go_first_and_the_reserve_stays_free() -> None:
    async def main() -> None:
        share = SandboxShare(processes=2, reserved=1)
        order: list[str] = []
        await share.acquire("a", True, 1)
        await share.acquire("b", True, 1)

        async def wait_for(client: str, standing: bool) -> None:
            await share.acquire(client, standing, 5)
            order.append(client)

        async with anyio.create_task_group() as tg:
            tg.start_soon(wait_for, "spender", False)  # first in line, but has spent half its allowance
            await anyio.sleep(0)
            tg.start_soon(wait_for, "a", True)  # a second check of a client that has one running
            await anyio.sleep(0)
            tg.start_soon(wait_for, "citizen", True)
            await anyio.sleep(0)
            share.release("b")  # one process free: the citizen's, though it came last
            await anyio.sleep(0.01)
            assert order == ["citizen"]
            share.release("citizen")  # free again, but it is the reserve: neither "a" (busy) nor the spender
            await anyio.sleep(0.01)
            assert order == ["citizen"] and share.free == 1
            share.release("a")  # two free: one may go to those not in good standing, in arrival order
            await anyio.sleep(0.01)
            assert order == ["citizen", "a"] and share.free == 1  # "a" has none running now: it may take any
            share.release("a")
        assert order == ["citizen", "a", "spender"]
        share.release("spender")
        assert share.free == 2 and share.running == {}

    run(main)


def test_a_wait_that_is_cancelled_or_times_out_leaves_nothing_taken() -> None:
    async def main() -> None:
        share = SandboxShare(processes=1, reserved=1)  # one process: nothing can be reserved
        assert share.reserved == 0
        await share.acquire("a", True, 1)
        with anyio.move_on_after(0.01):
            await share.acquire("b", True, 10)
        with pytest.raises(VerifyBusy):
            await share.acquire("c", False, 0.01)
        share.release("a")
        assert share.free == 1 and share.running == {} and not share._waiting
        await share.acquire("c", False, 0.01)  # a client not in good standing is served when nobody else waits
        share.release("c")

    run(main)


@pytest.mark.integration
def test_the_allowance_is_shared_in_redis_between_api_processes() -> None:
    import redis

    client = redis.Redis.from_url(RATE_LIMIT_REDIS_URL)
    prefix = f"test:{uuid.uuid4().hex[:8]}:"
    first, second = RedisBudget(client, 0.5, 60.0, prefix), RedisBudget(client, 0.5, 60.0, prefix)
    try:
        assert first.balance("c") == 60.0
        assert 39.9 < first.charge("c", 20.0) <= 40.0
        assert 40.0 <= second.balance("c") < 60.0  # what one process charged, the other sees (refilling since)
        assert second.charge("c", 50.0) < 0
        wait, standing = VerifyAdmission(first, SandboxShare(2, 1), 30).wait("c")
        assert 0 < wait <= 20.01 and not standing  # in debt by about 10 s of a 0.5/s refill
        ttl = client.ttl(prefix + "c")
        assert 0 < ttl <= 142  # kept only until it would be full again: (60 + 10) / 0.5 s
    finally:
        client.delete(*client.keys(prefix + "*"))


@pytest.fixture
def signed(api: Api) -> bytes:
    return sign_pdf(render_result_pdf(["Bản sao điện tử"]), api.services.signing_key("operator"), level="B-B")


def test_a_file_declaring_a_huge_signature_is_refused_before_any_sandbox(api: Api, signed: bytes) -> None:
    flood = signature_heavy_pdf(cms_hex_of(signed), contents_hex_digits=19_600_000)
    sandbox = api.client.app.state.verifier._sandbox  # type: ignore[attr-defined]
    sandbox.close()  # a sandbox that can run nothing: the refusal must not need one
    r = api.client.post("/api/v1/verify", content=flood, headers={"Content-Type": "application/pdf"})
    assert r.status_code == 200 and r.json()["valid"] is False and r.json()["problems"] == ["pdf_too_costly"]
    page = api.client.post("/kiem-tra", files={"tep": ("x.pdf", flood, "application/pdf")})
    assert page.status_code == 200 and "quá tải hệ thống" in page.text
    etsi = api.client.post("/api/v1/verify/etsi", content=flood, headers={"Content-Type": "application/pdf"})
    assert etsi.status_code == 422 and etsi.json()["detail"]["code"] == "PDF_TOO_COSTLY"
    assert etsi.json()["detail"]["message"].startswith("Tệp PDF khai báo dữ liệu lớn bất thường")


def test_a_client_that_spent_its_seconds_waits_and_others_do_not(make_api: Callable[..., Api]) -> None:
    """An allowance of one millisecond: any real check spends it, the next is 429 until it refills."""
    api = make_api(verify_seconds_burst=0.001, verify_seconds_per_minute=0.06, metrics_token="scrape")
    signed = sign_pdf(render_result_pdf(["Bản sao điện tử"]), api.services.signing_key("operator"), level="B-B")
    pdf = {"Content-Type": "application/pdf"}
    assert api.client.post("/api/v1/verify", content=signed, headers=pdf).json()["valid"] is True
    spent = api.client.post("/api/v1/verify", content=signed, headers=pdf)
    assert spent.status_code == 429 and spent.json()["detail"]["code"] == "RATE_LIMITED"
    assert "hết thời gian xử lý" in spent.json()["detail"]["message"] and int(spent.headers["retry-after"]) >= 1
    page = api.client.post("/kiem-tra", files={"tep": ("x.pdf", signed, "application/pdf")})
    assert page.status_code == 429 and "hết thời gian xử lý" in page.text and int(page.headers["retry-after"]) >= 1
    other = TestClient(api.client.app, client=("203.0.113.9", 50000))
    assert other.post("/api/v1/verify", content=signed, headers=pdf).json()["valid"] is True
    metrics = api.client.get("/metrics", headers={"Authorization": "Bearer scrape"}).text
    assert 'sohoa_rate_limited_total{limit="verify_seconds"} 2.0' in metrics
