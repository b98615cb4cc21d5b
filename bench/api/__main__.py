"""``python -m bench.api``: receipt latency (10-page batch, 20 concurrent stations) and peak RSS of the
API process while a 500 MB batch streams in. 127.0.0.1 only; bounded in count and time. Last line: JSON.

Three receipt runs, each with the API's CPU time per request: one station alone (service time), 20
stations back to back (saturation), and 20 stations each pushing one batch every ``--interval`` seconds
(paced, below saturation).
Options: ``--rounds N`` (batches per station, default 10), ``--stations N`` (default 20), ``--interval S``,
``--skip-rss``, ``--processes N`` (API processes; more than one share their rate limits in ``--redis-url``,
as ``sohoa serve --processes`` requires).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.api import load
from dossiers.sample import SAMPLE_BATCH
from testkit.servers import free_port, start_owned, wait_ready

PAGES = 10
TARGET_P99_MS = 200.0
BIG_BYTES = 500 * 1000 * 1000
TIME_LIMIT_S = 300


def log(line: str) -> None:
    print(line, flush=True)


def batch_zip(station: int, n: int) -> bytes:
    """A 10-page dossier: 3 components of sample scans, bytes made unique per batch."""
    import io

    scans = sorted(SAMPLE_BATCH.glob("*.jpg"))
    files = {f"p{i:02d}.jpg": scans[i % len(scans)].read_bytes() + f"#{station}-{n}-{i}".encode() for i in range(PAGES)}
    names = list(files)
    manifest = {
        "dossier_code": f"000.00.12.H26-261122-{station:02d}{n:02d}",
        "procedure_code": "1.001193",
        "applicant_id": f"0010900{station:05d}",
        "applicant_birth_date": "1990-03-15",
        "components": [
            {"id": "c1", "declared_type": "application_form", "files": names[:4]},
            {"id": "c2", "declared_type": "citizen_id_card", "files": names[4:6]},
            {"id": "c3", "declared_type": "birth_certificate", "files": names[6:]},
        ],
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


class Server:
    def __init__(self, var: Path, processes: int = 1, redis_url: str = ""):
        self.var, self.port = var, free_port()
        self.redis_url, self.redis_prefix = "", ""
        env = os.environ | {"SOHOA_VAR_DIR": str(var), "SOHOA_API__PUBLIC_BASE_URL": f"http://127.0.0.1:{self.port}"}
        if processes > 1:  # shared rate limits and one migration, as `sohoa serve --processes N` needs and does
            self.redis_url, self.redis_prefix = redis_url, f"bench:{uuid.uuid4().hex[:12]}:"  # this run's keys only
            env |= {"SOHOA_API__RATE_LIMIT_REDIS_URL": redis_url, "SOHOA_API__RATE_LIMIT_PREFIX": self.redis_prefix}
            from dossiers.bootstrap import prepare
            from dossiers.services import Services
            from sohoa.settings import Settings

            services = Services(Settings(var_dir=var))
            prepare(services)
            services.close()
        self.log = open(var.parent / "server.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = start_owned(
            [sys.executable, "-m", "bench.api.server", str(self.port), str(processes)],
            env=env,
            stdout=self.log,
            stderr=self.log,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        wait_ready(f"{self.base}/readyz", self.proc, var.parent / "server.log")
        self._wait_listening(processes)

    def _wait_listening(self, processes: int, timeout: float = 60) -> None:
        """Until every API process listens on the port (one answering /readyz may be the first of several)."""
        deadline = time.monotonic() + timeout
        while self.total(lambda p: self._listens(p)) < processes:
            if time.monotonic() > deadline:
                raise RuntimeError(f"fewer than {processes} API processes listen on port {self.port}")
            time.sleep(0.2)

    def _listens(self, process: psutil.Process) -> int:
        return sum(c.status == "LISTEN" and c.laddr.port == self.port for c in process.net_connections("tcp"))

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)
        self.log.close()
        if self.redis_prefix:
            import redis

            client = redis.Redis.from_url(self.redis_url)
            keys = list(client.scan_iter(match=self.redis_prefix + "*"))
            if keys:
                client.delete(*keys)
            client.close()

    def total(self, measure: Callable[[psutil.Process], float]) -> float:
        """``measure`` summed over the API: the server process and its worker processes, if any."""
        proc = psutil.Process(self.proc.pid)
        total = 0.0
        for p in (proc, *proc.children(recursive=True)):
            with contextlib.suppress(psutil.NoSuchProcess):
                total += measure(p)
        return total

    def cpu_seconds(self) -> float:
        return self.total(lambda p: sum(p.cpu_times()[:2]))  # user + system

    def measured(self, run: Any) -> dict[str, Any]:
        """Run a receipts coroutine; its figures plus the API's CPU time per request it answered."""
        before = self.cpu_seconds()
        out = asyncio.run(run)
        answered = sum(out["status_counts"].values())
        out["server_cpu_ms_per_receipt"] = round((self.cpu_seconds() - before) / max(1, answered) * 1000, 2)
        return out


