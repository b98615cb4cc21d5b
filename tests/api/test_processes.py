"""API processes on one port (api.processes): each with its own SO_REUSEPORT socket, supervised.

Real processes, real sockets on 127.0.0.1: connections reach every process, a killed process
is replaced, SIGTERM stops them all, and a process that cannot start stops the service.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil
import pytest

from tests.servers import free_port

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def supervisor(app: str, processes: int, tmp_path: Path) -> Iterator[tuple[subprocess.Popen, int]]:
    port = free_port()
    code = (
        "from api.processes import run; "
        f"run({app!r}, processes={processes}, host='127.0.0.1', port={port}, log_level='warning')"
    )
    log = (tmp_path / "supervisor.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        log.close()


def api_pids(proc: subprocess.Popen) -> set[int]:
    """The supervisor's children that listen on a TCP port (the resource tracker does not)."""
    out = set()
    for child in psutil.Process(proc.pid).children():
        try:
            if any(c.status == "LISTEN" for c in child.net_connections("tcp")):
                out.add(child.pid)
        except psutil.NoSuchProcess:
            pass
    return out


def wait_for_pids(proc: subprocess.Popen, ready, timeout: float = 60) -> set[int]:  # type: ignore[no-untyped-def]
    """The listening children once ``ready(pids)`` holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = api_pids(proc)
        if ready(pids):
            return pids
        time.sleep(0.2)
    pytest.fail(f"API processes not as expected in time: {api_pids(proc)}")


def served_by(port: int, connections: int) -> set[int]:
    """The process ids that answered, one request on each of ``connections`` new connections."""
    pids = set()
    for _ in range(connections):
        with httpx.Client() as client:  # a connection of its own: the kernel picks the socket per connection
            pids.add(int(client.get(f"http://127.0.0.1:{port}/").text))
    return pids


def test_connections_reach_every_process_and_a_dead_one_is_replaced(tmp_path: Path) -> None:
    with supervisor("tests.api.pid_app:answering_pid", 2, tmp_path) as (proc, port):
        first = wait_for_pids(proc, lambda pids: len(pids) == 2)
        assert served_by(port, 40) == first  # 40 connections all in one socket of two: odds of 2**-39
        victim = min(first)
        os.kill(victim, signal.SIGKILL)  # after it served: replaced, not taken for a failed start
        second = wait_for_pids(proc, lambda pids: len(pids) == 2 and victim not in pids)
        assert served_by(port, 40) == second and len(second & first) == 1
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
        assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie" for pid in second)


def test_a_process_that_cannot_start_stops_the_service(tmp_path: Path) -> None:
    with supervisor("tests.api.pid_app:failing", 2, tmp_path) as (proc, _port):
        assert proc.wait(60) != 0
    assert "ProcessesFailed" in (tmp_path / "supervisor.log").read_text()
