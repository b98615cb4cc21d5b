"""Catalogue transactions under threads: readers never wait for the writer, writers queue instead of failing."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from storage.catalogue.clients import authenticate, create_client
from storage.catalogue.models import ApiClient, ClientRole
from workers.services import Services


def test_a_reader_does_not_wait_for_an_open_write_transaction(services: Services) -> None:
    cat = services.catalogue
    key = create_client(cat, "Trạm 1", ClientRole.STATION)
    writing, read_done, outcome = threading.Event(), threading.Event(), {}

    def writer() -> None:
        with cat.session() as s:
            s.add(ApiClient(name="Trạm 2", role=ClientRole.STATION, key_prefix="p2", key_hash="h"))
            s.flush()
            writing.set()
            outcome["reader_finished_first"] = read_done.wait(20)

    thread = threading.Thread(target=writer)
    thread.start()
    assert writing.wait(20)
    principal = authenticate(cat, key)  # a read-only session
    read_done.set()
    thread.join()
    assert principal is not None and principal.name == "Trạm 1"
    assert outcome["reader_finished_first"], "the reader waited for the writer's commit"
    with cat.reading() as s:
        assert s.scalar(select(func.count(ApiClient.id))) == 2


def test_a_read_only_session_refuses_writes(services: Services) -> None:
    with pytest.raises(OperationalError), services.catalogue.reading() as s:
        s.add(ApiClient(name="x", role=ClientRole.STATION, key_prefix="p", key_hash="h"))
        s.flush()


def test_concurrent_writers_all_commit(services: Services) -> None:
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(15):
                create_client(services.catalogue, f"Trạm {n}-{i}", ClientRole.STATION)
        except BaseException as exc:  # collected: the assertion below names it
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with services.catalogue.reading() as s:
        assert s.scalar(select(func.count(ApiClient.id))) == 8 * 15
