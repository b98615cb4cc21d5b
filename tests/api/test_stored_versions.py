"""Documents and e-results name the object version they were written as, and the API reads that version.

Against a real SeaweedFS (versioned documents bucket, object-locked results bucket). A read
that names its version is served without resolving the newest one; an object overwritten
behind the warehouse's back shows the difference: a read of the newest finds the wrong
bytes and falls back (with a warning), a read of the written version gets them at once.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from signing.validation import verify_pdf
from sohoa.settings import Settings
from storage.catalogue.models import Document, EResult
from storage.objectstore import Bucket, sha256_hex
from storage.objectstore.s3 import S3ObjectStore
from testkit.servers import SeaweedS3
from tests.api.conftest import Api, add_signed_document, issue_signed_result, push_dossier
from tests.conftest import make_settings, s3_storage

pytestmark = pytest.mark.integration
CODE = "000.00.12.H26-261121-0301"
FALLBACK = "deleted or altered"


@pytest.fixture(scope="module")
def seaweed() -> Iterator[SeaweedS3]:
    with SeaweedS3() as server:
        yield server


@pytest.fixture
def settings(tmp_path: Path, shared_pki_dir: Path, seaweed: SeaweedS3) -> Settings:
    return make_settings(tmp_path / "var", shared_pki_dir).model_copy(update={"storage": s3_storage(seaweed)})


def _overwrite(store: S3ObjectStore, bucket: Bucket, key: str) -> None:
    """A newer version under the same key, written with the service's own credentials (not through the warehouse)."""
    store.client.put_object(store.bucket_name(bucket), key, io.BytesIO(b"%PDF-1.7 not the signed one"), 27)


def _fallbacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "storage.objectstore.s3" and FALLBACK in r.getMessage()]


def test_an_e_result_is_read_as_the_version_it_was_stored_as(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    push_dossier(api, CODE)
    code = issue_signed_result(api, CODE)
    store = api.services.store
    assert isinstance(store, S3ObjectStore)
    with api.services.catalogue.reading() as s:
        row = s.scalar(select(EResult).where(EResult.code == code))
        key, sha, version = row.object_key, row.sha256, row.object_version
    assert version and store.versions(Bucket.RESULTS, key) == [version]

    _overwrite(store, Bucket.RESULTS, key)
    caplog.set_level(logging.WARNING, logger="storage.objectstore.s3")
    pdf = api.client.get(f"/api/v1/results/{code}/pdf", headers=api.officer)
    assert pdf.status_code == 200 and sha256_hex(pdf.content) == sha
    page = api.client.get(f"/tra-cuu/ket-qua/{code}")  # the QR page reads the result to verify it
    assert page.status_code == 200 and "Tài liệu hợp lệ" in page.text
    assert _fallbacks(caplog) == []  # both read the version written: the overwrite was never fetched

    # The same read by the newest version meets the overwrite, and only the hash check saves it.
    data = api.services.warehouse.get_bytes(Bucket.RESULTS, key, actor="test", sha256=sha)
    assert sha256_hex(data) == sha and len(_fallbacks(caplog)) == 1


def test_a_document_is_read_as_the_version_it_was_stored_as(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    doc_id = add_signed_document(api.services, owner_id="001090012345", doc_type="birth_certificate", code=CODE)
    with api.services.catalogue.reading() as s:
        doc = s.get_one(Document, doc_id)
        key, sha, version = doc.object_key, doc.sha256, doc.object_version
    store = api.services.store
    assert isinstance(store, S3ObjectStore) and version and store.versions(Bucket.DOCUMENTS, key) == [version]

    _overwrite(store, Bucket.DOCUMENTS, key)
    caplog.set_level(logging.WARNING, logger="storage.objectstore.s3")
    pdf = api.client.get(f"/api/v1/documents/{doc_id}/pdf", headers=api.officer)
    assert pdf.status_code == 200 and sha256_hex(pdf.content) == sha
    assert verify_pdf(pdf.content, api.services.trust_roots).valid
    assert _fallbacks(caplog) == []

    # The version written removed as well: the read falls back to what is left, and refuses the altered bytes.
    store.client.remove_object(store.bucket_name(Bucket.DOCUMENTS), key, version_id=version)
    gone = api.client.get(f"/api/v1/documents/{doc_id}/pdf", headers=api.officer)
    assert gone.status_code == 500 and gone.json()["detail"]["code"] == "OBJECT_INTEGRITY"
