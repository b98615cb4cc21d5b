"""The committed OpenAPI spec: ``python -m api.openapi`` rewrites ``openapi.json`` at the repository root."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

COMMITTED = Path(__file__).resolve().parent.parent / "openapi.json"


def generate() -> dict[str, Any]:
    """The app's spec; built against a throw-away var folder so that nothing local leaks into it."""
    from api.app import create_app
    from sohoa.settings import Settings

    with tempfile.TemporaryDirectory(prefix="sohoa-openapi-") as tmp:
        return create_app(Settings(var_dir=Path(tmp)), start_workers=False).openapi()


def render(spec: dict[str, Any]) -> str:
    return json.dumps(spec, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def main() -> int:
    text = render(generate())
    if "--check" in sys.argv:
        if COMMITTED.read_text(encoding="utf-8") != text:
            print(f"{COMMITTED} is out of date: run python -m api.openapi", file=sys.stderr)
            return 1
        return 0
    COMMITTED.write_text(text, encoding="utf-8")
    print(f"wrote {COMMITTED}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
