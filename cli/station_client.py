"""A scanning station's side of the API: zip a batch, push it, follow its progress events."""

from __future__ import annotations

import io
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

import httpx
from tqdm import tqdm


def zip_folder(folder: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(folder).as_posix())
    return buf.getvalue()


def push_and_follow(base_url: str, api_key: str, batch: Path, idempotency_key: str | None = None) -> dict[str, Any]:
    """Push a batch and block until the dossier finishes; returns its final status."""
    body = zip_folder(batch) if batch.is_dir() else batch.read_bytes()
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/zip"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    with httpx.Client(base_url=base_url, headers={"Authorization": headers["Authorization"]}, timeout=60) as client:
        response = client.post("/api/v1/batches", content=body, headers=headers)
        if response.status_code >= 400:
            detail = response.json().get("detail", {})
            raise SystemExit(f"LỖI {response.status_code}: {detail}")
        receipt = response.json()
        total = len(receipt["components"])
        bar = tqdm(total=total, unit="thành phần", desc=receipt["dossier_code"], file=sys.stderr)
        status: dict[str, Any] = {}
        with client.stream("GET", receipt["events_url"], timeout=None) as events:
            event = None
            for line in events.iter_lines():
                if line.startswith("event: "):
                    event = line.removeprefix("event: ")
                elif line.startswith("data: ") and event == "progress":
                    status = json.loads(line.removeprefix("data: "))
                    bar.n = status["progress"]["done"] + status["progress"]["failed"]
                    bar.refresh()
                elif line.startswith("data: ") and event == "done":
                    break
        bar.close()
        return status
