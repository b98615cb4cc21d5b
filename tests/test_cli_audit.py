"""``sohoa audit show|anchor|verify`` against a catalogue (SQLite and PostgreSQL), as an operator runs them:
the trail filtered in Vietnamese, the head anchored once, and a log rewritten whole caught by its anchor."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from dossiers.services import Services
from storage.catalogue.chain import chain_hash
from storage.catalogue.warehouse_models import AuditEntry, AuditHead
from storage.warehouse import audit
from tests.conftest import make_settings

pytestmark = pytest.mark.integration
OWNER = "001203004567"


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> Iterator[str | None]:
    yield request.getfixturevalue("pg_url") if request.param == "postgresql" else None


def test_show_anchor_and_verify(tmp_path: Path, shared_pki_dir: Path, database: str | None) -> None:
    env = os.environ | {"SOHOA_VAR_DIR": str(tmp_path / "var"), "SOHOA_SIGNING__PKI_DIR": str(shared_pki_dir)}
    if database:
        env["SOHOA_DATABASE_URL"] = database

    def run(*args: str) -> tuple[int, str, str]:
        out = subprocess.run(
            [sys.executable, "-m", "cli.main", "audit", *args], env=env, capture_output=True, text=True, timeout=600
        )
        return out.returncode, out.stdout, out.stderr

    services = Services(make_settings(tmp_path / "var", shared_pki_dir, database_url=database))
    services.prepare()
    cat = services.catalogue
    audit.record(
        cat,
        actor="agency:000.00.12.H26",
        action="request",
        subject=f"owner:{OWNER}",
        purpose="xác minh hộ tịch",
        outcome="granted",
    )
    audit.record(
        cat,
        actor="officer:lan.nt",
        action="get",
        subject="documents/k",
        purpose="tải bản số hóa",
        outcome="ok",
        owner=OWNER,
    )
    audit.record(cat, actor="officer:lan.nt", action="search", subject="documents", outcome="ok")

    code, out, err = run("show", "--owner", OWNER)
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 2 and "officer:lan.nt  Đọc giấy tờ" in lines[0] and "Cơ quan yêu cầu giấy tờ" in lines[1]
    assert "#2 " in lines[0] and "→ Thành công" in lines[0]
    code, out, _ = run("show", "--actor", "officer:lan.nt", "--action", "search", "--json")
    assert code == 0 and [e["seq"] for e in json.loads(out)["entries"]] == [3]
    code, _, err = run("show", "--owner", "12ab")
    assert code == 2 and "12 chữ số" in err

    code, out, err = run("anchor")
    assert code == 0 and "Đã neo đầu chuỗi nhật ký tại bản ghi" in out, err
    code, out, _ = run("anchor", "--json")
    assert code == 0 and json.loads(out)["reason"] in ("today", "unchanged")  # the show above moved the head
    code, out, err = run("verify")
    assert code == 0 and "Nhật ký truy cập nguyên vẹn" in out and "1 mốc neo thời gian" in out, out + err

    with cat.session() as s:  # rewrite the whole log consistently
        prev = audit.GENESIS
        for e in s.scalars(select(AuditEntry).order_by(AuditEntry.seq)):
            if e.seq == 2:
                e.actor = "officer:someone-else"
            content = audit.content_hash(
                e.at, e.actor, e.action, e.subject, e.purpose, e.outcome, e.detail, e.owner_id, e.centre_id
            )
            e.prev_hash, e.hash = prev, chain_hash(prev, e.seq, content)
            prev = e.hash
        s.flush()
        head = s.get(AuditHead, 1)
        assert head is not None
        head.hash = prev
    services.close()
    code, out, _ = run("verify")
    assert code == 1 and "bị can thiệp" in out and "nhật ký bị viết lại" in out
    code, out, _ = run("verify", "--json")
    report = json.loads(out)
    assert code == 1 and not report["ok"] and [p["code"] for p in report["problems"]] == ["anchor_mismatch"]
    assert report["message"].startswith("Nhật ký truy cập bị can thiệp")
