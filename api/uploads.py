"""Stream request bodies to disk under a size limit, refusing oversized uploads early."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import HTTPException, Request

from sohoa.errors import UploadTooLarge


def too_large() -> HTTPException:
    return HTTPException(413, detail=UploadTooLarge().to_dict())


async def _write_limited(chunks: AsyncIterator[bytes], directory: Path, limit: int, suffix: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=directory, prefix="upload-", suffix=suffix)
    size = 0
    try:
        with os.fdopen(fd, "wb") as fh:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise too_large()
                fh.write(chunk)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def _refuse_declared_oversize(request: Request, limit: int) -> None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large()


async def save_body(request: Request, directory: Path, limit: int) -> Path:
    """Write the raw request body to a temporary file; 413 as soon as it passes ``limit``."""
    _refuse_declared_oversize(request, limit)
    return await _write_limited(request.stream(), directory, limit, ".zip")


async def save_multipart_file(request: Request, directory: Path, limit: int, field: str = "file") -> Path:
    """Take the named file part of a multipart form and move it to a temporary file."""
    _refuse_declared_oversize(request, limit)
    form = await request.form(max_files=1, max_fields=10)
    try:
        upload = form.get(field)
        if upload is None or isinstance(upload, str):
            raise HTTPException(422, detail={"code": "BATCH_INVALID", "message": f"Thiếu tệp trong trường '{field}'."})

        async def chunks() -> AsyncIterator[bytes]:
            while chunk := await upload.read(1024 * 1024):
                yield chunk

        return await _write_limited(chunks(), directory, limit, ".bin")
    finally:
        await form.close()
