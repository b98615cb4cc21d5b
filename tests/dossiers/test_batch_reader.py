"""Batch reading: manifest validation, unsafe names, missing files and zip bombs."""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from digitizer.errors import UnsafePath
from dossiers.batch_reader import ParsedBatch, extract_members, parse_manifest, read_batch, safe_member_name
from dossiers.errors import BatchInvalid, BatchTooLarge, ManifestInvalid, MemberUnreadable
from dossiers.intake import ingest
from dossiers.services import Services
from storage.errors import ObjectIntegrityError
from testkit.batches import make_zip, manifest


def write(tmp_path: Path, data: bytes, name: str = "batch.zip") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_zip_and_folder_of_the_same_batch_have_the_same_identity(tmp_path: Path) -> None:
    m = manifest([{"id": "c1", "declared_type": "application_form", "files": ["a.jpg", "b.jpg"]}])
    files = {"a.jpg": b"AAAA", "b.jpg": b"BBBB"}
    zipped = read_batch(write(tmp_path, make_zip(m, files)))
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps(m, ensure_ascii=False))
    for name, data in files.items():
        (folder / name).write_bytes(data)
    unzipped = read_batch(folder)
    assert zipped.sha256 == unzipped.sha256
    assert [f.sha256 for f in zipped.components[0].files] == [f.sha256 for f in unzipped.components[0].files]
    assert [f.member for f in zipped.components[0].files] == ["a.jpg", "b.jpg"]
    assert zipped.components[0].error is None
    assert zipped.archive is not None
    wanted = [(f.member or "", tmp_path / f"out-{f.name}", f.sha256) for f in zipped.components[0].files]
    extract_members(zipped.archive, wanted)
    assert [out.read_bytes() for _m, out, _s in wanted] == list(files.values())


def test_extract_members_refuses_bytes_that_no_longer_match_the_receipt(tmp_path: Path) -> None:
    m = manifest([{"id": "c1", "files": ["a.jpg"]}])
    batch = read_batch(write(tmp_path, make_zip(m, {"a.jpg": b"AAAA"})))
    assert batch.archive is not None
    batch.archive.write_bytes(make_zip(m, {"a.jpg": b"XXXX"}))
    out = tmp_path / "a.jpg"
    with pytest.raises(ObjectIntegrityError):
        extract_members(batch.archive, [("a.jpg", out, batch.components[0].files[0].sha256)])
    assert not out.exists()
    with pytest.raises(UnsafePath):
        extract_members(batch.archive, [("../a.jpg", out, "0" * 64)])


def test_unsafe_and_missing_files_fail_only_their_component(tmp_path: Path) -> None:
    m = manifest(
        [
            {"id": "good", "files": ["a.jpg"]},
            {"id": "evil", "files": ["../../etc/passwd"]},
            {"id": "abs", "files": ["/etc/passwd"]},
            {"id": "gone", "files": ["missing.jpg"]},
        ]
    )
    batch = read_batch(write(tmp_path, make_zip(m, {"a.jpg": b"A"})))
    errors = {c.spec.id: (c.error.code if c.error else None) for c in batch.components}
    assert errors == {"good": None, "evil": "UNSAFE_PATH", "abs": "UNSAFE_PATH", "gone": "FILE_MISSING"}


@pytest.mark.parametrize("name", ["../x", "/x", "a/../../x", "a\\b", "", ".."])
def test_safe_member_name_refuses_escapes(name: str) -> None:
    with pytest.raises(Exception) as info:
        safe_member_name(name)
    assert getattr(info.value, "code", None) == "UNSAFE_PATH"


@pytest.mark.parametrize(
    "bad",
    [
        {"dossier_code": "nope"},
        {"dossier_code": "000.00.12.H26-261121-004\u0662"},  # an Arabic-Indic digit
        {"dossier_code": "\uff10\uff10\uff10.00.12.H26-261121-0042"},  # fullwidth digits
        {"dossier_code": "000.00.12.H26-261121-0042\n"},
        {"applicant_id": "12345"},
        {"applicant_id": "00109001234\u0665"},
        {"applicant_id": "001090012345\n"},
        {"procedure_code": "x"},
        {"procedure_code": "1.00119\u0663"},
        {"procedure_code": "1.001193\n"},
        {"components": []},
        {"components": [{"id": "c1", "declared_type": "passport", "files": ["a.jpg"]}]},
        {"components": [{"id": "c1", "files": ["a"]}, {"id": "c1", "files": ["b"]}]},
        {"unexpected": 1},
    ],
)
def test_invalid_manifest_is_refused_with_a_code(tmp_path: Path, bad: dict) -> None:
    m = manifest([{"id": "c1", "files": ["a.jpg"]}]) | bad
    with pytest.raises(ManifestInvalid):
        read_batch(write(tmp_path, make_zip(m, {"a.jpg": b"A", "b": b"", "a": b""})))


