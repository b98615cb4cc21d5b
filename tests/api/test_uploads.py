"""Request bodies stream to disk, hashed on the way; only a small one is also kept in memory."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import HTTPException

from api import uploads


async def body(parts: list[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def test_a_small_body_is_on_disk_and_in_memory(tmp_path: Path) -> None:
    parts = [b"PK" + b"x" * 1000, b"y" * 70_000]
    up = asyncio.run(uploads._write(body(parts), tmp_path / "uploads", ".zip"))  # folder made on first use
    whole = b"".join(parts)
    assert up.path.read_bytes() == whole and up.data == whole
    assert up.sha256 == hashlib.sha256(whole).hexdigest()


def test_a_large_body_is_on_disk_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uploads, "KEEP_IN_MEMORY", 100_000)
    parts = [b"z" * 60_000] * 3
    up = asyncio.run(uploads._write(body(parts), tmp_path, ".zip"))
    assert up.data is None and up.path.stat().st_size == 180_000
    assert up.sha256 == hashlib.sha256(b"".join(parts)).hexdigest()


def test_an_oversized_body_leaves_no_file(tmp_path: Path) -> None:
    with pytest.raises(HTTPException) as refused:
        asyncio.run(uploads._write(uploads.limited(body([b"a" * 600, b"b" * 600]), 1000), tmp_path, ".zip"))
    assert refused.value.status_code == 413
    assert list(tmp_path.iterdir()) == []
