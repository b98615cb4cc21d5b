"""A real OpenID Connect provider for tests: panva's certified ``oidc-provider`` run by node.

``testkit/oidc/provider.mjs`` starts it with development interactions (a login form that takes any
name and password, then a consent button); ``make test`` installs it with ``npm ci`` from the
committed package.json and package-lock.json (``scripts/system-deps.sh test`` installs nodejs/npm).
Nothing is fetched at test time.
"""

from __future__ import annotations

import json
import secrets
import shutil
import signal
import subprocess
from pathlib import Path
from types import TracebackType
from typing import Any

from testkit.servers import free_port, start_owned, wait_ready

PROVIDER_DIR = Path(__file__).parent / "oidc"


class OidcProviderServer:
    """``oidc-provider`` on 127.0.0.1 with the given clients (``client_id``, ``client_secret``, ``redirect_uris``).

    ``accounts``: extra claims per login name (every name signs in; ``preferred_username`` is the name).
    """

    def __init__(self, workdir: Path, clients: list[dict[str, Any]], accounts: dict[str, dict[str, Any]] | None = None):
        self.workdir = workdir
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.clients = clients
        self.accounts = accounts or {}
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> OidcProviderServer:
        node = shutil.which("node")
        if node is None or not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
            raise RuntimeError("oidc-provider is not installed: run `make test` (npm ci --prefix testkit/oidc)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "oidc-provider.json"
        config.write_text(
            json.dumps(
                {
                    "port": self.port,
                    "issuer": self.issuer,
                    "cookie_key": secrets.token_hex(16),
                    "clients": self.clients,
                    "accounts": self.accounts,
                }
            )
        )
        log_path = self.workdir / "oidc-provider.log"
        with open(log_path, "wb") as log:
            self._proc = start_owned(
                [node, str(PROVIDER_DIR / "provider.mjs"), str(config)],
                on_owner_exit=signal.SIGKILL,
                stdout=log,
                stderr=log,
                cwd=PROVIDER_DIR,
            )
        wait_ready(f"{self.issuer}/.well-known/openid-configuration", self._proc, log_path, timeout=30)
        return self

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(10)
            self._proc = None

    def __enter__(self) -> OidcProviderServer:
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()
