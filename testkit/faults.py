"""For fault tests and ``bench/pipeline``: a Celery worker process a test can crash, and the audit of what
a crash left behind (nothing lost, duplicated or orphaned)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from dossiers.services import Services
from storage.catalogue.models import Component, Document, Dossier, JobStep, ScanFile
from storage.objectstore import Bucket
from testkit.servers import start_owned


class CeleryWorker:
    """``sohoa worker`` as its own process (Celery prefork), whose pool children a test may kill."""

    def __init__(self, env: dict[str, str], log: Path, concurrency: int = 2):
        self.env, self.log, self.concurrency = env, log, concurrency
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        fh = self.log.open("ab")
        self.proc = start_owned(
            [
                sys.executable,
                "-m",
                "cli.main",
                "worker",
                "--queues",
                "ingest,ocr,sign,store",
                "--concurrency",
                str(self.concurrency),
            ],
            # Celery arms SIGKILL on its pool children for their parent's death: killing the worker kills them all
            on_owner_exit=signal.SIGKILL,
            env=os.environ | self.env,
            stdout=fh,
            stderr=fh,
        )

    def children(self) -> list[int]:
        assert self.proc is not None
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout
        return [int(pid) for pid in out.split()]

    def kill_child(self) -> bool:
        kids = self.children()
        if not kids:
            return False
        os.kill(kids[0], signal.SIGKILL)
        return True

    def kill(self) -> None:
        if self.proc:
            for pid in self.children():
                os.kill(pid, signal.SIGKILL)
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None

    def stop(self) -> None:
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
            self.proc = None


def settled(services: Services) -> tuple[int, int]:
    with services.catalogue.session() as s:
        total = s.scalar(select(func.count(Component.id))) or 0
        finished = s.scalar(select(func.count(Component.id)).where(Component.state.in_(["done", "failed"]))) or 0
    return finished, total


def audit_exactly_once(services: Services) -> dict[str, int]:
    """Count outcomes and check that nothing was lost, duplicated or orphaned."""
    with services.catalogue.session() as s:
        states = dict(s.execute(select(Component.state, func.count()).group_by(Component.state)).all())
        total = sum(states.values())
        docs = s.execute(select(Document.component_id, Document.object_key, Document.sha256)).all()
        steps = dict(s.execute(select(JobStep.kind, func.count()).group_by(JobStep.kind)).all())
        raw_keys = set(s.scalars(select(ScanFile.object_key)))
        raw_keys |= set(s.scalars(select(Dossier.archive_key).where(Dossier.archive_key.is_not(None))))
        unpacked = set(s.scalars(select(ScanFile.stored)))
    assert set(states) <= {"done", "failed"}, states
    assert len(docs) == states.get("done", 0) == len({d.component_id for d in docs})
    done = states.get("done", 0)
    assert steps.get("store", 0) == done and steps.get("sign", 0) == done
    assert steps.get("unpack") == steps.get("digitize") == total
    assert unpacked == {True}, "every scan has its own raw object"
    assert stored_keys(services, Bucket.DOCUMENTS) == {d.object_key for d in docs}
    assert stored_keys(services, Bucket.RAW) == raw_keys
    for d in docs:
        services.store.get_bytes(Bucket.DOCUMENTS, d.object_key, sha256=d.sha256)
    return {"components": total, "done": done, "failed": states.get("failed", 0), "documents": len(docs)}


def stored_keys(services: Services, bucket: Bucket) -> set[str]:
    return {info.key for info in services.store.list_objects(bucket, "sha256/")}