def station_keys(var: Path, count: int) -> list[str]:
    from dossiers.services import Services
    from sohoa.settings import Settings
    from storage.catalogue.clients import create_client
    from storage.catalogue.models import ClientRole

    services = Services(Settings(var_dir=var))
    try:
        return [create_client(services.catalogue, f"Trạm {i}", ClientRole.STATION) for i in range(count)]
    finally:
        services.close()


async def receipts(base: str, keys: list[str], rounds: int, offset: int = 0, interval: float = 0.0) -> dict[str, Any]:
    """Each station pushes ``rounds`` batches: back to back (closed loop), or one every ``interval`` s."""
    host, port = base.removeprefix("http://").split(":")
    raw = {
        (s, n): load.request_bytes(
            "/api/v1/batches",
            batch_zip(s + offset, n),
            {"Authorization": f"Bearer {keys[s]}", "Content-Type": "application/zip"},
        )
        for s in range(len(keys))
        for n in range(rounds + 1)
    }
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    deadline = time.monotonic() + TIME_LIMIT_S

    async def station(s: int) -> None:
        conn = load.Connection(host, int(port))
        await asyncio.sleep(interval * s / max(1, len(keys)))  # spread the stations' phases
        try:
            for n in range(rounds + 1):
                if time.monotonic() > deadline:
                    return
                reply = await conn.send(raw[(s, n)])
                statuses[reply.status] = statuses.get(reply.status, 0) + 1
                if n > 0:  # the first push of each station opens its connection
                    latencies.append(reply.seconds * 1000)
                if interval:
                    await asyncio.sleep(max(0.0, interval - reply.seconds))
        finally:
            await conn.close()

    started = time.monotonic()
    await asyncio.gather(*(station(s) for s in range(len(keys))))
    wall = time.monotonic() - started
    latencies.sort()
    q = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else latencies * 99
    return {
        "stations": len(keys),
        "pages_per_batch": PAGES,
        "batch_bytes_avg": int(statistics.mean(len(b) for b in raw.values())),
        "requests_measured": len(latencies),
        "status_counts": {str(k): v for k, v in sorted(statuses.items())},
        "p50_ms": round(q[49], 1),
        "p90_ms": round(q[89], 1),
        "p99_ms": round(q[98], 1),
        "max_ms": round(latencies[-1], 1),
        "receipts_per_s": round(len(latencies) / wall, 1),
        # A refusal (429, 413…) is answered faster than a receipt: figures with any are not receipt figures.
        "all_receipts": set(statuses) <= {200, 202},
        "mode": f"one batch per station every {interval:g} s" if interval else "closed loop (back to back)",
    }


