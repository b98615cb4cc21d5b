"""A really full file system under a running service (`sohoa serve` on a small tmpfs).

Stations are answered 503 STORAGE_FULL with Retry-After and a Vietnamese sentence, never a bare 500;
/readyz and the sohoa_disk_* gauges report low space before the disk is full; a step that meets the
full disk stays pending without spending its attempts, and once space is freed everything finishes,
once, and ``sohoa scrub`` finds the store clean.

Mounting a tmpfs needs root with CAP_SYS_ADMIN (``make test`` on a Debian machine runs as root); where
the mount is refused the tests skip and say why: no other way gives a file system that is really full.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import httpx
import pytest

from testkit.batches import make_zip
from tests.e2e.service import running_service, wait_for

pytestmark = pytest.mark.integration

MiB = 1024 * 1024
LOW_MARK = 8 * MiB  # storage.min_free_bytes of the service under test
METRICS_TOKEN = "disk-full-scrape"
CODE = "000.00.12.H26-261121-0001"  # the sample batch's dossier


@contextmanager
def tmpfs(path: Path, size: int) -> Iterator[Path]:
    """A tmpfs of ``size`` bytes mounted on ``path`` for the block; skip the test where mounting is refused."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs for a really full file system needs root (make test runs as root)")
    if shutil.which("mount") is None:
        pytest.skip("no mount(8) on this machine: cannot make a really full file system")
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"mounting a tmpfs was refused ({done.stderr.strip()}): a container without CAP_SYS_ADMIN?")
    try:
        yield path
    finally:
        subprocess.run(["umount", "--lazy", str(path)], check=False)


