"""Digitise many components at once, ``workers`` at a time, each with its own result or error.

One bad component (a truncated scan, an encrypted PDF, a file name that leaves the batch folder)
gets its own error code; the others still complete. The OCR engine is shared: the in-process
Tesseract engine keeps ``workers`` handles loaded, so no page pays model start-up.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from digitizer.engines import get_engine
from digitizer.errors import UnsafePath
from digitizer.model import DigitizedComponent
from digitizer.pipeline import DigitizeOptions, digitize_files
from sohoa.errors import ErrorInfo, SohoaError

log = logging.getLogger(__name__)


@dataclass
class ComponentResult:
    """The outcome of one component: ``result`` when it was digitised, else ``error``."""

    name: str
    result: DigitizedComponent | None = None
    error: ErrorInfo | None = None

    @property
    def ok(self) -> bool:
        return self.result is not None

    def to_dict(self, include_words: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"component": self.name, "ok": self.ok}
        if self.result is not None:
            out |= self.result.to_dict(include_words)
        if self.error is not None:
            out["error"] = {
                "code": self.error.code,
                "message": self.error.message,
                "message_en": self.error.message_en,
                "detail": self.error.detail,
            }
        return out


def resolve_inside(root: Path, name: str) -> Path:
    """``root / name`` when it stays inside ``root`` (no ``..``, no absolute path, no escaping link)."""
    candidate = Path(name)
    if candidate.is_absolute() or ".." in candidate.parts or not name.strip():
        raise UnsafePath(repr(name))
    resolved = (root / candidate).resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise UnsafePath(repr(name))
    return resolved


def _one(name: str, files: Sequence[str | Path], root: Path | None, options: DigitizeOptions) -> ComponentResult:
    try:
        paths = [resolve_inside(root, str(f)) for f in files] if root is not None else [Path(f) for f in files]
        return ComponentResult(name, result=digitize_files(paths, options))
    except SohoaError as exc:
        log.info("component %s failed: %s", name, exc.code)
        return ComponentResult(name, error=ErrorInfo.from_exception(exc))
    except Exception as exc:
        log.exception("component %s crashed", name)
        return ComponentResult(name, error=ErrorInfo.from_exception(exc))


def digitize_batch(
    components: Sequence[tuple[str, Sequence[str | Path]]],
    options: DigitizeOptions,
    *,
    workers: int = 2,
    root: Path | None = None,
) -> list[ComponentResult]:
    """Digitise ``(name, files)`` components, ``workers`` in parallel; results in input order.

    With ``root``, every file name is taken relative to it and must stay inside it.
    """
    workers = max(1, workers)
    if options.engine is None:
        options = replace(options, engine=get_engine("tesseract", timeout_s=options.timeout_s, workers=workers))
    options = replace(options, page_workers=1)
    if workers == 1:
        return [_one(name, files, root, options) for name, files in components]
    with ThreadPoolExecutor(workers, thread_name_prefix="digitize") as pool:
        futures = [pool.submit(_one, name, files, root, options) for name, files in components]
        return [f.result() for f in futures]
