"""Read a scanning station's batch: a folder or a zip holding ``manifest.json`` and the scans.

Nothing here trusts the batch: member names never become paths, sizes and compression
ratios are bounded before anything is read, and a problem with one component's files
is recorded against that component instead of rejecting the whole batch.
"""

from __future__ import annotations

import hashlib
import json
import re
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


@dataclass
class BatchFile:
    name: str
    data: bytes


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


class _Source:
    def read(self, name: str) -> bytes: ...


class _ZipSource(_Source):
    def __init__(self, zf: zipfile.ZipFile):
        self.zf = zf
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

    def read(self, name: str) -> bytes:
        info = self.members.get(name)
        if info is None:
            raise FileMissing(name)
        with self.zf.open(info) as fh:
            data = fh.read(info.file_size + 1)
        if len(data) != info.file_size:
            raise BatchTooLarge(f"member {name!r} is larger than its header says")
        return data


class _DirSource(_Source):
    def __init__(self, root: Path):
        self.root = root.resolve()

    def read(self, name: str) -> bytes:
        path = (self.root / name).resolve()
        if not path.is_relative_to(self.root) or path.is_symlink():
            raise UnsafePath(name)
        if not path.is_file():
            raise FileMissing(name)
        if path.stat().st_size > MAX_MEMBER_BYTES:
            raise BatchTooLarge(name)
        return path.read_bytes()


def _collect(source: _Source, batch_hash: hashlib._Hash) -> ParsedBatch:
    try:
        manifest_raw = source.read("manifest.json")
    except FileMissing as exc:
        raise ManifestInvalid("manifest.json is missing") from exc
    manifest = parse_manifest(manifest_raw)
    batch_hash.update(manifest_raw)
    components = []
    for spec in manifest.components:
        comp = BatchComponent(spec)
        try:
            for name in spec.files:
                data = source.read(safe_member_name(name))
                batch_hash.update(hashlib.sha256(data).digest())
                comp.files.append(BatchFile(PurePosixPath(name).name, data))
        except SohoaError as exc:
            comp.files.clear()
            comp.error = exc
        components.append(comp)
    return ParsedBatch(manifest, components, batch_hash.hexdigest())


def read_batch(path: Path) -> ParsedBatch:
    """Read a batch from a folder or a zip file."""
    if path.is_dir():
        return _collect(_DirSource(path), hashlib.sha256(b"sohoa-batch:"))
    try:
        with zipfile.ZipFile(path) as zf:
            return _collect(_ZipSource(zf), hashlib.sha256(b"sohoa-batch:"))
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise BatchInvalid(str(exc)) from exc
