"""API processes on one port (api.processes): each with its own SO_REUSEPORT socket, supervised.

Real processes, real sockets on 127.0.0.1: connections reach every process, a killed process
is replaced, SIGTERM stops them all, and a process that cannot start stops the service.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil
import pytest

from api import processes
from api.processes import Child, ProcessesFailed, Supervisor, check_port_free
from testkit.servers import free_port

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def supervisor(app: str, processes: int, tmp_path: Path) -> Iterator[tuple[subprocess.Popen, int]]:
    """``api.processes.run`` in a process of its own (signals and exit code its own too)."""
    port = free_port()
    code = (
        "from api.processes import run; "
        f"run({app!r}, processes={processes}, host='127.0.0.1', port={port}, log_level='warning')"
    )
    log = (tmp_path / "supervisor.log").open("wb")
    env = os.environ | {"PID_APP_CLAIM": str(tmp_path / "claimed")}
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
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


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


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
        assert not [pid for pid in second if alive(pid)]


def test_a_process_that_cannot_start_stops_the_service_and_its_siblings(tmp_path: Path) -> None:
    seen: set[int] = set()  # every child of the supervisor, the healthy sibling among them
    with supervisor("tests.api.pid_app:failing_in_one_process", 2, tmp_path) as (proc, _port):
        with contextlib.suppress(psutil.NoSuchProcess):
            while proc.poll() is None:
                seen |= {c.pid for c in psutil.Process(proc.pid).children()}
                time.sleep(0.02)
        assert proc.wait(60) != 0
    assert "ProcessesFailed" in (tmp_path / "supervisor.log").read_text()
    assert len(seen) >= 2
    deadline = time.monotonic() + 10  # multiprocessing's resource tracker leaves once its parent is gone
    while any(alive(pid) for pid in seen) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in seen if alive(pid)]


def test_a_second_service_on_a_port_in_use_is_refused(tmp_path: Path) -> None:
    with supervisor("tests.api.pid_app:answering_pid", 1, tmp_path) as (proc, port):
        wait_for_pids(proc, lambda pids: len(pids) == 1)
        with pytest.raises(OSError):
            check_port_free("127.0.0.1", port)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
    check_port_free("127.0.0.1", port)


# -- the supervisor's own logic, with stand-in processes -----------------------------------------


class FakeProcess:
    pids = iter(range(1000, 2000))

    def __init__(self) -> None:
        self.pid, self.alive, self.exitcode, self.terminated = next(self.pids), True, None, False

    def is_alive(self) -> bool:
        return self.alive

    def exit(self, code: int) -> None:
        self.alive, self.exitcode = False, code

    def terminate(self) -> None:
        self.terminated = True
        self.exit(-15)

    def join(self, timeout: float | None = None) -> None:
        pass

    def kill(self) -> None:
        self.exit(-9)


def fake_child(started: bool) -> Child:
    event = threading.Event()
    if started:
        event.set()
    return Child(FakeProcess(), event)  # type: ignore[arg-type]


def test_a_replacement_started_in_the_pass_that_fails_is_stopped_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """One child died after it served (replaced), the next died starting: the replacement must not be orphaned."""
    monkeypatch.setattr(processes, "WATCH_S", 0.01)
    first, second = fake_child(started=True), fake_child(started=False)
    made: list[Child] = []

    def start() -> Child:
        child = [first, second][len(made)] if len(made) < 2 else fake_child(started=True)
        made.append(child)
        if len(made) == 2:
            first.process.exit(1)  # type: ignore[attr-defined]
            second.process.exit(1)  # type: ignore[attr-defined]
        return child

    with pytest.raises(ProcessesFailed):
        Supervisor(start, 2).run()
    assert len(made) == 3 and made[2].process.terminated  # type: ignore[attr-defined]


def test_a_replacement_that_cannot_start_is_tried_again_after_a_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(processes, "WATCH_S", 0.01)
    monkeypatch.setattr(processes, "RESTART_BACKOFF_S", (0.01, 0.02))
    made: list[Child] = []
    supervisor = Supervisor(lambda: made.append(fake_child(started=len(made) != 1)) or made[-1], 1)

    def die_then_stop() -> None:
        made[0].process.exit(1)  # type: ignore[attr-defined]
        while len(made) < 2:
            time.sleep(0.01)
        made[1].process.exit(1)  # the replacement fails before its server is up: tried again, not fatal
        while len(made) < 3:
            time.sleep(0.01)
        supervisor.stop()

    threading.Thread(target=lambda: (time.sleep(0.05), die_then_stop())).start()
    supervisor.run()
    assert len(made) == 3 and made[2].process.terminated and made[2].failed_starts == 1  # type: ignore[attr-defined]
