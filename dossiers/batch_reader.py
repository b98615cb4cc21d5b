"""Read a scanning station's batch: a folder or a zip holding ``manifest.json`` and the scans.

Nothing here trusts the batch: member names never become paths, sizes and compression
ratios are bounded before anything is read, and a problem with one component's files
is recorded against that component instead of rejecting the whole batch.

A zip is read in place: its members are hashed while streamed, never copied out, so a
receipt costs one read of the upload. The ``unpack`` pipeline step later extracts each
member from the stored archive (``extract_members``) under the same bounds, checking it
against the hash taken here.

While hashed, each scan's pages are counted (``dossiers.scan_pages``: a PDF's pages, a TIFF's
frames), so that ``ParsedBatch.pages`` and ``expanded_bytes`` say what the batch will cost
the pipeline, every reference counted; ``dossiers.budgets`` bounds them.
"""

from __future__ import annotations

import bisect
import hashlib
import io
import json
import lzma
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path, PurePosixPath

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from digitizer.errors import UnsafePath
from digitizer.model import DOCUMENT_TYPES
from dossiers.contacts import normalise_email, normalise_phone
from dossiers.errors import (
    BatchInvalid,
    BatchTooLarge,
    BatchTooManyPages,
    FileMissing,
    ManifestInvalid,
    MemberUnreadable,
)
from dossiers.scan_pages import PageCounter
from sohoa.errors import SohoaError
from sohoa.identifiers import DOSSIER_CODE, OWNER_ID, PROCEDURE_CODE
from storage.errors import ObjectIntegrityError

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
    applicant_id: str = Field(pattern=OWNER_ID.pattern)
    applicant_name: str = Field(default="", max_length=200)
    # Optional: lets the applicant pass the citizen portal's lookup check.
    applicant_birth_date: date | None = None
    receiving_centre: str = Field(default="", max_length=300)
    components: list[ManifestComponent] = Field(min_length=1, max_length=100)
    # Optional: where the applicant asked to be told that a result is ready (dossiers.notices).
    contact_email: str | None = Field(default=None, max_length=254)
    contact_phone: str | None = Field(default=None, max_length=30)

    @field_validator("contact_email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return normalise_email(value) if value else None

    @field_validator("contact_phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return normalise_phone(value) if value else None

    @field_validator("components")
    @classmethod
    def _unique_ids(cls, value: list[ManifestComponent]) -> list[ManifestComponent]:
        ids = [c.id for c in value]
        if len(set(ids)) != len(ids):
            raise ValueError("component ids must be unique")
        return value


@dataclass(frozen=True)
class BatchFile:
    """One scan: a file of a folder batch (``path``), or a member of a zip batch (``member``)."""

    name: str
    sha256: str
    size: int
    path: Path | None = None
    member: str | None = None
    pages: int = 1
    """What the scan costs the pipeline: a PDF's pages, a TIFF's frames, 1 for an image."""


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
    archive: Path | None = None
    """The zip the scans are members of; None for a folder batch."""
    archive_sha256: str | None = None
    """The zip's SHA-256, when the caller hashed it as it arrived."""
    archive_bytes: int | None = None
    """The zip's size as uploaded; None for a folder batch."""

    @property
    def pages(self) -> int:
        """Pages the pipeline will OCR: every reference counts, a scan named twice is OCR'd twice."""
        return sum(f.pages for comp in self.components for f in comp.files)

    @property
    def expanded_bytes(self) -> int:
        """Bytes the pipeline will unpack and read, once per reference (as ``pages``)."""
        return sum(f.size for comp in self.components for f in comp.files)


@dataclass(frozen=True)
class CostBounds:
    """What one batch may cost the pipeline (``dossiers.budgets.bounds_of`` makes it from the settings).

    Given to ``read_batch``, the bytes are checked against the zip's directory before a scan is
    read, and the pages as the scans are counted, so a refused batch is refused early.
    """

    max_pages: int
    max_expanded_bytes: int
    max_expansion: float
    expansion_floor: int

    def check_bytes(self, expanded: int, upload: int | None) -> None:
        if expanded > self.max_expanded_bytes:
            raise BatchTooLarge(f"scans expand to {expanded} bytes, at most {self.max_expanded_bytes}")
        if upload is not None and expanded > max(self.expansion_floor, upload * self.max_expansion):
            raise BatchTooLarge(
                f"a {upload}-byte upload expands to {expanded} bytes "
                f"(more than {self.max_expansion:g} times, past {self.expansion_floor} bytes)"
            )

    def check_pages(self, pages: int) -> None:
        if pages > self.max_pages:
            raise BatchTooManyPages(f"{pages} pages to digitise, at most {self.max_pages}")


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
    except RecursionError:  # nested deeper than the parser's stack: no real manifest is
        raise ManifestInvalid("JSON nested too deeply") from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
        raise ManifestInvalid(problems) from exc


CHUNK = 1024 * 1024
# What zipfile raises on a damaged or hostile archive (negative offsets, unsupported flags…).
_UNREADABLE_ZIP = (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError)
# What reading one member may raise besides: a password asked for, damaged compressed data.
_UNREADABLE_MEMBER = (*_UNREADABLE_ZIP, RuntimeError, zlib.error, lzma.LZMAError)
_ENCRYPTED = 0x1


class _Source:
    def read_small(self, name: str, limit: int) -> bytes:
        """A small member (the manifest) in memory."""
        raise NotImplementedError

    def fetch(self, name: str) -> BatchFile:
        """A scan on local disk with its SHA-256, never held whole in memory."""
        raise NotImplementedError

    def declared_size(self, name: str) -> int:
        """The scan's size before it is read (a zip's directory; a file's size); 0 when absent or unsafe."""
        raise NotImplementedError


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

    def _info(self, name: str) -> zipfile.ZipInfo:
        info = self.members.get(name)
        if info is None:
            raise FileMissing(name)
        return info

    def declared_size(self, name: str) -> int:
        info = self.members.get(name)  # the reader refuses a member longer than its header says
        return info.file_size if info is not None else 0

    def read_small(self, name: str, limit: int) -> bytes:
        info = self._info(name)
        if info.file_size > limit:
            raise BatchTooLarge(f"{name}: {info.file_size} bytes")
        return b"".join(self.chunks(name))

    def chunks(self, name: str) -> Iterator[bytes | memoryview]:
        """A member's bytes, bounded by the size its header declares (a lying header is refused).

        A member that cannot be read (encrypted, damaged, compressed by an unsupported method)
        raises MEMBER_UNREADABLE, which fails only the components naming it.
        """
        info = self._info(name)
        try:
            yield from self._read(info)
        except _UNREADABLE_MEMBER as exc:
            raise MemberUnreadable(f"member {name!r}: {exc}") from exc

    def _read(self, info: zipfile.ZipInfo) -> Iterator[bytes | memoryview]:
        if info.flag_bits & _ENCRYPTED:
            raise MemberUnreadable(f"member {info.filename!r} is encrypted (password-protected)")
        size = 0
        with self.zf.open(info) as src:
            while chunk := src.read(CHUNK):
                size += len(chunk)
                if size > info.file_size:
                    raise BatchTooLarge(f"member {info.filename!r} is larger than its header says")
                yield chunk

    def fetch(self, name: str) -> BatchFile:
        digest, size, counter = hashlib.sha256(), 0, PageCounter()
        for chunk in self.chunks(name):
            size += len(chunk)
            digest.update(chunk)
            counter.feed(chunk)
        return BatchFile(PurePosixPath(name).name, digest.hexdigest(), size, member=name, pages=counter.pages(name))


_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # a zip member's local file header (APPNOTE 4.3.7)
_UNSUPPORTED_FLAGS = _ENCRYPTED | 0x20 | 0x40  # encrypted, patched data, strong encryption: left to zipfile
_UTF8_NAME = 0x800


class _MemoryZipSource(_ZipSource):
    """A zip the upload left in memory: stored members are hashed where they lie, with no copy.

    Only a plain member (stored, no encryption or patch flags, in-range offset) is read here,
    and only after the checks ``zipfile`` makes: the local header's signature, its name
    (decoded by its own flags) equal to the directory's, data that neither runs past the
    upload nor into the next member, and the CRC-32. Anything else goes through ``zipfile``.
    """

    def __init__(self, zf: zipfile.ZipFile, data: bytes):
        super().__init__(zf)
        self.view = memoryview(data)
        # Where each member's bytes must end: the next local header, or the central directory.
        self._starts = sorted({i.header_offset for i in zf.infolist()} | {zf.start_dir})

    def _limit(self, start: int) -> int:
        after = bisect.bisect_right(self._starts, start)
        return self._starts[after] if after < len(self._starts) else len(self.view)

    def _stored_span(self, info: zipfile.ZipInfo) -> tuple[int, int] | None:
        plain = info.compress_type == zipfile.ZIP_STORED and not info.flag_bits & _UNSUPPORTED_FLAGS
        start = info.header_offset
        if not plain or info.compress_size != info.file_size or not 0 <= start < len(self.view):
            return None
        header = self.view[start : start + _LOCAL_HEADER.size]
        if len(header) != _LOCAL_HEADER.size:
            raise zipfile.BadZipFile(f"truncated header for {info.filename!r}")
        fields = _LOCAL_HEADER.unpack(header)
        if fields[0] != b"PK\x03\x04":
            raise zipfile.BadZipFile(f"bad magic number for {info.filename!r}")
        local_flags, name_len, extra_len = fields[3], fields[-2], fields[-1]
        name_start = start + _LOCAL_HEADER.size
        raw_name = bytes(self.view[name_start : name_start + name_len])
        try:
            local_name = raw_name.decode("utf-8" if local_flags & _UTF8_NAME else "cp437")
        except UnicodeDecodeError as exc:
            raise zipfile.BadZipFile(f"undecodable local header name for {info.filename!r}") from exc
        if local_name != info.orig_filename:
            raise zipfile.BadZipFile(f"local header name differs from the directory for {info.filename!r}")
        begin = name_start + name_len + extra_len
        end = begin + info.file_size
        if end > len(self.view):
            raise zipfile.BadZipFile(f"truncated data for {info.filename!r}")
        if end > self._limit(start):
            raise zipfile.BadZipFile(f"overlapped entries: {info.filename!r}")
        return begin, end

    def _read(self, info: zipfile.ZipInfo) -> Iterator[bytes | memoryview]:
        span = self._stored_span(info)
        if span is None:
            yield from super()._read(info)
            return
        data = self.view[span[0] : span[1]]
        if zlib.crc32(data) != info.CRC:
            raise zipfile.BadZipFile(f"Bad CRC-32 for file {info.filename!r}")
        yield data  # a view of the mapped zip: no copy


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

    def declared_size(self, name: str) -> int:
        try:
            return self._path(name).stat().st_size
        except SohoaError:
            return 0

    def read_small(self, name: str, limit: int) -> bytes:
        path = self._path(name)
        if path.stat().st_size > limit:
            raise BatchTooLarge(f"{name}: too large")
        return path.read_bytes()

    def fetch(self, name: str) -> BatchFile:
        path = self._path(name)
        digest, size, counter = hashlib.sha256(), 0, PageCounter()
        with path.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                size += len(chunk)
                digest.update(chunk)
                counter.feed(chunk)
        return BatchFile(PurePosixPath(name).name, digest.hexdigest(), size, path=path, pages=counter.pages(name))


def _declared_bytes(source: _Source, manifest: Manifest) -> int:
    """What the manifest's references will expand to, by the sizes declared before reading (per reference)."""
    sizes: dict[str, int] = {}
    total = 0
    for spec in manifest.components:
        for name in spec.files:
            if name not in sizes:
                try:
                    sizes[name] = source.declared_size(safe_member_name(name))
                except SohoaError:
                    sizes[name] = 0  # an unsafe name: that component fails, nothing is read
            total += sizes[name]
    return total


def _collect(
    source: _Source, bounds: CostBounds | None = None, upload: int | None = None, given: Manifest | None = None
) -> tuple[Manifest, list[BatchComponent], str]:
    batch_hash = hashlib.sha256(b"sohoa-batch:")
    if given is not None:  # the service wrote it (one component sent again): the zip holds scans only
        manifest, manifest_raw = given, given.model_dump_json().encode()
    else:
        try:
            manifest_raw = source.read_small("manifest.json", MAX_MANIFEST_BYTES)
        except FileMissing as exc:
            raise ManifestInvalid("manifest.json is missing") from exc
        except MemberUnreadable as exc:
            raise BatchInvalid(exc.detail) from exc
        manifest = parse_manifest(manifest_raw)
    batch_hash.update(manifest_raw)
    if bounds is not None:
        bounds.check_bytes(_declared_bytes(source, manifest), upload)
    components = []
    fetched: dict[str, BatchFile] = {}  # a manifest may name a file again: it is read once
    pages = 0  # every reference's pages so far: counting stops as soon as they are too many
    for spec in manifest.components:
        comp = BatchComponent(spec)
        try:
            for name in spec.files:
                member = safe_member_name(name)
                scan = fetched.get(member)
                if scan is None:
                    scan = fetched[member] = source.fetch(member)
                batch_hash.update(bytes.fromhex(scan.sha256))
                comp.files.append(scan)
                pages += scan.pages
                if bounds is not None:
                    bounds.check_pages(pages)
        except BatchTooManyPages:
            raise
        except SohoaError as exc:
            pages -= sum(f.pages for f in comp.files)
            comp.files.clear()
            comp.error = exc
        components.append(comp)
    return manifest, components, batch_hash.hexdigest()


def read_batch(
    path: Path,
    *,
    archive_sha256: str | None = None,
    data: bytes | None = None,
    bounds: CostBounds | None = None,
    manifest: Manifest | None = None,
) -> ParsedBatch:
    """Read a batch from a folder or a zip file; zip members are hashed in place, not extracted.

    ``archive_sha256``: the zip's hash, when the caller took it while writing the file.
    ``data``: the zip file's bytes, when the caller still holds them (a small upload): read
    from there instead of from disk. ``bounds``: refuse a batch that would cost more, as early
    as it shows (``ingest`` checks the whole batch again). ``manifest``: the batch's manifest
    when the service wrote it itself (a component sent again): none is read from the batch.
    """
    if path.is_dir():
        return ParsedBatch(*_collect(_DirSource(path), bounds, given=manifest))
    try:
        if data is not None:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                source: _ZipSource = _MemoryZipSource(zf, data)
                collected = _collect(source, bounds, len(data), manifest)
                return ParsedBatch(*collected, path, archive_sha256, len(data))
        size = path.stat().st_size
        with zipfile.ZipFile(path) as zf:
            return ParsedBatch(*_collect(_ZipSource(zf), bounds, size, manifest), path, archive_sha256, size)
    except _UNREADABLE_ZIP as exc:
        raise BatchInvalid(str(exc)) from exc


def extract_members(archive: Path, wanted: list[tuple[str, Path, str]]) -> None:
    """Write members of a batch zip to files, under the bounds ``read_batch`` applied.

    ``wanted``: (member, destination, SHA-256 taken at receipt). The archive is opened and
    its directory checked once for all of them. Bytes that do not hash as at receipt mean
    the stored archive changed: refused rather than digitised.
    """
    try:
        with zipfile.ZipFile(archive) as zf:
            source = _ZipSource(zf)
            for member, dest, sha256 in wanted:
                digest = hashlib.sha256()
                with dest.open("wb") as out:
                    for chunk in source.chunks(safe_member_name(member)):
                        digest.update(chunk)
                        out.write(chunk)
                if digest.hexdigest() != sha256:
                    raise ObjectIntegrityError(f"member {member!r} no longer matches the hash taken at receipt")
    except BaseException as exc:
        for _member, dest, _sha in wanted:
            dest.unlink(missing_ok=True)
        if isinstance(exc, _UNREADABLE_ZIP):
            raise BatchInvalid(str(exc)) from exc
        raise
