"""The bundled sample batch (a few scanned dossier components with their manifest), and its ingestion.

``sohoa serve --sample`` ingests it as the development station so that a new install has something
to show; ``sohoa demo`` and the benches run it end to end.
"""

from __future__ import annotations

import logging
from importlib.resources import files
from pathlib import Path

from dossiers.batch_reader import read_batch
from dossiers.bootstrap import ensure_dev_credentials
from dossiers.intake import ingest
from dossiers.services import Services
from sohoa.errors import SohoaError
from storage.catalogue.clients import authenticate

log = logging.getLogger(__name__)
SAMPLE_BATCH = Path(str(files("dossiers") / "samples" / "batch"))


def ingest_sample_batch(services: Services) -> None:
    """Ingest the bundled sample as the development station, so a new install has something to show."""
    station = authenticate(services.catalogue, ensure_dev_credentials(services)["station_key"])
    try:
        receipt = ingest(services, read_batch(SAMPLE_BATCH), station_id=station.id if station else None)
    except SohoaError as exc:
        log.warning("sample batch not ingested: %s", exc)
        return
    log.info("sample dossier %s ingested (new: %s)", receipt.dossier_code, receipt.created)
