"""Put/get throughput of the warehouse (object + catalogue row + audit) against the raw minio client.

Both run against the same SeaweedFS server, interleaved object by object so that background
load on the machine hits every client alike; the figure per case is the median over rounds.
The targets compare with ``raw``; ``raw_verified`` (plus the SHA-256 check) and ``raw_versioned_verified``
(plus a versioned bucket, as the warehouse's documents bucket is) are references that show
what those two costs take by themselves. ``warehouse_*_vs_same_work`` divides by the latter:
what the catalogue rows and the audit log add to the storage work the warehouse must do anyway.

A read by key alone finds the hash in the catalogue while the request is in flight and asks for
the newest version. The API's reads hold the document's or e-result's row, which names hash and
version: ``warehouse_*_by_row`` reads that way, and its same work is ``raw_pinned_verified``
(the raw client reading the version its put returned, hash checked).

Every audited read waits for a durable commit (its audit entry must outlive the access), and the raw
client never flushes anything to disk: ``disk_flush_ms`` times that flush on the benchmark's disk,
and ``warehouse_sqlite_ramdisk`` (reference only, when /dev/shm exists) keeps its catalogue where a
flush costs nothing, as it nearly does on a server SSD with power-loss protection.
"""

from __future__ import annotations

import io
import os
import statistics
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from minio.commonconfig import ENABLED
from minio.versioningconfig import VersioningConfig

from storage.catalogue.db import Catalogue, migrate
from storage.objectstore import Bucket, StoredObject, content_key, sha256_hex
from storage.objectstore.s3 import S3ObjectStore
from storage.warehouse import Warehouse
from testkit.servers import SeaweedS3

# Catalogues also read as the API reads (hash and version from the caller's row), beside the read by key alone.
BY_ROW = ("sqlite", "postgresql")
SIZES = {"50KB": 50_000, "500KB": 500_000, "5MB": 5_000_000}
COUNTS = {"50KB": 120, "500KB": 60, "5MB": 12}


def _mbps(total_bytes: int, seconds: float) -> float:
    return total_bytes / seconds / 1e6


class RawClient:
    def __init__(self, server: SeaweedS3):
        self.client = server.client()
        self.bucket = f"raw-{uuid.uuid4().hex[:8]}"
        self.client.make_bucket(self.bucket)
        self.versions: dict[str, str | None] = {}  # what each put returned (None: an unversioned bucket)

    def put(self, data: bytes) -> str:
        key = content_key(sha256_hex(data))
        self.versions[key] = self.client.put_object(self.bucket, key, io.BytesIO(data), len(data)).version_id
        return key

    def version_of(self, key: str) -> str | None:
        """The version a read asks for: none (the newest)."""
        return None

    def get(self, key: str) -> bytes:
        response = self.client.get_object(self.bucket, key, version_id=self.version_of(key))
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()


class RawVerifiedClient(RawClient):
    """Reference only: the raw client plus the hash check the warehouse does on every read."""

    def get(self, key: str) -> bytes:
        data = super().get(key)
        if sha256_hex(data) != key.rsplit("/", 1)[-1]:
            raise RuntimeError(f"hash mismatch for {key}")
        return data


class RawVersionedVerifiedClient(RawVerifiedClient):
    """Reference only: the raw client, hash checked, on a versioned bucket like the warehouse's documents."""

    def __init__(self, server: SeaweedS3):
        super().__init__(server)
        self.client.set_bucket_versioning(self.bucket, VersioningConfig(ENABLED))


class WarehouseClient:
    def __init__(self, server: SeaweedS3, db_url: str):
        migrate(db_url)
        self.catalogue = Catalogue(db_url)
        store = S3ObjectStore(
            server.endpoint, server.access_key, server.secret_key, secure=False, prefix=f"wh{uuid.uuid4().hex[:8]}"
        )
        self.wh = Warehouse(self.catalogue, store)
        self.rows: dict[str, StoredObject] = {}  # what each put returned, as a document's row records it

    def put(self, data: bytes) -> str:
        obj = self.wh.put_bytes(Bucket.DOCUMENTS, data, suffix=".pdf")
        self.rows[obj.key] = obj
        return obj.key

    def get(self, key: str) -> bytes:
        return self.wh.get_bytes(Bucket.DOCUMENTS, key, actor="bench", purpose="benchmark")


class RawPinnedVerifiedClient(RawVersionedVerifiedClient):
    """Reference only: the versioned, hash-checked raw client reading the version its put returned."""

    def version_of(self, key: str) -> str | None:
        return self.versions[key]


