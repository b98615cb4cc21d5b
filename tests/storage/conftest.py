"""Object-store fixtures: one conformance suite runs against the local store and a real S3 server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from storage.catalogue.db import Catalogue, migrate
from storage.objectstore import ObjectStore, StorePolicy
from storage.objectstore.local import LocalObjectStore
from storage.objectstore.retry import RetryPolicy
from storage.objectstore.s3 import S3ObjectStore
from testkit.servers import SeaweedS3

POLICY = StorePolicy(raw_expiry_days=7, results_retention_years=1, results_legal_hold=False)


@pytest.fixture(scope="session")
def seaweed() -> Iterator[SeaweedS3]:
    """One SeaweedFS S3 server for the session (started here; a failure to start fails the tests)."""
    server = SeaweedS3()
    server.start()
    yield server
    server.cleanup()


def s3_store(server: SeaweedS3, *, retry_s: float = 5.0, part_size: int = 5 * 1024 * 1024) -> S3ObjectStore:
    return S3ObjectStore(
        server.endpoint,
        server.access_key,
        server.secret_key,
        secure=False,
        prefix=f"t{uuid.uuid4().hex[:10]}",
        policy=POLICY,
        retry=RetryPolicy(total_s=retry_s),
        part_size=part_size,
    )


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "local":
        return LocalObjectStore(tmp_path / "objects", POLICY)
    return s3_store(request.getfixturevalue("seaweed"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database (not migrated) on SQLite or the real PostgreSQL server, for migration tests."""
    if request.param == "postgresql":
        return request.getfixturevalue("pg_url")
    return f"sqlite:///{tmp_path / 'catalogue.sqlite3'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def catalogue(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Catalogue]:
    """A migrated catalogue on SQLite and on the real PostgreSQL server."""
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
    else:
        url = f"sqlite:///{tmp_path / 'catalogue.sqlite3'}"
    migrate(url)
    cat = Catalogue(url)
    yield cat
    cat.dispose()


@pytest.fixture
def sqlite_catalogue(tmp_path: Path) -> Iterator[Catalogue]:
    url = f"sqlite:///{tmp_path / 'catalogue.sqlite3'}"
    migrate(url)
    cat = Catalogue(url)
    yield cat
    cat.dispose()


@pytest.fixture
def storage_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[click.Group]:
    """The warehouse commands on a click group, with settings for a fresh ``var`` folder."""
    from cli.storage_commands import register
    from sohoa.settings import get_settings

    monkeypatch.setenv("SOHOA_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()

    @click.group()
    def cli() -> None:
        pass

    register(cli)
    yield cli
    get_settings.cache_clear()
