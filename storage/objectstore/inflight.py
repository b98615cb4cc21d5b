"""Run a caller's work while this thread's S3 request is in flight.

A warehouse read commits its audit entry before handing out bytes. Done before the GET,
the catalogue's round trips add to every read; done on another thread, thread hand-offs
and the GIL cost about as much. Instead the HTTP connection runs the work between sending
the request and reading the response: the database works while the object store does,
on one thread. urllib3 lets a pool choose its connection class, which is all this needs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.response import HTTPResponse


class InFlightWork:
    """Work that runs once: inside the request if it gets that far, else when finished."""

    def __init__(self, fn: Callable[[], None]):
        self._fn: Callable[[], None] | None = fn
        self._error: BaseException | None = None

    def run(self) -> None:
        fn, self._fn = self._fn, None
        if fn is None:
            return
        try:
            fn()
        except BaseException as exc:  # kept for finish(): raising inside urllib3 would look like a network fault
            self._error = exc

    @property
    def failed(self) -> bool:
        return self._error is not None

    def finish(self) -> None:
        """Run it if it has not run; raise what it raised."""
        self.run()
        if self._error is not None:
            raise self._error


class _Pending(threading.local):
    work: InFlightWork | None = None


_PENDING = _Pending()


class during_next_request:
    """``with during_next_request(work):`` this thread's next HTTP response is read after ``work`` ran."""

    def __init__(self, work: InFlightWork | None):
        self.work = work

    def __enter__(self) -> None:
        _PENDING.work = self.work

    def __exit__(self, *exc: object) -> None:
        _PENDING.work = None


class _RunsPendingWork(HTTPConnection):
    # urllib3 overrides http.client's getresponse with its own response type, and ignores that override too
    def getresponse(self) -> HTTPResponse:  # type: ignore[override]
        work, _PENDING.work = _PENDING.work, None
        if work is not None:
            work.run()
        return super().getresponse()


class _HTTPConnection(_RunsPendingWork, HTTPConnection):
    pass


class _HTTPSConnection(_RunsPendingWork, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


def pool_manager(**kwargs: Any) -> urllib3.PoolManager:
    """A urllib3 PoolManager whose connections run pending in-flight work."""
    http = urllib3.PoolManager(**kwargs)
    http.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
    return http
