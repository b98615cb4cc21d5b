"""bench/pipeline: the same dossiers through the embedded pool and through Celery + Redis, one run.

    .venv/bin/python -m bench.pipeline [--dossiers 50]

Each dossier is the bundled sample (3 components, 1-2 pages each: real OCR, signing and
storage). Modes: embedded (2 threads), Celery with 1 worker process, Celery with 2.
Prints pages/s of each, the 2-vs-1 process scaling, and Hà Nội's commune-level load
(≈ 8,000 dossiers/day) in pages/s beside it. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from dossiers.batch_reader import read_batch
from dossiers.intake import ingest
from dossiers.sample import SAMPLE_BATCH
from dossiers.services import Services
from sohoa.settings import Settings, SigningSettings, WorkerSettings
from testkit.faults import CeleryWorker, settled
from testkit.servers import PrivateRedis
from workers.dispatcher import Dispatcher
from workers.embedded import EmbeddedPool

HANOI_DOSSIERS_PER_DAY = 8000


def batches(root: Path, count: int) -> list[Path]:
    manifest = json.loads((SAMPLE_BATCH / "manifest.json").read_text())
    out = []
    for i in range(count):
        folder = root / f"d{i}"
        shutil.copytree(SAMPLE_BATCH, folder)
        manifest["dossier_code"] = f"000.00.12.H26-261121-{i + 1000:04d}"
        (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False))
        out.append(folder)
    return out


def settings_for(var: Path, pki: Path, **workers: object) -> Settings:
    return Settings(
        var_dir=var, signing=SigningSettings(pki_dir=pki), workers=WorkerSettings(poll_interval_s=0.1, **workers)
    )


def wait(services: Services, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        finished, total = settled(services)
        print(f"\r  {finished}/{total} components", end="", file=sys.stderr, flush=True)
        if finished == total:
            print(file=sys.stderr)
            return
        time.sleep(0.25)
    raise TimeoutError("pipeline did not finish")


def ingest_all(services: Services, folders: list[Path]) -> int:
    pages = 0
    for folder in folders:
        receipt = ingest(services, read_batch(folder))
        pages += sum(c["pages"] for c in receipt.components)
    return pages


def run_embedded(root: Path, pki: Path, folders: list[Path], timeout: float) -> tuple[int, float]:
    services = Services(settings_for(root / "embedded", pki))
    services.prepare()
    pool = EmbeddedPool(services, threads=2)
    started = time.monotonic()
    pages = ingest_all(services, folders)
    pool.start()
    try:
        wait(services, timeout)
    finally:
        pool.stop()
        services.close()
    return pages, time.monotonic() - started


def run_celery(root: Path, pki: Path, folders: list[Path], processes: int, timeout: float) -> tuple[int, float]:
    broker = PrivateRedis(root)
    broker.start()
    settings = settings_for(root / f"celery{processes}", pki, mode="celery", broker_url=broker.url)
    services = Services(settings)
    services.prepare()
    worker = CeleryWorker(
        {
            "SOHOA_VAR_DIR": str(settings.var_dir),
            "SOHOA_SIGNING__PKI_DIR": str(pki),
            "SOHOA_WORKERS__MODE": "celery",
            "SOHOA_WORKERS__BROKER_URL": broker.url,
        },
        root / f"worker{processes}.log",
        concurrency=processes,
    )
    worker.start()
    time.sleep(3)  # let the worker processes boot before the clock starts
    dispatcher = Dispatcher(services)
    started = time.monotonic()
    try:
        pages = ingest_all(services, folders)
        dispatcher.start()
        wait(services, timeout)
        return pages, time.monotonic() - started
    finally:
        dispatcher.stop()
        worker.stop()
        broker.stop()
        services.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dossiers", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=3600)
    args = parser.parse_args()
    from signing.dev import ensure_dev_pki

    with tempfile.TemporaryDirectory(prefix="sohoa-bench-pipeline-") as tmp:
        root = Path(tmp)
        ensure_dev_pki(root / "pki")
        folders = batches(root / "batches", args.dossiers)
        figures: dict[str, float] = {"dossiers": args.dossiers}
        for name, run in (
            ("embedded_2_threads", lambda: run_embedded(root, root / "pki", folders, args.timeout)),
            ("celery_1_process", lambda: run_celery(root, root / "pki", folders, 1, args.timeout)),
            ("celery_2_processes", lambda: run_celery(root, root / "pki", folders, 2, args.timeout)),
        ):
            print(f"{name}:", file=sys.stderr)
            pages, seconds = run()
            figures["pages"] = pages
            figures[f"{name}_seconds"] = round(seconds, 2)
            figures[f"{name}_pages_per_s"] = round(pages / seconds, 3)
            print(f"{name:>20}: {pages} pages in {seconds:7.1f} s = {pages / seconds:6.3f} pages/s")
        pages_per_dossier = figures["pages"] / args.dossiers
        load = HANOI_DOSSIERS_PER_DAY * pages_per_dossier / 86400
        figures["hanoi_load_pages_per_s"] = round(load, 3)
        figures["celery_2_vs_1"] = round(
            figures["celery_2_processes_pages_per_s"] / figures["celery_1_process_pages_per_s"], 2
        )
        best = max(figures["embedded_2_threads_pages_per_s"], figures["celery_2_processes_pages_per_s"])
        figures["headroom_vs_hanoi"] = round(best / load, 2)
        print(f"Celery 2 processes vs 1: {figures['celery_2_vs_1']}x (target >= 1.8x)")
        print(
            f"Hà Nội commune level: {HANOI_DOSSIERS_PER_DAY} dossiers/day x {pages_per_dossier:.1f} pages = "
            f"{load:.3f} pages/s; this machine: {best:.3f} pages/s = {figures['headroom_vs_hanoi']}x"
        )
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
