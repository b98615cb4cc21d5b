"""``python -m bench.store``: warehouse throughput vs raw minio, catalogue lookups; last line is JSON.

Options: ``--quick`` (fewer rounds, lookups up to 10^5 only), ``--skip-lookups``, ``--skip-throughput``.
PostgreSQL comes from SOHOA_TEST_PG_URL (default: the local test server).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bench.store import lookups, throughput
from testkit.servers import PG_TEST_URL, SeaweedS3

TARGETS = {"put_get_ratio_500KB_min": 0.8, "owner_lookup_p99_ms_at_1e6_max": 10.0, "full_text_p99_ms_at_1e5_max": 100.0}


def log(line: str) -> None:
    print(line, flush=True)


class PgSchema:
    def __init__(self) -> None:
        self.name = f"bench_{uuid.uuid4().hex[:8]}"
        self.admin = create_engine(PG_TEST_URL)
        with self.admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {self.name}"))

    @property
    def url(self) -> str:
        return f"{PG_TEST_URL}?options=-csearch_path%3D{self.name}"

    @property
    def conninfo(self) -> str:
        return PG_TEST_URL.replace("postgresql+psycopg://", "postgresql://")

    def drop(self) -> None:
        with self.admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {self.name} CASCADE"))
        self.admin.dispose()


@contextlib.contextmanager
def ramdisk_folder() -> Iterator[Path | None]:
    """A temporary folder on /dev/shm (a RAM disk), or None where there is none."""
    if not Path("/dev/shm").is_dir():
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="bench-store-", dir="/dev/shm") as ram:
        yield Path(ram)


def targets(result: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    tp = result.get("throughput", {}).get("500KB", {})
    for name in ("warehouse_sqlite", "warehouse_postgresql", "warehouse_sqlite_by_row", "warehouse_postgresql_by_row"):
        ratio = tp.get(f"{name}_ratio")
        if ratio:
            out[f"{name}_500KB_ratio_met"] = min(ratio.values()) >= TARGETS["put_get_ratio_500KB_min"]
    for db, levels in result.get("lookups", {}).items():
        top = levels.get("1000000")
        if top:
            out[f"{db}_owner_p99_1e6_met"] = top["owner_lookup"]["p99_ms"] <= TARGETS["owner_lookup_p99_ms_at_1e6_max"]
        mid = levels.get("100000")
        if mid and "full_text" in mid:
            out[f"{db}_full_text_p99_1e5_met"] = mid["full_text"]["p99_ms"] <= TARGETS["full_text_p99_ms_at_1e5_max"]
    return out


def main(argv: list[str]) -> int:
    # SIGTERM (timeout, a cancelled job) unwinds like an exception: the schema is dropped and the
    # folders removed; SeaweedFS stops with its owner either way.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    quick = "--quick" in argv
    result: dict[str, Any] = {
        "bench": "store",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "targets": TARGETS,
    }
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        folder = Path(tmp)
        if "--skip-throughput" not in argv:
            pg = PgSchema()
            try:
                with SeaweedS3(folder / "seaweed") as server, ramdisk_folder() as ram:
                    dbs = {"sqlite": throughput.sqlite_url(folder, "throughput"), "postgresql": pg.url}
                    if ram is not None:
                        dbs["sqlite_ramdisk"] = throughput.sqlite_url(ram, "throughput")
                    result["disk_flush_ms"] = throughput.disk_flush_ms(folder)
                    log(f"disk flush (4 KiB + fdatasync) here, ms: {result['disk_flush_ms']}")
                    result["throughput"] = throughput.run(server, dbs, rounds=3 if quick else 5, log=log)
            finally:
                pg.drop()
        if "--skip-lookups" not in argv:
            levels = lookups.LEVELS[:2] if quick else lookups.LEVELS
            result["lookups"] = {}
            sqlite_path = folder / "lookups.sqlite3"
            result["lookups"]["sqlite"] = lookups.run_dialect(
                "sqlite",
                f"sqlite:///{sqlite_path}",
                lambda a, b, o: lookups.load_sqlite(str(sqlite_path), a, b, o),
                log,
                levels,
            )
            pg = PgSchema()
            try:
                result["lookups"]["postgresql"] = lookups.run_dialect(
                    "postgresql",
                    pg.url,
                    lambda a, b, o: lookups.load_postgres(pg.conninfo, pg.name, a, b, o),
                    log,
                    levels,
                )
            finally:
                pg.drop()
    result["targets_met"] = targets(result)
    result["elapsed_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
