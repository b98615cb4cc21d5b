"""Build the configured object store."""

from __future__ import annotations

from sohoa.settings import Settings
from storage.objectstore.base import ObjectStore, StorePolicy
from storage.objectstore.retry import RetryPolicy


def store_policy(settings: Settings) -> StorePolicy:
    s = settings.storage
    return StorePolicy(
        raw_expiry_days=s.raw_expiry_days,
        results_retention_years=s.results_retention_years,
        results_legal_hold=s.results_legal_hold,
    )


def open_object_store(settings: Settings) -> ObjectStore:
    s = settings.storage
    if s.backend == "s3":
        from storage.objectstore.s3 import S3ObjectStore

        assert s.s3_endpoint and s.s3_access_key and s.s3_secret_key
        return S3ObjectStore(
            s.s3_endpoint,
            s.s3_access_key,
            s.s3_secret_key,
            secure=s.s3_secure,
            prefix=s.bucket_prefix,
            policy=store_policy(settings),
            retry=RetryPolicy(total_s=s.retry_total_s),
            part_size=s.multipart_part_size,
        )
    from storage.objectstore.links import load_or_create_secret
    from storage.objectstore.local import LocalObjectStore

    secret = load_or_create_secret(s.link_secret_file) if s.link_secret_file else None
    return LocalObjectStore(settings.objects_dir, store_policy(settings), link_secret=secret)
