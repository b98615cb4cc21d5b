"""No server a testkit helper starts outlives its owner, however the owner ends.

An owner process starts real servers through testkit and is then killed (SIGKILL: no ``finally``,
no ``atexit``), terminated (SIGTERM, what ``timeout`` and CI cancellation send, which Python does
not turn into an exception), or ends by an uncaught exception without stopping them. Each server
must be gone within a generous safety timeout; this is a check that they stop, not a timing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]
SAFETY_TIMEOUT_S = 30.0

# Starts the servers of one kind, writes their pids to ready.json, then waits to be killed, or raises once told to.
OWNER = r"""
import json, os, sys, time
from pathlib import Path

from testkit.faults import CeleryWorker
from testkit.servers import PrivateRedis, SeaweedS3

kind, ending, folder = sys.argv[1], sys.argv[2], Path(sys.argv[3])
if kind == "seaweed":
    pids = [SeaweedS3(folder / "s3").start()._proc.pid]
else:
    broker = PrivateRedis(folder)
    broker.start()
    pids = [broker.proc.pid]
if kind == "celery":
    env = {
        "SOHOA_VAR_DIR": str(folder / "var"),
        "SOHOA_WORKERS__MODE": "celery",
        "SOHOA_WORKERS__BROKER_URL": broker.url,
    }
    worker = CeleryWorker(env, folder / "worker.log", concurrency=1)
    worker.start()
    deadline = time.monotonic() + 120
    while " ready." not in (folder / "worker.log").read_text(errors="replace"):
        if time.monotonic() > deadline or worker.proc.poll() is not None:
            sys.exit("the Celery worker did not get ready")
        time.sleep(0.2)
    pids += [worker.proc.pid, *worker.children()]
(folder / "ready.tmp").write_text(json.dumps(pids))
os.replace(folder / "ready.tmp", folder / "ready.json")
while ending == "raises" and not (folder / "go").exists():  # until the test has seen the servers run
    time.sleep(0.05)
if ending == "raises":
    raise RuntimeError("the owner fails without stopping its servers")
time.sleep(600)
"""


def start_owner(kind: str, ending: str, folder: Path) -> tuple[subprocess.Popen[bytes], list[psutil.Process]]:
    """The owner process, once its servers run, and those servers."""
    env = os.environ | {"PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    stderr = (folder / "owner.log").open("wb")
    owner = subprocess.Popen([sys.executable, "-c", OWNER, kind, ending, str(folder)], env=env, stderr=stderr)
    ready = folder / "ready.json"
    deadline = time.monotonic() + 180
    while not ready.exists():
        assert owner.poll() is None, (folder / "owner.log").read_text(errors="replace")
        assert time.monotonic() < deadline, "the owner's servers did not start"
        time.sleep(0.1)
    return owner, [psutil.Process(pid) for pid in json.loads(ready.read_text())]


def gone(server: psutil.Process) -> bool:
    """Exited (a zombie counts: no parent may be left to reap it), or its pid already belongs to another process."""
    try:
        return not server.is_running() or server.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.mark.parametrize(
    ("kind", "ending"),
    [
        ("seaweed", "killed"),
        ("seaweed", "terminated"),
        ("redis", "killed"),
        ("redis", "raises"),
        ("celery", "killed"),
    ],
)
def test_servers_stop_when_their_owner_ends(kind: str, ending: str, tmp_path: Path) -> None:
    owner, servers = start_owner(kind, ending, tmp_path)
    try:
        assert servers and not any(gone(s) for s in servers)
        if ending == "killed":
            owner.kill()
        elif ending == "terminated":
            owner.terminate()
        else:
            (tmp_path / "go").touch()
        owner.wait(60)
        deadline = time.monotonic() + SAFETY_TIMEOUT_S
        while not all(gone(s) for s in servers) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = [f"{s.pid} {' '.join(s.cmdline())}" for s in servers if not gone(s)]
        assert left == [], f"still running after the owner ended ({ending})"
        if ending == "raises":
            assert owner.returncode == 1
            assert "the owner fails without stopping its servers" in (tmp_path / "owner.log").read_text()
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait(10)
        for server in servers:
            if not gone(server):
                server.kill()
