"""Page images of a component for the review workspace, rendered once and cached by content hash.

The source is the digitised PDF in the work bucket (straightened pages, what the copy will show),
else the stored document, else the raw scan of that page. Renders are kept under
``<work dir>/previews/<sha256 of the source>-<page>.png``: the same bytes give the same image.
"""

from __future__ import annotations

import logging
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy import select

from digitizer.page_preview import MAX_SIDE, image_png, pdf_page_png
from dossiers.review_errors import PageNotFound
from dossiers.services import Services
from dossiers.workspace import digitize_output, load_component
from sohoa.errors import SohoaError
from storage.catalogue.models import Document, ScanFile
from storage.objectstore import Bucket

log = logging.getLogger(__name__)
MAX_PAGE = 1000
_PDF_SUFFIXES = (".pdf",)


def _sources(services: Services, component_id: int, centre_id: int, page: int) -> list[tuple[Bucket, str, str, bool]]:
    """(bucket, key, sha256, is_pdf) to try, best first."""
    with services.catalogue.reading() as s:
        comp = load_component(s, component_id, centre_id)
        output = digitize_output(s, comp.id) or {}
        doc = s.scalar(select(Document).where(Document.component_id == comp.id))
        scans = list(s.scalars(select(ScanFile).where(ScanFile.component_id == comp.id).order_by(ScanFile.position)))
        pages = len(output.get("pages") or []) or (doc.page_count if doc else 0) or len(scans)
        if not 1 <= page <= min(max(pages, 1), MAX_PAGE):
            raise PageNotFound(f"component {component_id} page {page}")
        out: list[tuple[Bucket, str, str, bool]] = []
        if output.get("pdf_key") and output.get("pdf_sha256"):
            out.append((Bucket.WORK, output["pdf_key"], output["pdf_sha256"], True))
        if doc is not None:
            out.append((Bucket.DOCUMENTS, doc.object_key, doc.sha256, True))
        if len(scans) >= page:  # one scan per page (a multi-page scan is a PDF or TIFF: its first page only)
            scan = scans[page - 1]
            out.append((Bucket.RAW, scan.object_key, scan.sha256, scan.filename.lower().endswith(_PDF_SUFFIXES)))
        return out


def page_png(services: Services, component_id: int, centre_id: int, page: int) -> tuple[bytes, str]:
    """The PNG of page ``page`` (1-based) of a component of the centre, and its cache key (an ETag)."""
    cache = services.settings.work_dir / "previews"
    for bucket, key, sha256, is_pdf in _sources(services, component_id, centre_id, page):
        tag = f"{sha256}-{page}-{MAX_SIDE}"
        cached = cache / f"{tag}.png"
        if cached.exists():
            return cached.read_bytes(), tag
        try:
            with tempfile.TemporaryDirectory(dir=services.settings.work_dir, prefix="preview-") as tmp:
                source = Path(tmp) / ("source.pdf" if is_pdf else "source")
                services.store.get_to_file(bucket, key, source, sha256=sha256)
                png = pdf_page_png(source, page) if is_pdf else image_png(source)
        except (SohoaError, OSError, ValueError, subprocess.SubprocessError) as exc:  # gone, or unreadable: next source
            log.info("preview of component %s page %s from %s/%s failed: %r", component_id, page, bucket, key, exc)
            continue
        cache.mkdir(parents=True, exist_ok=True)
        tmp_path = cached.with_suffix(".tmp")
        tmp_path.write_bytes(png)
        tmp_path.replace(cached)
        return png, tag
    raise PageNotFound(f"component {component_id} page {page}: no source")
