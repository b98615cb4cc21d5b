"""Reuse by other agencies under grants, and the hash-chained audit log (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import text

from storage.catalogue.chain import chain_hash
from storage.catalogue.db import Catalogue
from storage.catalogue.warehouse_models import AuditEntry, AuditHead
from storage.errors import AgencyCodeInvalid, AgencyUnknown, GrantRequired
from storage.objectstore import Bucket
from storage.objectstore.links import verify_local_link
from storage.objectstore.local import LocalObjectStore
from storage.warehouse import Warehouse
from storage.warehouse.audit import content_hash, legacy_entry_hash, verify
from storage.warehouse.sharing import grant_access, register_agency, request_documents, revoke_grant
from tests.storage.conftest import POLICY
from tests.storage.factories import add_document

AGENCY = "000.00.12.H26"
OWNER = "001203004567"


@pytest.fixture
def warehouse(catalogue: Catalogue, tmp_path: Path) -> Warehouse:
    store = LocalObjectStore(tmp_path / "objects", POLICY)
    wh = Warehouse(catalogue, store)
    for doc_type, body in (("birth_certificate", b"%PDF birth"), ("land_use_certificate", b"%PDF land")):
        obj = store.put_bytes(Bucket.DOCUMENTS, body, suffix=".pdf")
        add_document(catalogue, owner_id=OWNER, doc_type=doc_type, object_key=obj.key, sha256=obj.sha256)
    register_agency(catalogue, AGENCY, "Sở Tư pháp Hà Nội")
    return wh


def _audit(cat: Catalogue) -> list[AuditEntry]:
    with cat.session() as s:
        return list(s.query(AuditEntry).order_by(AuditEntry.seq))


def test_agency_codes_follow_qd_20_2020(catalogue: Catalogue) -> None:
    for bad in ("H26", "000.00.12.h26", "000.0.12.H26", "000.00.12.H26 "):
        with pytest.raises(AgencyCodeInvalid):
            register_agency(catalogue, bad, "x")
    assert register_agency(catalogue, "000.00.00.G12", "Bộ Tư pháp") > 0


def test_request_without_grant_is_refused_and_audited(warehouse: Warehouse) -> None:
    with pytest.raises(GrantRequired):
        request_documents(warehouse, AGENCY, OWNER, "xác minh hộ tịch", ["birth_certificate"])
    with pytest.raises(AgencyUnknown):
        request_documents(warehouse, "000.00.99.H01", OWNER, "xác minh hộ tịch")
    refused = _audit(warehouse.catalogue)
    assert [(e.actor, e.action, e.outcome) for e in refused] == [
        (f"agency:{AGENCY}", "request", "refused"),
        ("agency:000.00.99.H01", "request", "refused"),
    ]


def test_grant_scopes_types_and_purpose_and_links_expire(warehouse: Warehouse) -> None:
    cat = warehouse.catalogue
    grant_id = grant_access(cat, AGENCY, ["birth_certificate"], "xác minh hộ tịch")
    docs = request_documents(warehouse, AGENCY, OWNER, "xác minh hộ tịch")
    assert [d["doc_type"] for d in docs] == ["birth_certificate"]
    bucket, key = verify_local_link(warehouse.store.link_secret, docs[0]["url"])  # type: ignore[attr-defined]
    assert (bucket, key) == ("documents", docs[0]["object_key"])
    expires = datetime.fromisoformat(docs[0]["url_expires_at"])
    assert timedelta(0) < expires - datetime.now(UTC) <= timedelta(minutes=5)
    with pytest.raises(GrantRequired):  # a type outside the grant
        request_documents(warehouse, AGENCY, OWNER, "xác minh hộ tịch", ["land_use_certificate"])
    with pytest.raises(GrantRequired):  # another purpose
        request_documents(warehouse, AGENCY, OWNER, "thanh tra", ["birth_certificate"])
    assert revoke_grant(cat, grant_id)
    with pytest.raises(GrantRequired):
        request_documents(warehouse, AGENCY, OWNER, "xác minh hộ tịch")
    past = datetime.now(UTC) - timedelta(days=10)
    grant_access(cat, AGENCY, ["birth_certificate"], "xác minh hộ tịch", valid_from=past, valid_for=timedelta(days=1))
    with pytest.raises(GrantRequired):  # expired grant
        request_documents(warehouse, AGENCY, OWNER, "xác minh hộ tịch")
    entries = _audit(cat)
    granted = [e for e in entries if e.action == "request" and e.outcome == "granted"]
    assert len(granted) == 1 and granted[0].purpose == "xác minh hộ tịch"
    assert any(e.action == "presign" for e in entries)
    dumped = json.dumps([[e.actor, e.subject, e.purpose, e.detail] for e in entries], ensure_ascii=False)
    assert "sig=" not in dumped and "X-Amz-Signature" not in dumped, "audit entries must not hold link secrets"
    assert verify(cat).ok


def test_warehouse_get_is_audited(warehouse: Warehouse) -> None:
    obj = warehouse.put_bytes(Bucket.DOCUMENTS, b"%PDF stored via warehouse", suffix=".pdf")
    assert warehouse.get_bytes(Bucket.DOCUMENTS, obj.key, actor="officer:1", purpose="tra cứu") == (
        b"%PDF stored via warehouse"
    )
    (entry,) = _audit(warehouse.catalogue)
    assert (entry.action, entry.subject, entry.outcome) == ("get", f"documents/{obj.key}", "ok")


def _chain(warehouse: Warehouse, n: int) -> None:
    grant_access(warehouse.catalogue, AGENCY, ["birth_certificate"], "xác minh hộ tịch")
    for _ in range(n):
        request_documents(warehouse, AGENCY, OWNER, "xác minh hộ tịch")


@pytest.mark.parametrize("tamper", ["edit", "remove_middle", "remove_last", "rehash_edit", "legacy_rehash_edit"])
def test_audit_verify_detects_tampering(warehouse: Warehouse, tamper: str) -> None:
    cat = warehouse.catalogue
    _chain(warehouse, 3)
    report = verify(cat)
    assert report.ok and report.entries == 7  # the grant, then a link and a request each time

    with cat.session() as s:
        e = s.query(AuditEntry).filter_by(seq=4).one()
        fields = (e.at, e.actor, e.action, e.subject, "khác", e.outcome, e.detail)
        forged = (  # either formula verify accepts: the edit still breaks the next entry's link
            legacy_entry_hash(e.seq, *fields, e.prev_hash)
            if tamper.startswith("legacy")
            else chain_hash(e.prev_hash, e.seq, content_hash(*fields))
        )
    statement = {
        "edit": "UPDATE audit_log SET purpose = 'khác' WHERE seq = 4",
        "rehash_edit": "UPDATE audit_log SET purpose = 'khác', hash = :h WHERE seq = 4",  # the next link breaks
        "legacy_rehash_edit": "UPDATE audit_log SET purpose = 'khác', hash = :h WHERE seq = 4",
        "remove_middle": "DELETE FROM audit_log WHERE seq = 5",
        "remove_last": "DELETE FROM audit_log WHERE seq = 7",  # caught by the head row
    }[tamper]
    with cat.engine.begin() as conn:
        conn.execute(text(statement), {"h": forged} if ":h" in statement else {})
    report = verify(cat)
    assert not report.ok and report.problems


def test_the_database_chains_entries_as_verify_does(catalogue: Catalogue) -> None:
    """``audit_chain`` in SQL (migration 0007 on PostgreSQL, a Python function on SQLite) and in Python agree."""
    args = {"p": "ab" * 32, "s": 2**40 + 5, "c": "đ" * 3}  # a sequence number past 32 bits, non-ASCII text
    with catalogue.engine.connect() as conn:
        got = conn.execute(text("SELECT audit_chain(:p, :s, :c)"), args).scalar()
    assert got == chain_hash(args["p"], args["s"], args["c"])


def _append_legacy(cat: Catalogue, count: int) -> None:
    """Entries as a process from before revision 0007 writes them: hashed whole in Python."""
    with cat.session() as s:
        head = s.get(AuditHead, 1)
        assert head is not None
        for _ in range(count):
            entry = {"at": datetime.now(UTC), "actor": "operator", "action": "grant", "subject": "agency:x"}
            entry |= {"purpose": "", "outcome": "ok", "detail": {}}
            h = legacy_entry_hash(head.seq + 1, **entry, prev_hash=head.hash)
            s.add(AuditEntry(seq=head.seq + 1, **entry, prev_hash=head.hash, hash=h))
            head.seq, head.hash = head.seq + 1, h


def test_a_log_begun_under_the_legacy_hash_verifies_and_goes_on(warehouse: Warehouse) -> None:
    """Entries written before revision 0007 keep their hashes; new entries continue the chain after them,
    and an old process still running during a rolling upgrade may append legacy entries in between."""
    cat = warehouse.catalogue
    _append_legacy(cat, 2)
    assert verify(cat).ok
    _chain(warehouse, 1)
    _append_legacy(cat, 1)
    _chain(warehouse, 1)
    report = verify(cat)
    assert report.ok and report.entries == 9, report.problems  # 2 + 3 + 1 + 3


def test_cli_scrub_and_audit_verify(storage_cli: click.Group) -> None:
    from sohoa.settings import get_settings

    runner = CliRunner()
    settings = get_settings()
    cat = Catalogue(settings.db_url)
    from storage.catalogue.db import migrate

    migrate(settings.db_url)
    store = LocalObjectStore(settings.objects_dir, POLICY)
    wh = Warehouse(cat, store)
    obj = wh.put_bytes(Bucket.DOCUMENTS, b"%PDF scrub me", suffix=".pdf")
    add_document(cat, owner_id=OWNER, doc_type="diploma", object_key=obj.key, sha256=obj.sha256)
    register_agency(cat, AGENCY, "Sở Giáo dục")
    grant_access(cat, AGENCY, ["diploma"], "tuyển dụng")
    request_documents(wh, AGENCY, OWNER, "tuyển dụng")

    ok = runner.invoke(storage_cli, ["scrub", "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["checked"] == 1
    assert runner.invoke(storage_cli, ["audit", "verify"]).exit_code == 0

    (settings.objects_dir / "documents" / obj.key).chmod(0o644)
    (settings.objects_dir / "documents" / obj.key).write_bytes(b"%PDF altered")
    bad = runner.invoke(storage_cli, ["scrub", "--json"])
    assert bad.exit_code == 1 and json.loads(bad.output)["tampered"] == [f"documents/{obj.key}"]
    with cat.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'someone else' WHERE seq = 2"))
    broken = runner.invoke(storage_cli, ["audit", "verify", "--json"])
    assert broken.exit_code == 1 and not json.loads(broken.output)["ok"]
    cat.dispose()
