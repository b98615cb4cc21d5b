"""Read a scanning station's batch: a folder or a zip holding ``manifest.json`` and the scans.

Nothing here trusts the batch: member names never become paths, sizes and compression
ratios are bounded before anything is read, and a problem with one component's files
is recorded against that component instead of rejecting the whole batch.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path, PurePosixPath

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from digitizer.model import DOCUMENT_TYPES
from sohoa.errors import BatchInvalid, ManifestInvalid, SohoaError, UnsafePath
from workers.errors import BatchTooLarge, FileMissing

DOSSIER_CODE = re.compile(r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}-\d{6}-\d{4}$")
PROCEDURE_CODE = re.compile(r"^\d\.\d{6}$")
MAX_MEMBERS = 2000
MAX_MEMBER_BYTES = 200 * 1024 * 1024
MAX_TOTAL_BYTES = 2 * 1024 * 1024 * 1024
MAX_RATIO = 200
MAX_MANIFEST_BYTES = 1024 * 1024


class ManifestComponent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    declared_type: str | None = None
    name: str = Field(default="", max_length=300)
    files: list[str] = Field(min_length=1, max_length=500)

    @field_validator("declared_type")
    @classmethod
    def _known_type(cls, value: str | None) -> str | None:
        if value is not None and value not in DOCUMENT_TYPES:
            raise ValueError(f"unknown component type {value!r}")
        return value


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    dossier_code: str = Field(pattern=DOSSIER_CODE.pattern)
    procedure_code: str = Field(pattern=PROCEDURE_CODE.pattern)
    applicant_id: str = Field(pattern=r"^\d{12}$")
    applicant_name: str = Field(default="", max_length=200)
    # Optional: lets the applicant pass the citizen portal's lookup check.
    applicant_birth_date: date | None = None
    receiving_centre: str = Field(default="", max_length=300)
    components: list[ManifestComponent] = Field(min_length=1, max_length=100)

    @field_validator("components")
    @classmethod
    def _unique_ids(cls, value: list[ManifestComponent]) -> list[ManifestComponent]:
        ids = [c.id for c in value]
        if len(set(ids)) != len(ids):
            raise ValueError("component ids must be unique")
        return value


@dataclass(frozen=True)
class BatchFile:
    """One scan, on local disk: the original file of a folder batch, or a spooled copy of a zip member."""

    name: str
    path: Path
    sha256: str
    size: int


@dataclass
class BatchComponent:
    spec: ManifestComponent
    files: list[BatchFile] = field(default_factory=list)
    error: SohoaError | None = None


@dataclass
class ParsedBatch:
    manifest: Manifest
    components: list[BatchComponent]
    sha256: str
    spool: tempfile.TemporaryDirectory[str] | None = None

    def close(self) -> None:
        """Remove the spooled zip members (also happens when the batch is garbage-collected)."""
        if self.spool is not None:
            self.spool.cleanup()

    def __enter__(self) -> ParsedBatch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def safe_member_name(name: str) -> str:
    """Normalise a file name from a manifest or zip; refuse anything that escapes the batch."""
    if not name or "\\" in name or "\x00" in name:
        raise UnsafePath(repr(name))
    path = PurePosixPath(name)
    if path.is_absolute() or any(part in ("..", "") for part in path.parts):
        raise UnsafePath(repr(name))
    return str(path)


def parse_manifest(raw: bytes) -> Manifest:
    try:
        return Manifest.model_validate(json.loads(raw.decode("utf-8")))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestInvalid(f"not UTF-8 JSON: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
        raise ManifestInvalid(problems) from exc


CHUNK = 1024 * 1024


class _Source:
    def read_small(self, name: str, limit: int) -> bytes:
        """A small member (the manifest) in memory."""
        raise NotImplementedError

    def fetch(self, name: str) -> BatchFile:
        """A scan on local disk with its SHA-256, never held whole in memory."""
        raise NotImplementedError


class _ZipSource(_Source):
    def __init__(self, zf: zipfile.ZipFile, spool: Path):
        self.zf, self.spool = zf, spool
        self.spooled = 0
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise BatchTooLarge(f"{len(infos)} members")
        total = 0
        self.members: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            if info.is_dir():
                continue
            total += info.file_size
            ratio = info.file_size / max(info.compress_size, 1)
            if (
                info.file_size > MAX_MEMBER_BYTES
                or total > MAX_TOTAL_BYTES
                or (info.file_size > 1024 * 1024 and ratio > MAX_RATIO)
            ):
                raise BatchTooLarge(f"member {info.filename!r}: {info.file_size} bytes, ratio {ratio:.0f}")
            self.members[info.filename] = info

    def _info(self, name: str) -> zipfile.ZipInfo:
        info = self.members.get(name)
        if info is None:
            raise FileMissing(name)
        return info

    def read_small(self, name: str, limit: int) -> bytes:
        info = self._info(name)
        if info.file_size > limit:
            raise BatchTooLarge(f"{name}: {info.file_size} bytes")
        with self.zf.open(info) as fh:
            return fh.read(limit + 1)[: info.file_size]

    def fetch(self, name: str) -> BatchFile:
        info = self._info(name)
        digest, size = hashlib.sha256(), 0
        target = self.spool / f"{self.spooled:05d}"
        self.spooled += 1
        with self.zf.open(info) as src, target.open("wb") as dst:
            while chunk := src.read(CHUNK):
                size += len(chunk)
                if size > info.file_size:
                    raise BatchTooLarge(f"member {name!r} is larger than its header says")
                digest.update(chunk)
                dst.write(chunk)
        return BatchFile(PurePosixPath(name).name, target, digest.hexdigest(), size)


class _DirSource(_Source):
    def __init__(self, root: Path):
        self.root = root.resolve()

    def _path(self, name: str) -> Path:
        path = (self.root / name).resolve()
        if not path.is_relative_to(self.root) or (self.root / name).is_symlink():
            raise UnsafePath(name)
        if not path.is_file():
            raise FileMissing(name)
        if path.stat().st_size > MAX_MEMBER_BYTES:
            raise BatchTooLarge(name)
        return path

    def read_small(self, name: str, limit: int) -> bytes:
        path = self._path(name)
        if path.stat().st_size > limit:
            raise BatchTooLarge(f"{name}: too large")
        return path.read_bytes()

    def fetch(self, name: str) -> BatchFile:
        path = self._path(name)
        digest, size = hashlib.sha256(), 0
        with path.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                size += len(chunk)
                digest.update(chunk)
        return BatchFile(PurePosixPath(name).name, path, digest.hexdigest(), size)


def _collect(source: _Source) -> tuple[Manifest, list[BatchComponent], str]:
    batch_hash = hashlib.sha256(b"sohoa-batch:")
    try:
        manifest_raw = source.read_small("manifest.json", MAX_MANIFEST_BYTES)
    except FileMissing as exc:
        raise ManifestInvalid("manifest.json is missing") from exc
    manifest = parse_manifest(manifest_raw)
    batch_hash.update(manifest_raw)
    components = []
    for spec in manifest.components:
        comp = BatchComponent(spec)
        try:
            for name in spec.files:
                scan = source.fetch(safe_member_name(name))
                batch_hash.update(bytes.fromhex(scan.sha256))
                comp.files.append(scan)
        except SohoaError as exc:
            comp.files.clear()
            comp.error = exc
        components.append(comp)
    return manifest, components, batch_hash.hexdigest()


def read_batch(path: Path, *, spool_dir: Path | None = None) -> ParsedBatch:
    """Read a batch from a folder or a zip file.

    Zip members are streamed to a spool folder (under ``spool_dir``) while they are hashed,
    so a batch of any accepted size costs disk, not memory.
    """
    if path.is_dir():
        return ParsedBatch(*_collect(_DirSource(path)))
    spool = tempfile.TemporaryDirectory(prefix="batch-", dir=spool_dir)
    try:
        with zipfile.ZipFile(path) as zf:
            return ParsedBatch(*_collect(_ZipSource(zf, Path(spool.name))), spool=spool)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        spool.cleanup()
        raise BatchInvalid(str(exc)) from exc
    except BaseException:
        spool.cleanup()
        raise
