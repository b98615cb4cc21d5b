"""The API process under test: ``python -m bench.api.server PORT`` (settings from SOHOA_* variables).

Workers are not started here: the benchmark measures the front door (receipt), as on an API host
of a distributed deployment whose OCR and signing pools run elsewhere.
"""

from __future__ import annotations

import sys

import uvicorn

from api.app import create_app


def main() -> None:
    port = int(sys.argv[1])
    uvicorn.run(create_app(start_workers=False), host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
