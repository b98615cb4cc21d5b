"""Helpers shared by tests: external validators and batch builders."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def pdfsig(path: Path, nss: str) -> str:
    assert shutil.which("pdfsig"), "poppler-utils is not installed"
    return subprocess.run(["pdfsig", "-nssdir", nss, str(path)], capture_output=True, text=True, check=False).stdout


def pdftotext(path: Path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def make_zip(manifest: dict, files: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        zf.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False))
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def manifest(components: list[dict], code: str = "000.00.12.H26-261121-0042") -> dict:
    return {
        "dossier_code": code,
        "procedure_code": "1.001193",
        "applicant_id": "001090012345",
        "applicant_name": "Trần Thị Hoa",
        "receiving_centre": "Trung tâm Phục vụ hành chính công phường Ba Đình",
        "components": components,
    }


def run_in_threads(work: Callable[[int], None], count: int, *, timeout: float = 60) -> list[BaseException]:
    """Run ``work(0)`` … ``work(count - 1)`` on threads at once; what they raised, for the caller to assert on."""
    errors: list[BaseException] = []

    def guarded(n: int) -> None:
        try:
            work(n)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), f"threads still running after {timeout} s"
    return errors


def run_steps(services: Any, queues: tuple[str, ...] = ("sign", "store")) -> list[Any]:
    """Run every claimable step of these queues in this thread, as a worker would; returns their RunResults."""
    from workers.runner import StepRunner

    runner, ran = StepRunner(services, "test"), []
    while (step_id := runner.claim_next(queues)) is not None:
        ran.append(runner.run(step_id))
    return ran


# A Redis database of the test servers for rate-limit state (tests/servers.py starts Redis on 6379).
RATE_LIMIT_REDIS_URL = os.environ.get("SOHOA_TEST_RATE_LIMIT_REDIS_URL", "redis://127.0.0.1:6379/12")


class FakeClock:
    """A clock a test moves by hand (``clock.now += 60``) for limiters and budgets."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now
