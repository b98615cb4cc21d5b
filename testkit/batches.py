"""Station batches for tests and benchmarks: a zip with its manifest, and many small components of real text."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def make_zip(manifest: dict[str, Any], files: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        zf.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False))
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def manifest(components: list[dict[str, Any]], code: str = "000.00.12.H26-261121-0042") -> dict[str, Any]:
    return {
        "dossier_code": code,
        "procedure_code": "1.001193",
        "applicant_id": "001090012345",
        "applicant_name": "Trần Thị Hoa",
        "receiving_centre": "Trung tâm Phục vụ hành chính công phường Ba Đình",
        "components": components,
    }


def small_page(text: str) -> bytes:
    """A 200-dpi strip with one line of Vietnamese text: real OCR work, but fast."""
    image = Image.new("RGB", (900, 120), "white")
    ImageDraw.Draw(image).text((30, 35), text, fill="black", font=ImageFont.truetype(FONT, 36))
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=90, dpi=(200, 200))
    return buf.getvalue()


def many_components_batch(path: Path, code: str, count: int) -> Path:
    comps = [{"id": f"c{i}", "declared_type": "other", "files": [f"p{i}.jpg"]} for i in range(count)]
    files = {f"p{i}.jpg": small_page(f"Thành phần số {i} của hồ sơ {code[-4:]}") for i in range(count)}
    path.write_bytes(make_zip(manifest(comps, code=code), files))
    return path