def big_zip(path: Path, total: int, members: int) -> None:
    chunk = 4 * 1024 * 1024
    per = total // members
    names = [f"big{i}.bin" for i in range(members)]
    manifest = {
        "dossier_code": f"000.00.12.H26-261123-9{members:03d}",
        "procedure_code": "1.001193",
        "applicant_id": "001090099999",
        "components": [{"id": f"c{i}", "files": [n]} for i, n in enumerate(names)],
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        for name in names:
            with zf.open(zipfile.ZipInfo(name), "w", force_zip64=True) as out:
                left = per
                while left > 0:
                    out.write(os.urandom(min(chunk, left)))
                    left -= chunk


def rss_during_upload(server: Server, key: str, zip_path: Path) -> dict[str, Any]:

    def rss() -> int:
        return int(server.total(lambda p: p.memory_info().rss))

    baseline = rss()
    peak, stop = [baseline], threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], rss())
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()

    def body():  # type: ignore[no-untyped-def]
        with zip_path.open("rb") as fh:
            while chunk := fh.read(1024 * 1024):
                yield chunk

    started = time.monotonic()
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/zip"}
    r = httpx.post(f"{server.base}/api/v1/batches", content=body(), headers=headers, timeout=300)
    seconds = time.monotonic() - started
    stop.set()
    sampler.join()
    detail = r.json().get("detail") if r.status_code >= 400 else None
    return {
        "upload_bytes": zip_path.stat().st_size,
        "status": r.status_code,
        "code": detail.get("code") if isinstance(detail, dict) else None,
        "seconds": round(seconds, 1),
        "rss_baseline_mb": round(baseline / 2**20, 1),
        "rss_peak_mb": round(peak[0] / 2**20, 1),
        "rss_growth_mb": round((peak[0] - baseline) / 2**20, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--stations", type=int, default=20)
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between a station's batches (paced run)")
    parser.add_argument("--skip-rss", action="store_true")
    parser.add_argument("--processes", type=int, default=1, help="API processes (uvicorn workers) under test")
    parser.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/13",
        help="rate limits shared by --processes > 1",
    )
    args = parser.parse_args()
    out: dict[str, Any] = {
        "bench": "api",
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "api_processes": args.processes,
        "rate_limits": "redis" if args.processes > 1 else "in-process",
        "load_tool": "bench.api.load (asyncio, pre-built HTTP/1.1 requests, keep-alive per station)",
    }
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        var = Path(tmp) / "var"
        var.mkdir()
        server = Server(var, args.processes, args.redis_url)
        try:
            keys = station_keys(var, args.stations + 1)
            log(f"receipts: 1 station x {args.rounds} batches of {PAGES} pages (service time) ...")
            out["receipt_single_station"] = server.measured(receipts(server.base, keys[-1:], args.rounds, offset=90))
            log(json.dumps(out["receipt_single_station"]))
            keys = keys[:-1]
            log(f"receipts: {args.stations} stations x {args.rounds} batches of {PAGES} pages ...")
            out["receipt"] = server.measured(receipts(server.base, keys, args.rounds))
            out["receipt"]["target_p99_ms"] = TARGET_P99_MS
            out["receipt"]["target_met"] = out["receipt"]["all_receipts"] and out["receipt"]["p99_ms"] <= TARGET_P99_MS
            log(json.dumps(out["receipt"]))
            log(f"receipts: {args.stations} stations, one batch every {args.interval:g} s each ...")
            paced = server.measured(receipts(server.base, keys, args.rounds, offset=40, interval=args.interval))
            out["receipt_paced"] = paced | {"target_met": paced["all_receipts"] and paced["p99_ms"] <= TARGET_P99_MS}
            log(json.dumps(out["receipt_paced"]))
            if not args.skip_rss:
                out["rss"] = {}
                for label, members in (("one_500MB_member", 1), ("three_166MB_members", 3)):
                    path = Path(tmp) / f"{label}.zip"
                    big_zip(path, BIG_BYTES, members)
                    log(f"rss: streaming {label} ({path.stat().st_size / 1e6:.0f} MB) ...")
                    out["rss"][label] = rss_during_upload(server, keys[0], path)
                    path.unlink()
                    log(json.dumps(out["rss"][label]))
        finally:
            server.stop()
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
