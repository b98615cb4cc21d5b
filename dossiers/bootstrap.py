"""First-start preparation of a process: folders, schema, development PKI and credentials.

The development PKI and API keys exist only in the embedded default (no production signing setting
given); a production start creates neither."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from dossiers.errors import SigningConfigError
from dossiers.services import Services
from dossiers.signer_keys import ensure_default_centre
from storage.catalogue.clients import create_client, list_clients
from storage.catalogue.models import ClientRole

log = logging.getLogger(__name__)

DEV_STATION_NAME = "Trạm quét phát triển"
DEV_OFFICER_NAME = "Cán bộ phát triển"


def dev_credentials_path(services: Services) -> Path:
    return services.settings.var_dir / "dev-credentials.json"


def ensure_dev_credentials(services: Services) -> dict[str, str]:
    """One station and one officer key for local use, written once to a 0600 file under var/.

    Only in development: with production signing configured this raises instead (the officer key
    could issue e-results)."""
    if not services.uses_dev_pki:
        raise SigningConfigError(
            "development API keys are not created when production signing is configured "
            "(create keys with `sohoa keys create`; --sample is for development)"
        )
    path = dev_credentials_path(services)
    if path.exists():
        return json.loads(path.read_text())
    creds = {
        "note": "DEVELOPMENT ONLY: local API keys created on first start",
        "station_key": create_client(services.catalogue, DEV_STATION_NAME, ClientRole.STATION),
        "officer_key": create_client(services.catalogue, DEV_OFFICER_NAME, ClientRole.OFFICER),
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(creds, fh, indent=2)
    log.info("development API keys written to %s", path)
    return creds


def ensure_dev_officer(services: Services) -> dict[str, str] | None:
    """A development centre admin (password and TOTP set up) when the catalogue has no officer yet.

    Its username, password and TOTP secret (with the ``otpauth://`` URI) are added to
    var/dev-credentials.json. Development only, like the API keys; None when officers exist.
    """
    from storage.accounts.dev import create_dev_officer

    if not services.uses_dev_pki:
        raise SigningConfigError("a development officer account is not created when production signing is configured")
    account = create_dev_officer(
        services.catalogue,
        services.settings.totp_key_file,
        services.settings.officer_auth.totp_issuer,
        ensure_default_centre(services),  # where the development station's dossiers go
    )
    if account is None:
        return None
    path = dev_credentials_path(services)
    creds = json.loads(path.read_text()) if path.exists() else {}
    creds["officer_account"] = account
    temp = path.with_name(f".{path.name}.new")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(creds, fh, indent=2, ensure_ascii=False)
    os.replace(temp, path)
    log.info("development officer account %s written to %s", account["username"], path)
    return account


def prepare(services: Services) -> None:
    """Services.prepare, the default centre (from the settings), then the development API keys and officer
    account (development only)."""
    services.prepare()
    ensure_default_centre(services)
    if services.uses_dev_pki:
        ensure_dev_credentials(services)
        ensure_dev_officer(services)
        return
    # A catalogue that once ran in development may still hold its keys: say so, never revoke behind the back.
    left = [
        str(c["prefix"])
        for c in list_clients(services.catalogue)
        if c["name"] in (DEV_STATION_NAME, DEV_OFFICER_NAME) and not c["revoked"]
    ]
    if left:
        log.warning(
            "development API keys still valid here; revoke each: sohoa keys revoke PREFIX (%s)", ", ".join(left)
        )
