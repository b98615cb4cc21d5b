"""Stream request bodies to disk under a size limit, refusing oversized uploads early.

A declared Content-Length over the limit is refused before a byte is read; a chunked body is
counted as it arrives and refused as soon as it passes the limit. Multipart bodies are parsed
from the same counted stream (file parts spill to disk after 1 MiB). Every body is written to
disk; one of at most ``KEEP_IN_MEMORY`` is also kept in memory to be parsed from there, a
larger one is never held whole.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from fastapi import HTTPException, Request
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from dossiers.errors import UploadTooLarge

MAX_BATCH_PARTS = 501
CHUNK = 1024 * 1024


def too_large() -> HTTPException:
    return HTTPException(413, detail=UploadTooLarge().to_dict())


def invalid(message: str) -> HTTPException:
    return HTTPException(422, detail={"code": "BATCH_INVALID", "message": message})


def refuse_declared_oversize(request: Request, limit: int) -> None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large()


async def limited(chunks: AsyncIterator[bytes], limit: int) -> AsyncGenerator[bytes, None]:
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise too_large()
        yield chunk


KEEP_IN_MEMORY = 4 * 1024 * 1024  # a 10-page batch is about 1.8 MB


@dataclass(frozen=True)
class Upload:
    """A request body on disk; ``sha256`` when it was hashed on the way in.

    ``data``: the same bytes, kept when the body was at most ``KEEP_IN_MEMORY`` so that it
    is parsed without reading the file back; a larger body lives on disk only.
    """

    path: Path
    sha256: str | None = None
    data: bytes | None = None


async def _write(chunks: AsyncIterator[bytes], directory: Path, suffix: str) -> Upload:
    try:
        fd, name = tempfile.mkstemp(dir=directory, prefix="upload-", suffix=suffix)
    except FileNotFoundError:  # first upload, or the work folder was cleared
        directory.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=directory, prefix="upload-", suffix=suffix)
    digest = hashlib.sha256()
    kept: list[bytes] | None = []
    size = 0
    try:
        with os.fdopen(fd, "wb") as fh:
            async for chunk in chunks:
                digest.update(chunk)
                fh.write(chunk)
                size += len(chunk)
                if kept is not None and size <= KEEP_IN_MEMORY:
                    kept.append(chunk)
                else:
                    kept = None
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Upload(Path(name), digest.hexdigest(), b"".join(kept) if kept is not None else None)


async def save_body(request: Request, directory: Path, limit: int, suffix: str = ".zip") -> Upload:
    """Write the raw request body to a temporary file, hashing it; 413 as soon as it passes ``limit``."""
    refuse_declared_oversize(request, limit)
    return await _write(limited(request.stream(), limit), directory, suffix)


async def read_body(request: Request, limit: int) -> bytes:
    """A small body (a PDF to verify or sign) read under ``limit``."""
    refuse_declared_oversize(request, limit)
    parts = [chunk async for chunk in limited(request.stream(), limit)]
    return b"".join(parts)


MULTIPART_NO_TYPE = "Yêu cầu thiếu tiêu đề Content-Type multipart/form-data. Gửi lại biểu mẫu kèm tệp."


def _multipart_invalid(message: str) -> HTTPException:
    return HTTPException(422, detail={"code": "MULTIPART_INVALID", "message": message})


async def parse_multipart(request: Request, limit: int, *, max_files: int = 1, max_fields: int = 10) -> FormData:
    """Parse a multipart body from the counted stream; the caller closes the returned form."""
    refuse_declared_oversize(request, limit)
    if "content-type" not in request.headers:  # Starlette's parser would fail with a KeyError
        raise _multipart_invalid(MULTIPART_NO_TYPE)
    parser = MultiPartParser(
        request.headers, limited(request.stream(), limit), max_files=max_files, max_fields=max_fields
    )
    try:
        return await parser.parse()
    except MultiPartException as exc:
        raise _multipart_invalid(str(exc)) from exc


async def _copy_upload(upload: UploadFile, directory: Path, suffix: str) -> Upload:
    async def chunks() -> AsyncIterator[bytes]:
        while chunk := await upload.read(CHUNK):
            yield chunk

    return await _write(chunks(), directory, suffix)


def _zip_parts(form: FormData, directory: Path, manifest: bytes | None = None) -> tuple[Path, list[str]]:
    """Pack the file parts of a form (and a batch's manifest) into a stored (uncompressed) zip for the batch
    reader; the zip and the parts' names in the order sent.

    Part file names go into the zip exactly as sent: the batch reader refuses any that
    would leave the batch (``..``, absolute paths, backslashes), so nothing is ever written
    under a name a client chose. Two parts of one name are refused: a zip keeps one of them.
    """
    fd, name = tempfile.mkstemp(dir=directory, prefix="upload-", suffix=".zip")
    os.close(fd)
    names: list[str] = []
    try:
        with zipfile.ZipFile(name, "w", zipfile.ZIP_STORED) as zf:
            if manifest is not None:
                zf.writestr("manifest.json", manifest)
            for key, value in form.multi_items():
                if key == "manifest" or isinstance(value, str):
                    continue
                filename = value.filename or key
                if filename in names:
                    raise invalid(f"Hai tệp quét cùng tên '{filename}'. Đặt tên khác nhau cho các tệp và gửi lại.")
                names.append(filename)
                with zf.open(zipfile.ZipInfo(filename), "w", force_zip64=True) as out:
                    value.file.seek(0)
                    shutil.copyfileobj(value.file, out, CHUNK)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name), names


async def save_multipart_batch(request: Request, directory: Path, limit: int) -> Upload:
    """A batch sent as multipart: either one zip in ``file``, or ``manifest`` plus one part per scan."""
    directory.mkdir(parents=True, exist_ok=True)
    form = await parse_multipart(request, limit, max_files=MAX_BATCH_PARTS, max_fields=5)
    try:
        zipped = form.get("file")
        manifest = form.get("manifest")
        if isinstance(zipped, UploadFile) and manifest is None:
            return await _copy_upload(zipped, directory, ".zip")
        if manifest is None:
            raise invalid("Thiếu tệp zip trong trường 'file' hoặc trường 'manifest' kèm các tệp quét.")
        raw = await manifest.read() if isinstance(manifest, UploadFile) else manifest.encode()
        try:
            json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise invalid("Trường 'manifest' không phải JSON hợp lệ.") from exc
        from fastapi.concurrency import run_in_threadpool

        zipped_path, _names = await run_in_threadpool(_zip_parts, form, directory, raw)
        return Upload(zipped_path)
    finally:
        await form.close()


async def save_multipart_scans(request: Request, directory: Path, limit: int) -> tuple[Upload, list[str]]:
    """One component's scans sent as multipart, one file part each: a zip of them, and their names in order."""
    directory.mkdir(parents=True, exist_ok=True)
    form = await parse_multipart(request, limit, max_files=MAX_BATCH_PARTS, max_fields=5)
    try:
        from fastapi.concurrency import run_in_threadpool

        path, names = await run_in_threadpool(_zip_parts, form, directory)
        return Upload(path), names
    finally:
        await form.close()


async def zip_form_scans(form: FormData, directory: Path) -> tuple[Upload, list[str]]:
    """An already parsed form's file parts (a page's multipart form) as one component's scans: a zip, and names."""
    directory.mkdir(parents=True, exist_ok=True)
    from fastapi.concurrency import run_in_threadpool

    path, names = await run_in_threadpool(_zip_parts, form, directory)
    return Upload(path), names
