"""Streaming helpers: hash while reading, verify at the end, copy to a file atomically."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

from storage.errors import ObjectIntegrityError

CHUNK = 1024 * 1024

Source = Path | BinaryIO


class Readable(Protocol):
    """All the readers below need of a stream: an S3 response (urllib3) reads like a file but is no BinaryIO."""

    def read(self, n: int = -1, /) -> bytes: ...


class HashingReader:
    """Wraps a binary stream; hashes what passes through and counts the bytes."""

    def __init__(self, raw: Readable):
        self.raw = raw
        self.hash = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.hash.update(data)
        self.size += len(data)
        return data

    def hexdigest(self) -> str:
        return self.hash.hexdigest()


class VerifyingReader:
    """A read stream that checks the SHA-256 when it reaches the end (ObjectIntegrityError on mismatch)."""

    def __init__(self, raw: Readable, expected_sha256: str | None, where: str, closer: object = None):
        self._inner = HashingReader(raw)
        self.expected = expected_sha256
        self.where = where
        self._closer = closer
        self._checked = False

    def read(self, n: int = -1) -> bytes:
        data = self._inner.read(n)
        if (not data or n < 0) and not self._checked:
            self._checked = True
            if self.expected is not None and self._inner.hexdigest() != self.expected:
                raise ObjectIntegrityError(self.where)
        return data

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.read(CHUNK):
            yield chunk

    def close(self) -> None:
        closer = self._closer or self._inner.raw
        close = getattr(closer, "close", None)
        if close is not None:
            close()
        release = getattr(closer, "release_conn", None)
        if release is not None:
            release()

    def __enter__(self) -> VerifyingReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class open_source:
    """Open a path, or pass a stream through (without closing what the caller owns)."""

    def __init__(self, source: Source):
        self.source = source
        self._opened: BinaryIO | None = None

    def __enter__(self) -> BinaryIO:
        if isinstance(self.source, (str, Path)):
            self._opened = Path(self.source).open("rb")
            return self._opened
        return self.source

    def __exit__(self, *exc: object) -> None:
        if self._opened is not None:
            self._opened.close()


def copy_to_file(reader: VerifyingReader, dest: Path) -> int:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-")
    size = 0
    try:
        with reader, os.fdopen(fd, "wb") as fh:
            for chunk in reader:
                fh.write(chunk)
                size += len(chunk)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return size
