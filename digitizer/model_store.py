"""Where the active document-type model lives: a retrained one under a directory, else the shipped one.

``<dir>/current.json`` is the model workers classify with (``activate`` replaces it atomically);
each model activated is also kept as ``<dir>/history/<UTC time>.json``, so an operator can go back
(copy one over ``current.json``). Loaded models are cached by the file's modification time and size:
a worker picks up a retrained model at its next component without restarting.
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

from digitizer.learned import NgramModel, default_model

log = logging.getLogger(__name__)
CURRENT = "current.json"
HISTORY = "history"

_lock = threading.Lock()
_cache: dict[Path, tuple[tuple[int, int], NgramModel]] = {}


def current_path(directory: Path) -> Path:
    return directory / CURRENT


def active_model(directory: Path) -> NgramModel | None:
    """The retrained model in ``directory`` if there is one (and it reads), else the shipped model."""
    path = current_path(directory)
    try:
        stat = path.stat()
    except FileNotFoundError:
        return default_model()
    stamp = (stat.st_mtime_ns, stat.st_size)
    with _lock:
        cached = _cache.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
    try:
        model = NgramModel.from_json(path.read_text("utf-8"))
    except (OSError, ValueError, KeyError) as exc:
        log.error("retrained classifier %s unreadable (%s); using the shipped model", path, exc)
        return default_model()
    with _lock:
        _cache[path] = (stamp, model)
    return model


def activate(directory: Path, model: NgramModel, now: datetime | None = None) -> Path:
    """Make ``model`` the active one (atomic replace of ``current.json``); returns its copy in the history."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    history = directory / HISTORY / f"{stamp}.json"
    history.parent.mkdir(parents=True, exist_ok=True)
    data = model.to_json()
    tmp = history.with_suffix(".tmp")
    tmp.write_text(data, "utf-8")
    tmp.replace(history)
    current = current_path(directory)
    tmp = current.with_name(f".{CURRENT}.{os.getpid()}.tmp")
    tmp.write_text(data, "utf-8")
    tmp.replace(current)
    return history
