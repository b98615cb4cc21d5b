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
        return follow(client, receipt["dossier_code"], receipt["events_url"], len(receipt["components"]))


def follow(client: httpx.Client, code: str, events_url: str, total: int) -> dict[str, Any]:
    """Show the dossier's progress events until it finishes; its final status."""
    bar = tqdm(total=total, unit="thành phần", desc=code, file=sys.stderr)
    status: dict[str, Any] = {}
    with client.stream("GET", events_url, timeout=None) as events:
        event = None
        for line in events.iter_lines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: ") and event == "progress":
                status = json.loads(line.removeprefix("data: "))
                bar.total = status["progress"]["total"]
                bar.n = status["progress"]["done"] + status["progress"]["failed"]
                bar.refresh()
            elif line.startswith("data: ") and event == "done":
                break
    bar.close()
    return status


def _refused(response: httpx.Response) -> None:
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail", {})
        except ValueError:
            detail = response.text
        raise SystemExit(f"LỖI {response.status_code}: {detail}")


def resend_and_follow(
    base_url: str, api_key: str, code: str, ref: str, files: list[Path], idempotency_key: str | None = None
) -> dict[str, Any]:
    """Send one failed component's scans again and block until the dossier finishes; its final status."""
    headers = {"Authorization": f"Bearer {api_key}"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    with httpx.Client(base_url=base_url, headers={"Authorization": headers["Authorization"]}, timeout=60) as client:
        handles = [path.open("rb") for path in files]
        try:
            parts = [
                ("files", (path.name, fh, "application/octet-stream")) for path, fh in zip(files, handles, strict=True)
            ]
            response = client.put(f"/api/v1/dossiers/{code}/components/{ref}", files=parts, headers=headers)
        finally:
            for fh in handles:
                fh.close()
        _refused(response)
        receipt = response.json()
        print(f"Đã gửi lại thành phần {ref} ({receipt['pages']} tệp quét).", file=sys.stderr)
        return follow(client, code, receipt["events_url"], 0)


def attach_stored(
    base_url: str, api_key: str, code: str, ref: str, document_id: int, purpose: str = ""
) -> dict[str, Any]:
    """An officer completes a component by a stored document of the applicant; the component's reuse."""
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=60) as client:
        body = {"document_id": document_id, "purpose": purpose}
        response = client.post(f"/api/v1/dossiers/{code}/components/{ref}/reuse", json=body)
        _refused(response)
        return dict(response.json())