def test_missing_manifest_and_non_zip(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.jpg", b"x")
    with pytest.raises(ManifestInvalid):
        read_batch(write(tmp_path, buf.getvalue()))
    with pytest.raises(BatchInvalid):
        read_batch(write(tmp_path, b"this is not a zip", "x.zip"))


def test_zip_bomb_is_refused_before_reading(tmp_path: Path) -> None:
    m = manifest([{"id": "c1", "files": ["bomb.jpg"]}])
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(m))
        zf.writestr("bomb.jpg", b"\0" * (64 * 1024 * 1024))
    assert len(buf.getvalue()) < 1024 * 1024
    with pytest.raises(BatchTooLarge):
        read_batch(write(tmp_path, buf.getvalue()))


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_an_upload_read_from_memory_matches_the_same_file_read_from_disk(tmp_path: Path, compression: int) -> None:
    m = manifest([{"id": "c1", "files": ["a.jpg", "sub/b.jpg"]}, {"id": "c2", "files": ["nope.jpg"]}])
    data = make_zip(m, {"a.jpg": b"A" * 5000, "sub/b.jpg": bytes(range(256)) * 40}, compression)
    path = write(tmp_path, data)
    from_disk, from_memory = read_batch(path), read_batch(path, data=data)
    assert from_memory.sha256 == from_disk.sha256
    assert from_memory.components[0].files == from_disk.components[0].files
    assert [f.size for f in from_memory.components[0].files] == [5000, 10240]
    assert from_memory.components[1].error is not None and from_memory.components[1].error.code == "FILE_MISSING"


def _errors(batch: ParsedBatch) -> dict[str, tuple[str, str] | None]:
    return {c.spec.id: (c.error.code, c.error.detail) if c.error else None for c in batch.components}


def _read_both_ways(tmp_path: Path, data: bytes) -> list[ParsedBatch]:
    """The batch read from disk and from memory."""
    path = write(tmp_path, data)
    return [read_batch(path), read_batch(path, data=data)]


def test_a_damaged_member_fails_its_component_from_memory_as_from_disk(tmp_path: Path) -> None:
    m = manifest([{"id": "c1", "files": ["a.jpg"]}])
    data = bytearray(make_zip(m, {"a.jpg": b"scan bytes " * 100}, zipfile.ZIP_STORED))
    at = bytes(data).index(b"scan bytes")
    data[at] ^= 0xFF  # the CRC-32 in the directory no longer matches
    for batch in _read_both_ways(tmp_path, bytes(data)):
        error = batch.components[0].error
        assert error is not None and error.code == "MEMBER_UNREADABLE" and "CRC" in error.detail


def test_a_local_header_that_names_another_file_is_refused_from_memory(tmp_path: Path) -> None:
    m = manifest([{"id": "c1", "files": ["a.jpg"]}])
    data = make_zip(m, {"a.jpg": b"scan bytes"}, zipfile.ZIP_STORED)
    header = data.index(b"PK\x03\x04", data.index(b"PK\x03\x04") + 4)  # a.jpg's local header (after the manifest)
    name_at = header + 30
    assert data[name_at : name_at + 5] == b"a.jpg"
    forged = data[:name_at] + b"x.jpg" + data[name_at + 5 :]  # the central directory still says a.jpg
    from_disk, from_memory = _read_both_ways(tmp_path, forged)  # zipfile refuses it too
    assert "local header name" in _errors(from_memory)["c1"][1]  # type: ignore[index]
    assert _errors(from_disk)["c1"][0] == "MEMBER_UNREADABLE"  # type: ignore[index]


