"""Tiny ASGI apps for the API-process tests: one answering with its process id, ones that cannot start."""

from __future__ import annotations

import os
from typing import Any


def answering_pid() -> Any:
    async def app(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": str(os.getpid()).encode()})

    return app


def failing() -> Any:
    raise RuntimeError("this app cannot start")


def failing_in_one_process() -> Any:
    """The first process to start cannot (it claims the file named by PID_APP_CLAIM); the others serve."""
    try:
        os.close(os.open(os.environ["PID_APP_CLAIM"], os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return answering_pid()
    raise RuntimeError("this process cannot start")
