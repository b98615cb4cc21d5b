"""Shared fixtures: isolated settings per test, one development PKI per session, real databases."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from dossiers.services import Services
from signing.dev import DevPkiHttp
from sohoa.settings import Settings, SigningSettings, StorageSettings, WorkerSettings
from testkit.pki import PkiServer, ServedPki
from testkit.servers import PG_TEST_URL, SeaweedS3
from testkit.softhsm import SoftHsmToken, init_token

pytest_plugins = ["tests.notice_servers"]  # the SMTP server and SMS gateway fixtures of the notice tests


@pytest.fixture(scope="session")
def dev_pki_http() -> Iterator[DevPkiHttp]:
    """The test process's development PKIs' CRLs and OCSP over HTTP (for pdfsig and other processes)."""
    server = DevPkiHttp()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def shared_pki_dir(tmp_path_factory: pytest.TempPathFactory, dev_pki_http: DevPkiHttp) -> Path:
    """The development PKI is generated once per test session (RSA key generation is slow)."""
    from signing.dev import ensure_dev_pki

    path = tmp_path_factory.mktemp("pki")
    ensure_dev_pki(path, base_url=dev_pki_http.base_url("shared"))
    return path


@pytest.fixture(scope="session")
def softhsm_token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SoftHsmToken]:
    """The process's SoftHSM2 token (PKCS#11 reads its token folder once per process): tests add their keys."""
    old = os.environ.get("SOFTHSM2_CONF")
    try:
        yield init_token(tmp_path_factory.mktemp("softhsm"))
    except RuntimeError as exc:
        pytest.fail(str(exc))
    finally:
        if old is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = old


@pytest.fixture(scope="session")
def pki_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PkiServer]:
    """The test PKI served on 127.0.0.1 (OCSP, CRL, RFC 3161): stands in for the agency's production PKI."""
    with PkiServer(tmp_path_factory.mktemp("servedpki")) as server:
        yield server


@pytest.fixture(scope="session")
def served(pki_server: PkiServer) -> ServedPki:
    return pki_server.pki


def production_signing(served: ServedPki, **changes: object) -> dict[str, object]:
    """A complete production signing configuration from the served PKI (``None`` in ``changes`` leaves one out)."""
    complete: dict[str, object] = {
        "agency_p12": served.p12("agency"),
        "operator_p12": served.p12("operator"),
        "p12_passphrase_file": served.directory / "passphrase.txt",
        "trust_roots": (served.root_cert,),
        "tsa_url": served.tsa_url,
        "seal_png": served.seal_png,
    }
    return {k: v for k, v in (complete | changes).items() if v is not None}


@pytest.fixture
def own_seaweed() -> Iterator[SeaweedS3]:
    """A SeaweedFS server of this test's own, to be taken down (and brought back on the same port and data)."""
    with SeaweedS3() as server:
        yield server


def s3_storage(server: SeaweedS3, **changes: object) -> StorageSettings:
    """Storage settings for a SeaweedFS server of the tests, with buckets of their own (a fresh prefix)."""
    return StorageSettings(
        backend="s3",
        s3_endpoint=server.endpoint,
        s3_access_key=server.access_key,
        s3_secret_key=server.secret_key,
        **{"bucket_prefix": f"t{uuid.uuid4().hex[:10]}", **changes},  # type: ignore[arg-type]
    )


def make_settings(var_dir: Path, pki_dir: Path, database_url: str | None = None, **workers: object) -> Settings:
    return Settings(
        var_dir=var_dir,
        database_url=database_url,
        signing=SigningSettings(pki_dir=pki_dir),
        workers=WorkerSettings(poll_interval_s=0.05, **workers),  # type: ignore[arg-type]
    )


@pytest.fixture
def settings(tmp_path: Path, shared_pki_dir: Path) -> Settings:
    return make_settings(tmp_path / "var", shared_pki_dir)


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    svc = Services(settings)
    svc.prepare()
    yield svc
    svc.close()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL schema-per-test database URL on the real server."""
    engine = create_engine(PG_TEST_URL)
    name = f"t_{uuid.uuid4().hex[:12]}"
    try:
        with engine.connect() as conn:
            conn.execute(text(f"CREATE SCHEMA {name}"))
            conn.commit()
    except Exception as exc:  # pragma: no cover - environment problem, reported loudly
        pytest.fail(f"PostgreSQL not reachable at {PG_TEST_URL}: {exc} (run scripts/test-services.sh)")
    yield f"{PG_TEST_URL}?options=-csearch_path%3D{name}"
    with engine.connect() as conn:
        conn.execute(text(f"DROP SCHEMA {name} CASCADE"))
        conn.commit()
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_services(request: pytest.FixtureRequest, tmp_path: Path, shared_pki_dir: Path) -> Iterator[Services]:
    """Services on SQLite and on the real PostgreSQL server."""
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    svc = Services(make_settings(tmp_path / "var", shared_pki_dir, database_url=url))
    svc.prepare()
    yield svc
    svc.close()


@pytest.fixture(scope="session")
def sample_batch() -> Path:
    from dossiers.sample import SAMPLE_BATCH

    assert (SAMPLE_BATCH / "manifest.json").exists(), "bundled sample batch is missing"
    return SAMPLE_BATCH


@pytest.fixture(scope="session")
def nss_dir(tmp_path_factory: pytest.TempPathFactory, shared_pki_dir: Path) -> str:
    """An NSS database trusting the development root, for poppler's pdfsig."""
    from signing.dev import ensure_dev_pki

    pki = ensure_dev_pki(shared_pki_dir)
    path = tmp_path_factory.mktemp("nss")
    db = f"sql:{path}"
    subprocess.run(["certutil", "-N", "-d", db, "--empty-password"], check=True, capture_output=True)
    for nick, cert in (("root", pki.root_cert), ("ca", pki.ca_cert)):
        subprocess.run(["certutil", "-A", "-n", nick, "-t", "CT,C,C", "-i", str(cert), "-d", db], check=True)
    return db
