"""Run ``sohoa serve`` as a real process on a free loopback port, for end-to-end and browser tests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_service(var: Path, pki: Path, **env_extra: str) -> Iterator[dict]:
    """Start the service, wait for /readyz, yield its base URL and development keys, stop it."""
    var.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = os.environ | {
        "SOHOA_VAR_DIR": str(var),
        "SOHOA_SIGNING__PKI_DIR": str(pki),
        "SOHOA_API__PORT": str(port),
        "SOHOA_API__PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "SOHOA_WORKERS__POLL_INTERVAL_S": "0.1",
        **env_extra,
    }
    log_path = var.parent / "service.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "sohoa.cli", "serve"], env=env, stdout=log, stderr=log)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None:
                    raise RuntimeError(f"service exited: {log_path.read_text()[-3000:]}")
                time.sleep(0.2)
            creds = json.loads((var / "dev-credentials.json").read_text())
            yield {"base": base, "var": var, "pki": pki, "pid": proc.pid, **creds}
        finally:
            proc.terminate()
            proc.wait(20)
