"""Build the configured object store."""

from __future__ import annotations

from sohoa.settings import Settings
from storage.objectstore.base import ObjectStore


def open_object_store(settings: Settings) -> ObjectStore:
    if settings.storage.backend == "s3":
        from storage.objectstore.s3 import S3ObjectStore

        s = settings.storage
        assert s.s3_endpoint and s.s3_access_key and s.s3_secret_key
        return S3ObjectStore(
            s.s3_endpoint, s.s3_access_key, s.s3_secret_key, secure=s.s3_secure, prefix=s.bucket_prefix
        )
    from storage.objectstore.local import LocalObjectStore

    return LocalObjectStore(settings.objects_dir)
