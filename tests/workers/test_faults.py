"""Fault tests on real Celery workers: killed processes and a restarted broker lose and duplicate nothing.

100 components are in flight on a 2-process worker; the catalogue's leases and the
dispatcher must bring every component to one final state, with one document each.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dossiers.batch_reader import read_batch
from dossiers.intake import ingest
from dossiers.services import Services
from testkit.batches import many_components_batch
from testkit.faults import CeleryWorker, audit_exactly_once, settled
from testkit.servers import PrivateRedis, SeaweedS3
from tests.conftest import make_settings, s3_storage
from workers.dispatcher import Dispatcher

pytestmark = pytest.mark.integration
COMPONENTS = 100
LEASE = 6
OUTAGE_S = 30


@pytest.fixture(params=["local"])
def cluster(request: pytest.FixtureRequest, tmp_path: Path, shared_pki_dir: Path) -> Iterator[dict]:
    broker = PrivateRedis(tmp_path)
    broker.start()
    settings = make_settings(
        tmp_path / "var", shared_pki_dir, mode="celery", broker_url=broker.url, lease_seconds=LEASE
    )
    s3 = None
    if request.param == "s3":
        s3 = SeaweedS3(tmp_path / "s3").start()
        settings = settings.model_copy(update={"storage": s3_storage(s3, bucket_prefix="faults")})
    services = Services(settings)
    services.prepare()
    for n, code in enumerate(("000.00.12.H26-261121-0101", "000.00.12.H26-261121-0102")):
        ingest(services, read_batch(many_components_batch(tmp_path / f"b{n}.zip", code, COMPONENTS // 2)))
    env = {
        "SOHOA_VAR_DIR": str(settings.var_dir),
        "SOHOA_SIGNING__PKI_DIR": str(shared_pki_dir),
        "SOHOA_WORKERS__MODE": "celery",
        "SOHOA_WORKERS__BROKER_URL": broker.url,
        "SOHOA_WORKERS__LEASE_SECONDS": str(LEASE),
    }
    if s3 is not None:
        env |= {
            "SOHOA_STORAGE__BACKEND": "s3",
            "SOHOA_STORAGE__S3_ENDPOINT": s3.endpoint,
            "SOHOA_STORAGE__S3_ACCESS_KEY": s3.access_key,
            "SOHOA_STORAGE__S3_SECRET_KEY": s3.secret_key,
            "SOHOA_STORAGE__BUCKET_PREFIX": "faults",
        }
    worker = CeleryWorker(env, tmp_path / "worker.log")
    worker.start()
    dispatcher = Dispatcher(services)
    dispatcher.start()
    yield {"services": services, "worker": worker, "broker": broker, "s3": s3, "log": tmp_path / "worker.log"}
    dispatcher.stop()
    worker.stop()
    broker.stop()
    services.close()
    if s3 is not None:
        s3.cleanup()


def wait_until_settled(services: Services, log: Path, timeout: float = 400, tick=None) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        finished, total = settled(services)
        if finished == total:
            return
        if tick:
            tick(finished, total)
        time.sleep(0.5)
    pytest.fail(f"only {settled(services)} settled; worker log tail: {log.read_text()[-2000:]}")


def test_killing_workers_repeatedly_loses_and_duplicates_nothing(cluster: dict) -> None:
    services, worker = cluster["services"], cluster["worker"]
    # Kills at set points of progress (components settled), so that all of them land however
    # fast this machine is: worker processes mid-step, then the whole host, then processes again.
    plan = [(5, "child"), (15, "child"), (25, "child"), (35, "main"), (50, "child"), (65, "child")]
    kills = {"children": 0, "main": 0}

    def tick(finished: int, total: int) -> None:
        if worker.proc is not None and worker.proc.poll() is not None:
            worker.start()  # a supervisor (systemd, compose) restarts a worker that exited
        if not plan or finished < plan[0][0]:
            return
        if plan[0][1] == "main":
            worker.kill()  # the whole worker host dies...
            time.sleep(1)
            worker.start()  # ...and comes back
            kills["main"] += 1
        elif worker.kill_child():
            kills["children"] += 1
        else:
            return  # no busy process right now: try again on the next tick
        plan.pop(0)

    wait_until_settled(services, cluster["log"], tick=tick)
    counts = audit_exactly_once(services)
    print(json.dumps({"fault": "kill -9", **kills, **counts}))
    assert plan == [] and kills == {"children": 5, "main": 1}
    assert counts == {"components": COMPONENTS, "done": COMPONENTS, "failed": 0, "documents": COMPONENTS}


def test_restarting_the_broker_loses_and_duplicates_nothing(cluster: dict) -> None:
    services, broker, worker = cluster["services"], cluster["broker"], cluster["worker"]
    restarted, worker_restarts = False, 0

    def tick(finished: int, total: int) -> None:
        nonlocal restarted, worker_restarts
        if worker.proc is not None and worker.proc.poll() is not None:
            # kombu's Redis transport can exit the worker on a lost connection ("Unrecoverable
            # error: AttributeError … 'hostname'", celery/kombu#582); its supervisor restarts it.
            worker.start()
            worker_restarts += 1
        if not restarted and finished >= 10:
            broker.stop()  # queued messages are gone with it (no persistence)
            time.sleep(3)
            broker.start()
            restarted = True

    wait_until_settled(services, cluster["log"], tick=tick)
    counts = audit_exactly_once(services)
    print(json.dumps({"fault": "broker restart", "worker_restarts": worker_restarts, **counts}))
    assert restarted
    assert counts == {"components": COMPONENTS, "done": COMPONENTS, "failed": 0, "documents": COMPONENTS}


@pytest.mark.parametrize("cluster", ["s3"], indirect=True)
def test_object_store_down_for_30_seconds_delays_but_loses_nothing(cluster: dict) -> None:
    services, s3 = cluster["services"], cluster["s3"]
    outage = {"seconds": 0.0}

    def tick(finished: int, total: int) -> None:
        if outage["seconds"] == 0 and finished >= 10:
            started = time.monotonic()
            s3.stop()  # the S3 server is gone for 30 s while components are in flight
            time.sleep(OUTAGE_S)
            s3.start()
            outage["seconds"] = round(time.monotonic() - started, 1)

    wait_until_settled(services, cluster["log"], tick=tick, timeout=600)
    counts = audit_exactly_once(services)
    print(json.dumps({"fault": "object store down", "outage_s": outage["seconds"], **counts}))
    assert outage["seconds"] >= OUTAGE_S
    assert counts == {"components": COMPONENTS, "done": COMPONENTS, "failed": 0, "documents": COMPONENTS}
