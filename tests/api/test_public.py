"""Probes and metrics: readiness checks the catalogue, the object store and, in Celery mode, the broker."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import socket
import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url
from starlette.requests import Request

from api.app import create_app
from api.errors import sohoa_error_handler
from dossiers.errors import FileMissing
from sohoa.settings import Settings, WorkerSettings
from storage.errors import ObjectStoreUnavailable
from storage.objectstore.local import LocalObjectStore
from storage.objectstore.s3 import S3ObjectStore
from testkit.servers import SeaweedS3
from tests.api.conftest import Api
from tests.conftest import s3_storage

STORE_DOWN = f"error: {ObjectStoreUnavailable.__name__}"


def test_readyz_reports_each_dependency(api: Api) -> None:
    body = api.client.get("/readyz").json()
    assert body == {"status": "ok", "checks": {"catalogue": "ok", "object_store": "ok", "disk_space": "ok"}}
    assert api.client.get("/healthz").json() == {"status": "ok"}


def test_readyz_reports_a_lost_local_object_store(api: Api) -> None:
    store = api.services.store
    assert isinstance(store, LocalObjectStore) and store.root.is_dir()
    assert api.client.get("/readyz").status_code == 200
    shutil.rmtree(store.root)  # the disk went away (a read-only folder would not do: CI runs as root)
    r = api.client.get("/readyz")
    assert r.status_code == 503
    assert r.json() == {
        "status": "unavailable",
        "checks": {"catalogue": "ok", "object_store": STORE_DOWN, "disk_space": "ok"},
    }


@pytest.mark.integration
def test_readyz_reports_an_s3_store_that_went_down(settings: Settings, own_seaweed: SeaweedS3) -> None:
    storage = s3_storage(own_seaweed, retry_total_s=1)
    with TestClient(create_app(settings.model_copy(update={"storage": storage}), start_workers=False)) as c:
        assert isinstance(c.app.state.services.store, S3ObjectStore)  # type: ignore[attr-defined]
        up = c.get("/readyz")
        assert up.status_code == 200 and up.json()["checks"] == {
            "catalogue": "ok",
            "object_store": "ok",
            "disk_space": "ok",
        }
        own_seaweed.kill()
        down = c.get("/readyz")
        assert down.status_code == 503 and down.json()["status"] == "unavailable"
        assert down.json()["checks"] == {"catalogue": "ok", "object_store": STORE_DOWN, "disk_space": "ok"}


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class Relay:
    """A TCP relay to a server that a test can cut: the listener and every relayed connection close."""

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # cut
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()  # the server is gone: this client sees its connection closed
                continue
            with self._lock:
                self.sockets += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                _shut(sock)

    def __enter__(self) -> Relay:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cut()

    def cut(self) -> None:
        _shut(self.listener)  # wakes the accept() above
        self.listener.close()
        with self._lock:
            for sock in self.sockets:
                _shut(sock)
                sock.close()


@pytest.mark.integration
def test_readyz_reports_a_catalogue_that_went_away(settings: Settings, pg_url: str) -> None:
    """PostgreSQL reachable at start, then lost: every pooled connection drops and the port refuses."""
    url = make_url(pg_url)
    with Relay(url.host or "127.0.0.1", url.port or 5432) as link:
        through = url.set(host="127.0.0.1", port=link.port).render_as_string(hide_password=False)
        app = create_app(settings.model_copy(update={"database_url": through}), start_workers=False)
        with TestClient(app) as c:
            assert c.app.state.services.catalogue.dialect_name == "postgresql"  # type: ignore[attr-defined]
            up = c.get("/readyz")
            assert up.status_code == 200 and up.json()["checks"] == {
                "catalogue": "ok",
                "object_store": "ok",
                "disk_space": "ok",
            }
            link.cut()
            down = c.get("/readyz")
            assert down.status_code == 503 and down.json()["status"] == "unavailable"
            assert down.json()["checks"] == {
                "catalogue": "error: OperationalError",
                "object_store": "ok",
                "disk_space": "ok",
            }


def test_readyz_checks_the_broker_in_celery_mode(settings: Settings) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]  # nothing listens here once closed
    down = settings.model_copy(
        update={"workers": WorkerSettings(mode="celery", broker_url=f"redis://127.0.0.1:{dead}/0")}
    )
    with TestClient(create_app(down, start_workers=False)) as c:
        r = c.get("/readyz")
        assert r.status_code == 503 and r.json()["checks"]["broker"].startswith("error")
        assert r.json()["checks"]["catalogue"] == "ok"


@pytest.mark.integration
def test_readyz_with_a_live_broker(settings: Settings) -> None:
    up = settings.model_copy(update={"workers": WorkerSettings(mode="celery", broker_url="redis://127.0.0.1:6379/0")})
    with TestClient(create_app(up, start_workers=False)) as c:
        assert c.get("/readyz").json()["checks"]["broker"] == "ok"


def test_home_page_is_vietnamese_and_links_the_portal(api: Api) -> None:
    html = api.client.get("/").text
    assert 'lang="vi"' in html and "/tra-cuu" in html and "/kiem-tra" in html and "hồ sơ" in html
    assert "https://" not in html and "<script" not in html  # no external assets, no scripts


def test_a_server_side_fault_keeps_its_detail_in_the_log(caplog: pytest.LogCaptureFixture) -> None:
    request = Request({"type": "http", "method": "GET", "path": "/api/v1/documents/1/pdf", "headers": []})
    outage = asyncio.run(sohoa_error_handler(request, ObjectStoreUnavailable("/srv/sohoa/var/objects/documents")))
    body = json.loads(outage.body)["detail"]
    assert outage.status_code == 503 and body["code"] == "OBJECT_STORE_UNAVAILABLE" and "detail" not in body
    assert "/srv/sohoa/var/objects/documents" in caplog.text
    station_fault = asyncio.run(sohoa_error_handler(request, FileMissing("p3.jpg")))
    assert station_fault.status_code == 422 and json.loads(station_fault.body)["detail"]["detail"] == "p3.jpg"
