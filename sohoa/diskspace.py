"""Free space of the folders the service writes to, and telling a full disk from other failures.

A full disk is not the request's fault nor a lasting one: whoever meets it answers a retryable
``STORAGE_FULL`` (503 with Retry-After) and keeps pending work pending, while ``/readyz`` and the
``sohoa_disk_*`` gauges report a folder whose free space fell under ``storage.min_free_bytes``
before it is full.
"""

from __future__ import annotations

import errno
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sohoa.errors import SohoaError, StorageFull
from sohoa.settings import Settings

NO_SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
SQLITE_FULL = 13  # "database or disk is full"; extended codes keep it in the low byte
PG_DISK_FULL = "53100"  # SQLSTATE disk_full


def _no_space(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in NO_SPACE_ERRNOS:
        return True
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        return (code is not None and code & 0xFF == SQLITE_FULL) or "database or disk is full" in str(exc)
    return getattr(exc, "sqlstate", None) == PG_DISK_FULL or getattr(exc, "pgcode", None) == PG_DISK_FULL


def _full_disk_in(exc: BaseException) -> BaseException | None:
    """The first error in ``exc``'s chain that says the disk is full, or None."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if getattr(current, "code", None) == "STORAGE_FULL" or _no_space(current):
            return current
        orig = getattr(current, "orig", None)
        todo += [current.__cause__, current.__context__, orig if isinstance(orig, BaseException) else None]
    return None


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc``, or what it was raised from, is a write refused for lack of space.

    Follows ``__cause__``, ``__context__`` and a driver error wrapped by SQLAlchemy (``orig``), so a
    coded error raised ``from`` an ``ENOSPC`` still counts: its verdict on the input cannot be trusted.
    """
    return _full_disk_in(exc) is not None


def storage_full(exc: BaseException) -> SohoaError:
    """The STORAGE_FULL error to report for ``exc`` (a full disk). Its detail is the system's or the
    driver's own message: SQLAlchemy's would carry the statement's values (names, số định danh) into logs."""
    if isinstance(exc, StorageFull):
        return exc
    cause = _full_disk_in(exc) or exc
    if isinstance(cause, StorageFull):
        return cause
    return StorageFull(f"{type(cause).__name__}: {cause}")


@dataclass(frozen=True)
class FolderSpace:
    """One watched folder: its name in readyz and metrics (never its path), free and total bytes."""

    name: str
    free_bytes: int
    total_bytes: int
    low: bool


def watched_folders(settings: Settings) -> dict[str, Path]:
    """The folders whose filling up stops the service: var_dir (catalogue, uploads, work), the local
    object store, the temporary folder, and an SQLite catalogue kept elsewhere."""
    folders = {"var_dir": settings.var_dir}
    if settings.storage.backend == "local":
        folders["objects"] = settings.objects_dir
    folders["tmp"] = Path(tempfile.gettempdir())
    if settings.db_url.startswith("sqlite:///"):
        database = Path(settings.db_url.removeprefix("sqlite:///").split("?", 1)[0]).parent
        if database.resolve() != settings.var_dir.resolve():
            folders["catalogue"] = database
    return folders


def _existing(path: Path) -> Path:
    """The folder itself or, before it is created, the nearest parent that exists (same file system)."""
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def folder_space(settings: Settings) -> list[FolderSpace]:
    """Free space of each watched folder now (one ``statvfs`` each: cheap enough for every probe)."""
    out = []
    for name, path in watched_folders(settings).items():
        usage = shutil.disk_usage(_existing(path))
        out.append(FolderSpace(name, usage.free, usage.total, usage.free < settings.storage.min_free_bytes))
    return out