def fill(ballast: Path, leave: int = 0) -> None:
    """Grow ``ballast`` until its file system has at most ``leave`` bytes free (0: until writes fail)."""
    fd = os.open(ballast, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        while (free := shutil.disk_usage(ballast.parent).free) > leave:
            try:
                os.write(fd, bytes(min(MiB, free - leave)))
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                break
    finally:
        os.close(fd)
    assert shutil.disk_usage(ballast.parent).free <= max(leave, 0)


def free_some(ballast: Path, size: int) -> None:
    """Give ``size`` bytes back by shortening the ballast (tmpfs frees the pages at once)."""
    os.truncate(ballast, max(ballast.stat().st_size - size, 0))


def sample_batch_zip(sample_batch: Path) -> tuple[bytes, dict, dict[str, bytes]]:
    manifest = json.loads((sample_batch / "manifest.json").read_text())
    files = {name: (sample_batch / name).read_bytes() for c in manifest["components"] for name in c["files"]}
    return make_zip(manifest, files), manifest, files


def push(station: httpx.Client, body: bytes) -> httpx.Response:
    return station.post("/api/v1/batches", content=body, headers={"Content-Type": "application/zip"})


def readyz(svc: dict) -> httpx.Response:
    return httpx.get(f"{svc['base']}/readyz", timeout=10)


def gauges(svc: dict, name: str) -> dict[str, float]:
    """The value of a ``sohoa_disk_*`` gauge by folder, as the service's /metrics reports it now."""
    text = httpx.get(f"{svc['base']}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10).text
    out = {}
    for line in text.splitlines():
        if line.startswith(f'{name}{{folder="'):
            labels, value = line.rsplit(" ", 1)
            out[labels.split('"')[1]] = float(value)
    return out


def assert_storage_full(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "1"  # storage.full_retry_after_s
    detail = response.json()["detail"]
    assert detail["code"] == "STORAGE_FULL"
    assert "đầy" in detail["message"] and "gửi lại" in detail["message"]
    assert "detail" not in detail  # the folder and errno go to the log, not to stations


def steps_of(var: Path, code: str) -> list[tuple[int, str, str, int, str | None, str | None]]:
    """(id, kind, state, attempts, error code, not_before) of the dossier's steps, read from the catalogue."""
    with closing(sqlite3.connect(f"file:{var / 'catalogue.sqlite3'}?mode=ro", uri=True, timeout=30)) as db:
        return db.execute(
            "SELECT s.id, s.kind, s.state, s.attempts, s.error_code, s.not_before FROM job_steps s "
            "JOIN components c ON c.id = s.component_id JOIN dossiers d ON d.id = c.dossier_id "
            "WHERE d.code = ? ORDER BY s.id",
            (code,),
        ).fetchall()


def scrub(var: Path, pki: Path, extra: dict[str, str]) -> dict:
    env = os.environ | {"SOHOA_VAR_DIR": str(var), "SOHOA_SIGNING__PKI_DIR": str(pki)} | extra
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "scrub", "--json"], env=env, capture_output=True, text=True, timeout=300
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert done.returncode == 0, (report, done.stderr[-2000:])
    return report


def test_a_full_disk_is_a_retryable_503_and_pending_work_finishes_once_space_is_back(
    tmp_path: Path, shared_pki_dir: Path, sample_batch: Path
) -> None:
    body, manifest, files = sample_batch_zip(sample_batch)
    var = tmp_path / "var"  # the mount itself: the service's log (var/../service.log) stays outside it
    with tmpfs(var, 48 * MiB):
        (var / "tmp").mkdir()
        env = {
            "TMPDIR": str(var / "tmp"),  # multipart spooling, SQLite's and the digitizer's temporary files
            "SOHOA_STORAGE__MIN_FREE_BYTES": str(LOW_MARK),
            "SOHOA_STORAGE__FULL_RETRY_AFTER_S": "1",
            "SOHOA_WORKERS__MAX_ATTEMPTS": "2",  # a full disk must not use these up
            # One worker thread: no other writer fills the last bytes while a step settles (see the report).
            "SOHOA_WORKERS__EMBEDDED_THREADS": "1",
            "SOHOA_API__METRICS_TOKEN": METRICS_TOKEN,
        }
        ballast = var / "ballast"
        with running_service(var, shared_pki_dir, **env) as svc:
            station = httpx.Client(
                base_url=svc["base"], headers={"Authorization": f"Bearer {svc['station_key']}"}, timeout=60
            )
            ready = readyz(svc)
            assert ready.status_code == 200 and ready.json()["status"] == "ok", ready.text
            assert ready.json()["checks"]["disk_space"] == "ok"
            assert gauges(svc, "sohoa_disk_low") == {"var_dir": 0.0, "objects": 0.0, "tmp": 0.0}
            assert gauges(svc, "sohoa_disk_free_bytes")["var_dir"] > LOW_MARK

            # Low, not yet full: reported before any write fails.
            fill(ballast, leave=LOW_MARK // 2)
            ready = readyz(svc)
            assert ready.status_code == 200, ready.text  # lookups and verification still work
            assert ready.json()["status"] == "degraded"
            assert ready.json()["checks"]["disk_space"].startswith("low: var_dir ")
            assert gauges(svc, "sohoa_disk_low") == {"var_dir": 1.0, "objects": 1.0, "tmp": 1.0}
            assert gauges(svc, "sohoa_disk_free_bytes")["var_dir"] <= LOW_MARK // 2

            # Full: a batch, raw or multipart, is refused with a code the station can act on.
            fill(ballast)
            assert_storage_full(push(station, body))
            parts = [("manifest", (None, json.dumps(manifest).encode()))]
            parts += [(name, (name, data, "image/jpeg")) for name, data in files.items()]
            assert_storage_full(station.post("/api/v1/batches", files=parts))
            assert station.get(f"/api/v1/dossiers/{CODE}").status_code == 404  # nothing was recorded

            # Room for the receipt, not for unpacking it: its steps meet the full disk, and wait.
            margin = 256 * 1024
            assert len(body) > 2 * margin
            free_some(ballast, len(body) + margin)
            receipt = push(station, body)
            assert receipt.status_code == 202, receipt.text
            retries: dict[int, set[str]] = {}

            def waited_past_their_attempts() -> bool:
                for step_id, _kind, state, attempts, code, not_before in steps_of(var, CODE):
                    assert state in ("pending", "running"), (step_id, state, code)
                    assert attempts <= 1
                    if code == "STORAGE_FULL" and state == "pending":
                        retries.setdefault(step_id, set()).add(not_before)
                # Each step met the full disk more often than workers.max_attempts allows failures.
                return len(retries) == 3 and all(len(times) > 2 for times in retries.values())

            wait_for(waited_past_their_attempts, 300, "each unpack step to meet the full disk three times")
            status = station.get(f"/api/v1/dossiers/{CODE}").json()
            assert status["state"] == "processing"
            assert {c["state"] for c in status["components"]} == {"pending"}
            assert readyz(svc).json()["status"] == "degraded"

            # Space is freed: the pending work resumes and finishes.
            ballast.unlink()
            done = wait_for(
                lambda: (s := station.get(f"/api/v1/dossiers/{CODE}").json())["state"] != "processing" and s,
                600,
                "the dossier to finish",
            )
            assert done["state"] == "done", done
            assert all(c["document"] for c in done["components"])
            ready = readyz(svc)
            assert ready.status_code == 200 and ready.json()["status"] == "ok", ready.text
            assert gauges(svc, "sohoa_disk_low") == {"var_dir": 0.0, "objects": 0.0, "tmp": 0.0}

            # The station's retry of the refused push gets the same receipt: one dossier.
            again = push(station, body)
            assert again.status_code == 200 and again.json()["dossier_id"] == receipt.json()["dossier_id"]

            # Exactly once: each step ran to done once, each component has one document.
            steps = steps_of(var, CODE)
            assert sorted(kind for _i, kind, *_ in steps) == sorted(["unpack", "digitize", "sign", "store"] * 3)
            assert {state for _i, _k, state, *_ in steps} == {"done"}
            with closing(sqlite3.connect(f"file:{var / 'catalogue.sqlite3'}?mode=ro", uri=True)) as db:
                assert db.execute("SELECT count(*) FROM dossiers").fetchone() == (1,)
                assert db.execute("SELECT count(*), count(DISTINCT component_id) FROM documents").fetchone() == (3, 3)

        report = scrub(var, shared_pki_dir, {"TMPDIR": str(var / "tmp")})
        assert report["clean"] and not report["missing"] and not report["tampered"]
        assert report["checked"] == report["ok"] >= 3 + 4 + 1  # documents, scans, the batch archive


def test_a_full_catalogue_is_a_retryable_503_and_the_retry_is_recorded_once(
    tmp_path: Path, shared_pki_dir: Path, sample_batch: Path
) -> None:
    """The SQLite catalogue alone on a full file system: "database or disk is full" is STORAGE_FULL too."""
    body, _manifest, _files = sample_batch_zip(sample_batch)
    var, db_dir = tmp_path / "var", tmp_path / "catalogue"
    with tmpfs(db_dir, 8 * MiB):
        database = db_dir / "catalogue.sqlite3"
        env = {
            "SOHOA_DATABASE_URL": f"sqlite:///{database}",
            "SOHOA_STORAGE__MIN_FREE_BYTES": str(2 * MiB),
            "SOHOA_STORAGE__FULL_RETRY_AFTER_S": "1",
            "SOHOA_API__METRICS_TOKEN": METRICS_TOKEN,
        }
        ballast = db_dir / "ballast"
        with running_service(var, shared_pki_dir, **env) as svc:
            station = httpx.Client(
                base_url=svc["base"], headers={"Authorization": f"Bearer {svc['station_key']}"}, timeout=60
            )
            assert gauges(svc, "sohoa_disk_low")["catalogue"] == 0.0
            with closing(sqlite3.connect(database, timeout=30)) as db:  # so that the next commit must grow the WAL

                def wal_emptied() -> bool:
                    busy, _frames, _copied = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                    return busy == 0

                wait_for(wal_emptied, 300, "a moment without readers to empty the WAL")
            fill(ballast)
            assert readyz(svc).json()["checks"]["disk_space"].startswith("low: catalogue ")
            assert gauges(svc, "sohoa_disk_low")["catalogue"] == 1.0
            assert_storage_full(push(station, body))

            ballast.unlink()
            first = push(station, body)
            assert first.status_code == 202, first.text
            again = push(station, body)
            assert again.status_code == 200 and again.json()["dossier_id"] == first.json()["dossier_id"]
            with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
                assert db.execute("SELECT count(*) FROM dossiers").fetchone() == (1,)
