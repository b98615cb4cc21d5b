"""Several API processes on one port, each accepting on a listening socket of its own (SO_REUSEPORT).

With one socket shared by every process (uvicorn's ``workers=N``), whichever process the
kernel wakes first takes the next connection, and stations keep theirs open (keep-alive):
measured here, 20 stations connecting at once left 15 to 19 connections in one of two
processes, and so one core doing the work of both. With a socket per process, bound with
SO_REUSEPORT, the kernel hands each new connection to a socket by a hash of its addresses,
which spreads them over the processes. Linux lets only sockets of the same user join the
group, so no other account can bind the port to take a share of the connections; before
starting, the port is checked to have no listener at all (a second ``sohoa serve`` of the
same user would otherwise join the group silently).

The parent only supervises: it starts the processes, starts again one that dies after its
server was up, and on SIGINT or SIGTERM stops them (uvicorn's graceful shutdown) and returns.
A process that dies before its server was up (settings, the app failing to start) would only
die again: the parent then stops the others and raises.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event
from types import FrameType
from typing import Any

import uvicorn

log = logging.getLogger(__name__)

STOP_S = 30.0  # uvicorn's graceful shutdown gets this long before a process is killed
WATCH_S = 0.5
RESTART_BACKOFF_S = (1.0, 2.0, 5.0, 10.0, 30.0)  # between failed starts of a replacement, then every 30 s


class ProcessesFailed(RuntimeError):
    """An API process of the first start exited before its server was up: the service is stopped."""


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def port_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` in the port's SO_REUSEPORT group, not yet listening.

    uvicorn listens on it once the app has started: until then the kernel hands new
    connections to the processes already serving (a bound socket that does not listen
    takes none).
    """
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def check_port_free(host: str, port: int) -> None:
    """OSError (address in use) when anything listens on the port, a SO_REUSEPORT group of this user included."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a closed server's TIME_WAIT is no owner
        probe.bind((host, port))


def _serve(app: str, host: str, port: int, options: dict[str, Any], started: Event) -> None:
    """One API process (the target of a spawned child): its own socket, one uvicorn server on it."""
    sock = port_socket(host, port)
    server = uvicorn.Server(uvicorn.Config(app, factory=True, **options))

    def tell_when_started() -> None:
        while not server.started and not server.should_exit:
            time.sleep(0.05)
        if server.started:
            started.set()

    threading.Thread(target=tell_when_started, daemon=True).start()
    server.run(sockets=[sock])


def run(app: str, *, processes: int, host: str, port: int, **options: Any) -> None:
    """Serve the ASGI app factory ``app`` ("module:function") from ``processes`` processes until stopped.

    ``options`` are uvicorn's (``log_level``, ``access_log``…; ``api.serving.uvicorn_options`` gives the
    service's: trusted proxies, slow-client deadlines, limits), the same in every process. Where the platform has no
    SO_REUSEPORT, uvicorn's own workers share one socket instead.
    """
    if not hasattr(socket, "SO_REUSEPORT"):
        uvicorn.run(app, factory=True, workers=processes, host=host, port=port, **options)
        return
    check_port_free(host, port)  # another program, or another `sohoa serve`, would share the port silently
    context = multiprocessing.get_context("spawn")

    def start() -> Child:
        started = context.Event()
        process = context.Process(target=_serve, args=(app, host, port, options, started), name="sohoa-api")
        process.start()
        return Child(process, started)

    Supervisor(start, processes).run()


@dataclass
class Child:
    process: BaseProcess
    started: Event  # set once its server listens
    replacement: bool = False  # started in place of one that exited
    failed_starts: int = 0  # of replacements in a row that exited before their server was up


class Supervisor:
    """Keeps ``count`` children made by ``start`` running until SIGINT or SIGTERM (or ``stop``).

    A child of the first start that exits before its server is up stops the service
    (``ProcessesFailed``): settings or code that fail would fail every time. A replacement
    that does so (the database away for a moment) is tried again after a pause, while the
    others go on serving.
    """

    def __init__(self, start: Callable[[], Child], count: int):
        self.start = start
        self.count = count
        self.stopping = threading.Event()

    def stop(self, signum: int = 0, _frame: FrameType | None = None) -> None:
        self.stopping.set()

    def run(self) -> None:
        previous = {sig: signal.signal(sig, self.stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        running: list[Child] = []  # every child started, updated in place: ``finally`` stops them all
        try:
            for _ in range(self.count):
                running.append(self.start())
            while not self.stopping.wait(WATCH_S):
                for i, child in enumerate(running):
                    running[i] = self._watched(child)
        finally:
            self._stop_all([child.process for child in running])
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _watched(self, child: Child) -> Child:
        process = child.process
        if process.is_alive() or self.stopping.is_set():
            return child
        failed_start = not child.started.is_set()
        if failed_start and not child.replacement:
            raise ProcessesFailed(f"API process {process.pid} exited during start-up (exit code {process.exitcode})")
        failures = child.failed_starts + 1 if failed_start else 0
        pause = RESTART_BACKOFF_S[min(failures, len(RESTART_BACKOFF_S)) - 1] if failures else 0.0
        log.warning(
            "API process %s exited%s (exit code %s); starting another%s",
            process.pid,
            " before its server was up" if failed_start else "",
            process.exitcode,
            f" in {pause:.0f} s" if pause else "",
        )
        if pause and self.stopping.wait(pause):
            return child
        replacement = self.start()
        replacement.replacement, replacement.failed_starts = True, failures
        return replacement

    @staticmethod
    def _stop_all(processes: list[BaseProcess]) -> None:
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes the requests in hand, then exits
        deadline = time.monotonic() + STOP_S
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                log.warning("API process %s did not stop within %.0f s; killed", process.pid, STOP_S)
                process.kill()
                process.join()
