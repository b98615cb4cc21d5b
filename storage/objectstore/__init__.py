"""Object store: the S3 data warehouse or a local-disk stand-in, behind one interface."""

from storage.errors import ObjectLocked
from storage.objectstore.base import (
    Bucket,
    LockState,
    ObjectInfo,
    ObjectStore,
    Staged,
    StoredObject,
    StorePolicy,
    content_key,
    sha256_hex,
)
from storage.objectstore.factory import open_object_store

__all__ = [
    "Bucket",
    "LockState",
    "ObjectInfo",
    "ObjectLocked",
    "ObjectStore",
    "Staged",
    "StorePolicy",
    "StoredObject",
    "content_key",
    "open_object_store",
    "sha256_hex",
]
