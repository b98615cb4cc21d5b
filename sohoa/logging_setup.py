r"""Logging: plain or JSON lines, with the dossier, component and step ids of the work in hand.

Log lines carry what clients sent (result codes, file names, dossier codes from manifests). A line
break in one would let a client write a line of its own that reads like the service's (log
forging, CWE-117); other control characters can rewrite a terminal, hide text or split a line in
a log viewer. Both formatters therefore escape control characters (Unicode category Cc, the line
and paragraph separators U+2028/U+2029) in every record's message, its arguments included, and
in the context fields: a line feed is written as the two characters ``\n``, any other control
character as ``\xNN`` or ``\uNNNN``. A traceback (``exc_info``) is the service's own text and
keeps its lines.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("sohoa_log_context", default=None)


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Attach ids (dossier, component, step) to every log record emitted inside the block."""
    token = _context.set({**(_context.get() or {}), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_one(match: re.Match[str]) -> str:
    char = match[0]
    return _NAMED.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def escape_controls(text: str) -> str:
    """``text`` with its control characters written out as escapes: one log record stays one line."""
    return _CONTROL.sub(_escape_one, text) if _CONTROL.search(text) else text


def _message(record: logging.LogRecord) -> str:
    """The record's message (its format applied to its arguments), escaped."""
    return escape_controls(record.getMessage())


# A số định danh (12 digits; old CMND 9) in a request line: GET /api/v1/search?owner=001090012345.
_ID_NUMBER = re.compile(r"(?<!\d)\d{9,12}(?!\d)")


def mask_id_numbers(text: str) -> str:
    """``text`` with every run of 9 to 12 digits masked but its last 3 (``*********345``)."""
    return _ID_NUMBER.sub(lambda m: "*" * (len(m[0]) - 3) + m[0][-3:], text)


class AccessLogRedaction(logging.Filter):
    """The HTTP server's access lines carry each request's path and query string, where an officer's search
    by owner puts a citizen's số định danh: masked there, as the service's own lines never print it whole."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(mask_id_numbers(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = mask_id_numbers(record.msg)
        return True


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        ctx = {k: escape_controls(v) if isinstance(v, str) else v for k, v in (_context.get() or {}).items()}
        record.ctx = ctx
        record.ctx_text = " ".join(f"{k}={escape_controls(str(v))}" for k, v in ctx.items())
        return True


class TextFormatter(logging.Formatter):
    """``<time> <level> <logger> <message> <context>``, the message's control characters escaped."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = _message(record)
        return super().formatMessage(record)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "msg": _message(record),
            **getattr(record, "ctx", {}),
        }
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def setup_logging(*, verbose: bool = False, json_lines: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ContextFilter())
    handler.setFormatter(
        JsonFormatter() if json_lines else TextFormatter("%(asctime)s %(levelname)s %(name)s %(message)s %(ctx_text)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for noisy in ("fontTools", "httpx", "PIL", "alembic.runtime.plugins", "pikepdf"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    access = logging.getLogger("uvicorn.access")  # a logger's filters outlive uvicorn's own logging config
    if not any(isinstance(f, AccessLogRedaction) for f in access.filters):
        access.addFilter(AccessLogRedaction())
