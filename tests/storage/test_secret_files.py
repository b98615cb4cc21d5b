"""Service HMAC keys on disk: made once even when several processes start together, never used damaged."""

from __future__ import annotations

import multiprocessing
import stat
from pathlib import Path

import pytest

from storage.errors import SecretFileInvalid
from storage.objectstore.links import SECRET_BYTES, load_or_create_secret


def _load(path: str) -> str:
    return load_or_create_secret(Path(path)).hex()


def test_processes_starting_together_all_get_the_one_key(tmp_path: Path) -> None:
    path = tmp_path / "shared" / "portal-secret"
    with multiprocessing.get_context("spawn").Pool(8) as pool:
        keys = pool.map(_load, [str(path)] * 32)
    assert len(set(keys)) == 1 and len(bytes.fromhex(keys[0])) == SECRET_BYTES
    assert bytes.fromhex(path.read_text()) == bytes.fromhex(keys[0])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["portal-secret"]  # no temporary file left behind


@pytest.mark.parametrize("content", ["", "\n", "zz" * 32, "ab" * 16])
def test_an_empty_damaged_or_short_key_is_refused_not_used(tmp_path: Path, content: str) -> None:
    path = tmp_path / "portal-secret"
    path.write_text(content)
    with pytest.raises(SecretFileInvalid):
        load_or_create_secret(path)
    assert path.read_text() == content  # left for an operator to look at