def _central_entry(data: bytes, name: bytes) -> int:
    """Offset of the central directory header of member ``name``."""
    at = data.index(b"PK\x01\x02")
    while data[at + 46 : at + 46 + len(name)] != name:
        at = data.index(b"PK\x01\x02", at + 4)
    return at


def _both_ways(tmp_path: Path, data: bytes) -> list[BatchInvalid]:
    """The batch read from disk and from memory: both must refuse it."""
    path = write(tmp_path, data)
    refusals = []
    for kwargs in ({}, {"data": data}):
        with pytest.raises(BatchInvalid) as refused:
            read_batch(path, **kwargs)
        refusals.append(refused.value)
    return refusals


def test_a_member_whose_data_runs_into_the_next_one_is_refused(tmp_path: Path) -> None:
    m = manifest([{"id": "c1", "files": ["a.jpg"]}])
    data = bytearray(make_zip(m, {"a.jpg": b"A" * 100, "b.jpg": b"B" * 100}, zipfile.ZIP_STORED))
    a_data = bytes(data).index(b"A" * 100)
    covered = bytes(data[a_data : a_data + 100 + 30 + len("b.jpg") + 100])  # a's bytes, b's header and bytes
    entry = _central_entry(bytes(data), b"a.jpg")
    struct.pack_into("<LLL", data, entry + 16, zlib.crc32(covered), len(covered), len(covered))
    batch = read_batch(write(tmp_path, bytes(data)), data=bytes(data))
    error = batch.components[0].error
    assert error is not None and error.code == "MEMBER_UNREADABLE" and "overlapped" in error.detail


def test_a_directory_that_points_before_the_archive_is_refused(tmp_path: Path) -> None:
    m = manifest([{"id": "c1", "files": ["a.jpg"]}])
    data = bytearray(make_zip(m, {"a.jpg": b"A" * 100}, zipfile.ZIP_STORED))
    end = bytes(data).rindex(b"PK\x05\x06")
    (cd_offset,) = struct.unpack_from("<L", data, end + 16)
    struct.pack_into("<L", data, end + 16, cd_offset + 5000)  # member offsets come out negative
    _both_ways(tmp_path, bytes(data))


def test_members_flagged_with_unsupported_encryption_fail_their_component(tmp_path: Path) -> None:
    m = manifest([{"id": "c1", "files": ["a.jpg"]}])
    data = bytearray(make_zip(m, {"a.jpg": b"A" * 100}, zipfile.ZIP_STORED))
    entry = _central_entry(bytes(data), b"a.jpg")
    struct.pack_into("<H", data, entry + 8, 0x40)  # strong encryption, without the plain encryption bit
    for batch in _read_both_ways(tmp_path, bytes(data)):
        code, detail = _errors(batch)["c1"]  # type: ignore[misc]
        assert code == "MEMBER_UNREADABLE" and "encryption" in detail


def test_an_encrypted_manifest_refuses_the_batch(tmp_path: Path) -> None:
    m = manifest([{"id": "c1", "files": ["a.jpg"]}])
    data = _with_flags(make_zip(m, {"a.jpg": b"A" * 100}, zipfile.ZIP_STORED), b"manifest.json", 0x1)
    assert all("encrypted" in str(refused) for refused in _both_ways(tmp_path, data))


def _local_header(data: bytes, name: bytes) -> int:
    """Offset of the local file header of member ``name``."""
    at = data.index(b"PK\x03\x04")
    while data[at + 30 : at + 30 + len(name)] != name:
        at = data.index(b"PK\x03\x04", at + 4)
    return at


def _with_flags(data: bytes, name: bytes, flags: int) -> bytes:
    """``data`` with general-purpose flags ORed into member ``name``'s local and central headers."""
    out = bytearray(data)
    for at, field_at in ((_local_header(data, name), 6), (_central_entry(data, name), 8)):
        (old,) = struct.unpack_from("<H", out, at + field_at)
        struct.pack_into("<H", out, at + field_at, old | flags)
    return bytes(out)


def _with_crc(data: bytes, name: bytes, crc: int) -> bytes:
    """``data`` with member ``name``'s CRC-32 replaced in its local and central headers."""
    out = bytearray(data)
    struct.pack_into("<L", out, _local_header(data, name) + 14, crc)
    struct.pack_into("<L", out, _central_entry(data, name) + 16, crc)
    return bytes(out)


