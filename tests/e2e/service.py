"""Run ``sohoa serve`` as a real process on a free loopback port, for end-to-end and browser tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from signing.devpki import existing_dev_pki
from tests.servers import free_port, wait_ready


@contextmanager
def running_service(var: Path, pki: Path, *, keep_pki_url: bool = True, **env_extra: str) -> Iterator[dict]:
    """Start the service, wait for /readyz, yield its base URL and development keys, stop it.

    ``keep_pki_url``: an existing (shared) PKI keeps naming the responders the test session serves;
    without it, the service re-issues the PKI's certificates for its own address, as it does in use.
    """
    var.mkdir(parents=True, exist_ok=True)
    port = free_port()
    shared = existing_dev_pki(pki) if keep_pki_url else None
    keep_url = {"SOHOA_SIGNING__DEV_PKI_URL": shared.base_url} if shared and shared.base_url else {}
    env = (
        os.environ
        | keep_url
        | {
            "SOHOA_VAR_DIR": str(var),
            "SOHOA_SIGNING__PKI_DIR": str(pki),
            "SOHOA_API__PORT": str(port),
            "SOHOA_API__PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "SOHOA_WORKERS__POLL_INTERVAL_S": "0.1",
            **env_extra,
        }
    )
    log_path = var.parent / "service.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "sohoa.cli", "serve"], env=env, stdout=log, stderr=log)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_ready(f"{base}/readyz", proc, log_path, timeout=60)
            creds = json.loads((var / "dev-credentials.json").read_text())
            yield {"base": base, "port": port, "var": var, "pki": pki, "pid": proc.pid, **creds}
        finally:
            proc.terminate()
            proc.wait(20)
