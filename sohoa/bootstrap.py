"""First-start preparation of a process: folders, schema, development PKI and credentials."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from storage.catalogue.clients import create_client
from storage.catalogue.models import ClientRole
from workers.services import Services

log = logging.getLogger(__name__)


def dev_credentials_path(services: Services) -> Path:
    return services.settings.var_dir / "dev-credentials.json"


def ensure_dev_credentials(services: Services) -> dict[str, str]:
    """One station and one officer key for local use, written once to a 0600 file under var/."""
    path = dev_credentials_path(services)
    if path.exists():
        return json.loads(path.read_text())
    creds = {
        "note": "DEVELOPMENT ONLY: local API keys created on first start",
        "station_key": create_client(services.catalogue, "Trạm quét phát triển", ClientRole.STATION),
        "officer_key": create_client(services.catalogue, "Cán bộ phát triển", ClientRole.OFFICER),
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(creds, fh, indent=2)
    log.info("development API keys written to %s", path)
    return creds


def prepare(services: Services, *, dev_credentials: bool = True) -> None:
    services.prepare()
    if dev_credentials:
        ensure_dev_credentials(services)
