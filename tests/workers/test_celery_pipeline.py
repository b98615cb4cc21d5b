"""The distributed path: a real Celery worker on the real Redis broker runs the pipeline by step id."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from dossiers.batch_reader import read_batch
from dossiers.intake import ingest
from dossiers.services import Services
from storage.catalogue.models import Component, Document
from testkit.batches import make_zip
from tests.conftest import make_settings
from workers.dispatcher import Dispatcher

pytestmark = pytest.mark.integration
BROKERS = {
    "redis": os.environ.get("SOHOA_TEST_REDIS_URL", "redis://127.0.0.1:6379/14"),
    "rabbitmq": os.environ.get("SOHOA_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//"),
}


def purge(broker: str) -> None:
    if broker.startswith("redis"):
        redis.Redis.from_url(broker).flushdb()
    else:
        from amqp.exceptions import NotFound
        from kombu import Connection

        with Connection(broker) as conn:
            for queue in ("ocr", "sign", "store", "ingest"):
                channel = conn.channel()
                try:
                    channel.queue_purge(queue)
                except NotFound:
                    pass  # never declared: nothing to purge
                finally:
                    channel.close()


@pytest.mark.parametrize("broker_name", sorted(BROKERS))
def test_celery_worker_processes_a_batch_by_ids(
    broker_name: str, tmp_path: Path, shared_pki_dir: Path, sample_batch: Path
) -> None:
    BROKER = BROKERS[broker_name]
    purge(BROKER)
    settings = make_settings(tmp_path / "var", shared_pki_dir, mode="celery", broker_url=BROKER)
    services = Services(settings)
    services.prepare()
    manifest = json.loads((sample_batch / "manifest.json").read_text())
    manifest["components"] = manifest["components"][:1]
    files = {n: (sample_batch / n).read_bytes() for n in manifest["components"][0]["files"]}
    (tmp_path / "b.zip").write_bytes(make_zip(manifest, files))
    ingest(services, read_batch(tmp_path / "b.zip"))

    env = os.environ | {
        "SOHOA_VAR_DIR": str(settings.var_dir),
        "SOHOA_SIGNING__PKI_DIR": str(shared_pki_dir),
        "SOHOA_WORKERS__MODE": "celery",
        "SOHOA_WORKERS__BROKER_URL": BROKER,
    }
    log = tmp_path / "worker.log"
    with log.open("wb") as fh:
        worker = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "worker", "--queues", "ingest,ocr,sign,store", "--concurrency", "1"],
            env=env,
            stdout=fh,
            stderr=fh,
        )
        dispatcher = Dispatcher(services)
        try:
            deadline = time.monotonic() + 240
            state = None
            while time.monotonic() < deadline:
                dispatcher.dispatch_once()
                with services.catalogue.session() as s:
                    state = s.scalar(select(Component.state))
                if state in ("done", "failed"):
                    break
                time.sleep(0.5)
        finally:
            dispatcher.stop()
            worker.terminate()
            worker.wait(30)
    assert state == "done", log.read_text()[-3000:]
    with services.catalogue.session() as s:
        assert s.scalar(select(func.count(Document.id))) == 1
    services.close()