class WarehouseByRowClient(WarehouseClient):
    """The warehouse read as the API reads it: the caller's row (a document, an e-result) names hash and version."""

    def get(self, key: str) -> bytes:
        row = self.rows[key]
        return self.wh.get_bytes(
            Bucket.DOCUMENTS, key, actor="bench", purpose="benchmark", sha256=row.sha256, version_id=row.version_id
        )


def _round(clients: dict[str, Any], size: int, count: int, flip: bool) -> dict[str, tuple[float, float]]:
    """One round: each object index is put (then read back) by every client in turn.

    A slow moment of this shared machine then falls on all clients alike instead of on
    whichever ran its whole batch then; ``flip`` reverses the order within each index. Each
    phase starts with the disk's write queue drained (``os.sync``): the object store, the
    catalogues and the audit log share one disk here, and the put phase leaves some hundred
    megabytes to write back, which would otherwise be charged to whichever reads wait on a
    flush of their own (the audited ones).
    Returns put and get MB/s per client.
    """
    names = list(reversed(clients)) if flip else list(clients)
    payloads = {n: [os.urandom(size) for _ in range(count)] for n in names}  # fresh bytes: no dedup shortcut
    keys: dict[str, list[str]] = {n: [] for n in names}
    put_s, get_s = dict.fromkeys(names, 0.0), dict.fromkeys(names, 0.0)
    os.sync()
    for i in range(count):
        for n in names:
            started = time.perf_counter()
            keys[n].append(clients[n].put(payloads[n][i]))
            put_s[n] += time.perf_counter() - started
    os.sync()  # the puts' writeback, drained: else it lands on the reads, and most on those that sync (audit)
    for i in range(count):
        for n in names:
            started = time.perf_counter()
            clients[n].get(keys[n][i])
            get_s[n] += time.perf_counter() - started
    total = size * count
    return {n: (_mbps(total, put_s[n]), _mbps(total, get_s[n])) for n in names}


def disk_flush_ms(folder: Path, samples: int = 50) -> dict[str, float]:
    """Median and p90 of a 4 KiB append plus ``fdatasync`` in ``folder``: what one durable commit waits for."""
    path = folder / "flush-probe"
    times: list[float] = []
    with path.open("wb") as fh:
        for _ in range(samples):
            started = time.perf_counter()
            fh.write(os.urandom(4096))
            fh.flush()
            os.fdatasync(fh.fileno())
            times.append((time.perf_counter() - started) * 1000)
    path.unlink()
    times.sort()
    return {"p50": round(statistics.median(times), 3), "p90": round(times[int(0.9 * (samples - 1))], 3)}


def _ratio(ours: dict[str, float], anchor: dict[str, float]) -> dict[str, float]:
    return {op: round(ours[op] / anchor[op], 3) for op in ("put", "get")}


def run(server: SeaweedS3, db_urls: dict[str, str], rounds: int, log: Callable[[str], None]) -> dict[str, Any]:
    clients: dict[str, Any] = {
        "raw": RawClient(server),
        "raw_verified": RawVerifiedClient(server),
        "raw_versioned_verified": RawVersionedVerifiedClient(server),
        "raw_pinned_verified": RawPinnedVerifiedClient(server),
    }
    for name, url in db_urls.items():
        clients[f"warehouse_{name}"] = WarehouseClient(server, url)
    for name in BY_ROW:
        clients[f"warehouse_{name}_by_row"] = WarehouseByRowClient(server, db_urls[name])
    results: dict[str, Any] = {}
    for label, size in SIZES.items():
        samples: dict[str, dict[str, list[float]]] = {n: {"put": [], "get": []} for n in clients}
        for r in range(rounds):
            for name, (put, get) in _round(clients, size, COUNTS[label], flip=r % 2 == 1).items():
                samples[name]["put"].append(put)
                samples[name]["get"].append(get)
        entry: dict[str, Any] = {}
        for name, ops in samples.items():
            entry[name] = {op: round(statistics.median(v), 1) for op, v in ops.items()}
        for name in clients:
            if name != "raw":  # the references show what a checked read of a versioned bucket costs by itself
                entry[f"{name}_ratio"] = _ratio(entry[name], entry["raw"])
        for name in clients:
            if name.startswith("warehouse"):  # what the warehouse adds to the raw client doing the same storage work
                same = "raw_pinned_verified" if name.endswith("_by_row") else "raw_versioned_verified"
                entry[f"{name}_vs_same_work"] = _ratio(entry[name], entry[same])
        results[label] = entry
        log(f"throughput {label} (MB/s, median of {rounds} rounds): {entry}")
    for name, c in clients.items():
        if name.startswith("warehouse"):
            c.catalogue.dispose()
    return results


def sqlite_url(folder: Path, name: str) -> str:
    return f"sqlite:///{folder / f'{name}.sqlite3'}"