SCANS = {"enc.jpg": b"E" * 300, "crc.jpg": b"C" * 300, "ok.jpg": b"O" * 300}


def _damaged_batch() -> bytes:
    """Three components: a ZipCrypto-flagged member, a member with a wrong CRC-32, a sound one."""
    m = manifest(
        [
            {"id": "enc", "files": ["enc.jpg"]},
            {"id": "crc", "files": ["crc.jpg"]},
            {"id": "ok", "files": ["ok.jpg"]},
        ]
    )
    data = _with_flags(make_zip(m, SCANS, zipfile.ZIP_STORED), b"enc.jpg", 0x1)
    return _with_crc(data, b"crc.jpg", zlib.crc32(SCANS["crc.jpg"]) ^ 0xFFFF)


def test_an_encrypted_or_damaged_member_fails_only_its_component(tmp_path: Path) -> None:
    for batch in _read_both_ways(tmp_path, _damaged_batch()):
        errors = _errors(batch)
        assert errors["ok"] is None
        assert errors["enc"] is not None and errors["enc"][0] == "MEMBER_UNREADABLE" and "encrypted" in errors["enc"][1]
        assert errors["crc"] is not None and errors["crc"][0] == "MEMBER_UNREADABLE" and "CRC" in errors["crc"][1]
        ok = batch.components[2].files
        assert [(f.member, f.size) for f in ok] == [("ok.jpg", 300)]
        assert not batch.components[0].files and not batch.components[1].files


def test_the_receipt_records_unreadable_members_on_their_components(services: Services, tmp_path: Path) -> None:
    data = _damaged_batch()
    receipt = ingest(services, read_batch(write(tmp_path, data), data=data))
    by_ref = {c["ref"]: c for c in receipt.components}
    assert by_ref["ok"]["state"] == "pending" and by_ref["ok"].get("error") is None
    for ref in ("enc", "crc"):
        assert by_ref[ref]["state"] == "failed" and by_ref[ref]["error"]["code"] == "MEMBER_UNREADABLE"


def test_extract_members_refuses_an_encrypted_or_damaged_member_with_the_same_code(tmp_path: Path) -> None:
    batch = read_batch(write(tmp_path, _damaged_batch()))
    assert batch.archive is not None
    good = batch.components[2].files[0]
    out = tmp_path / "ok.out"
    extract_members(batch.archive, [("ok.jpg", out, good.sha256)])
    assert out.read_bytes() == SCANS["ok.jpg"]
    for member, why in (("enc.jpg", "encrypted"), ("crc.jpg", "CRC")):
        dests = [tmp_path / "first.out", tmp_path / "bad.out"]
        wanted = [("ok.jpg", dests[0], good.sha256), (member, dests[1], "0" * 64)]
        with pytest.raises(MemberUnreadable, match=why):
            extract_members(batch.archive, wanted)
        assert not any(dest.exists() for dest in dests)


@pytest.mark.parametrize("damage", ["deflate", "method"])
def test_undecodable_compressed_members_fail_their_component(tmp_path: Path, damage: str) -> None:
    m = manifest([{"id": "bad", "files": ["a.jpg"]}, {"id": "ok", "files": ["b.jpg"]}])
    data = bytearray(make_zip(m, {"a.jpg": bytes(range(256)) * 20, "b.jpg": b"B"}, zipfile.ZIP_DEFLATED))
    start = _local_header(bytes(data), b"a.jpg")
    if damage == "deflate":
        data[start + 30 + 5] = 0xFF  # the first byte of the deflate stream: an invalid block type
    else:
        for at in (start + 8, _central_entry(bytes(data), b"a.jpg") + 10):
            struct.pack_into("<H", data, at, 99)  # a compression method zipfile does not know
    for batch in _read_both_ways(tmp_path, bytes(data)):
        errors = _errors(batch)
        assert errors["ok"] is None and errors["bad"] is not None and errors["bad"][0] == "MEMBER_UNREADABLE"


def test_a_manifest_nested_too_deeply_is_a_coded_refusal() -> None:
    """200,000 nested brackets overflow the JSON parser's stack: MANIFEST_INVALID, not a server error."""
    with pytest.raises(ManifestInvalid) as refused:
        parse_manifest(b"[" * 200_000 + b"]" * 200_000)
    assert refused.value.code == "MANIFEST_INVALID" and "nested" in refused.value.detail
