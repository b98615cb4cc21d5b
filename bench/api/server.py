"""The API process under test: ``python -m bench.api.server PORT [PROCESSES]`` (settings from SOHOA_*).

Workers are not started here: the benchmark measures the front door (receipt), as on an API host
of a distributed deployment whose OCR and signing pools run elsewhere. With PROCESSES > 1, that many
API processes serve the port (``api.processes``, a socket each), as ``sohoa serve --processes N`` does;
the catalogue must be migrated first (``sohoa migrate``).
"""

from __future__ import annotations

import sys

import uvicorn
from fastapi import FastAPI

from api import processes as api_processes
from api.app import create_app
from api.serving import uvicorn_options
from sohoa.settings import get_settings


def front_door() -> FastAPI:
    return create_app(start_workers=False)


def main() -> None:
    port = int(sys.argv[1])
    processes = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    settings = get_settings()
    settings = settings.model_copy(update={"api": settings.api.model_copy(update={"host": "127.0.0.1", "port": port})})
    options = uvicorn_options(settings, log_level="warning", access_log=False)  # as `sohoa serve` serves
    if processes == 1:
        uvicorn.run("bench.api.server:front_door", factory=True, **options)
    else:
        api_processes.run("bench.api.server:front_door", processes=processes, **options)  # as `sohoa serve` runs them


if __name__ == "__main__":
    main()
