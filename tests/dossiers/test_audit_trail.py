"""The audit trail, readable (filters, centre scope, the citizen's view) and anchored (SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, text, update

from dossiers.audit_anchors import _claim, _drop_claim, anchor_for, anchor_head, statement, verify_all, verify_for
from dossiers.audit_trail import (
    TrailFilter,
    TrailFilterInvalid,
    action_vi,
    check_filter,
    citizen_trail,
    read_trail,
    record_view,
)
from dossiers.services import Services
from signing.timestamps import http_timestamper
from storage.catalogue.chain import chain_hash
from storage.catalogue.models import Centre, Officer
from storage.catalogue.warehouse_models import AuditAnchor, AuditEntry, AuditHead
from storage.objectstore import Bucket
from storage.warehouse import audit
from storage.warehouse.sharing import register_agency
from testkit.pki import PkiServer, ServedPki

OWNER, OTHER = "001203004567", "079199001234"
AGENCY = "000.00.12.H26"


def _centres(services: Services) -> tuple[int, int]:
    with services.catalogue.session() as s:
        a = Centre(code="HN-BD", name="UBND phường Ba Đình")
        b = Centre(code="HCM-Q1", name="UBND phường Bến Nghé")
        s.add_all([a, b])
        s.flush()
        s.add(Officer(username="cb-lan", full_name="Nguyễn Thị Lan", role="officer", centre_id=a.id))
        s.add(Officer(username="cb-minh", full_name="Trần Văn Minh", role="officer", centre_id=b.id))
        return a.id, b.id


def _log(services: Services) -> tuple[int, int]:
    """A small log: reads of two citizens' documents by two centres' officers and an agency."""
    a, b = _centres(services)
    register_agency(services.catalogue, AGENCY, "Sở Tư pháp Hà Nội")
    rec = lambda **e: audit.record(services.catalogue, **e)  # noqa: E731
    rec(
        actor="officer:cb-lan",
        action="get",
        subject="documents/k1",
        purpose="tải bản số hóa",
        outcome="ok",
        owner=OWNER,
        centre_id=a,
    )
    rec(
        actor="officer:cb-minh",
        action="get",
        subject="documents/k2",
        purpose="tải bản số hóa",
        outcome="ok",
        owner=OWNER,
        centre_id=b,
    )
    rec(
        actor=f"agency:{AGENCY}",
        action="request",
        subject=f"owner:{OWNER}",
        purpose="xác minh hộ tịch",
        outcome="granted",
    )
    rec(
        actor="officer:cb-lan",
        action="search",
        subject=f"owner:{OTHER}",
        purpose="tra cứu hồ sơ",
        outcome="ok",
        centre_id=a,
    )
    rec(actor="officer:cb-lan", action="officer.sign_in", subject="officer:cb-lan", outcome="ok")
    return a, b


def test_filters_are_checked() -> None:
    assert check_filter(TrailFilter(owner=f" {OWNER} ", actor=" ")).owner == OWNER
    assert check_filter(TrailFilter(actor=" ")).actor is None
    with pytest.raises(TrailFilterInvalid):
        check_filter(TrailFilter(owner="12345"))
    with pytest.raises(TrailFilterInvalid):
        check_filter(TrailFilter(date_from=date(2026, 2, 1), date_to=date(2026, 1, 1)))
    assert "by_owner" in TrailFilter(owner=OWNER).describe() and OWNER not in str(TrailFilter(owner=OWNER).describe())
    assert action_vi("get") == "Đọc giấy tờ" and action_vi("new_code") == "new_code"


def test_entries_are_filtered_newest_first(db_services: Services) -> None:
    _log(db_services)
    cat = db_services.catalogue
    mine = read_trail(cat, TrailFilter(owner=OWNER)).entries
    assert [(e.actor, e.action) for e in mine] == [
        (f"agency:{AGENCY}", "request"),
        ("officer:cb-minh", "get"),
        ("officer:cb-lan", "get"),
    ]
    assert [e.action for e in read_trail(cat, TrailFilter(actor="officer:cb-lan")).entries] == [
        "officer.sign_in",
        "search",
        "get",
    ]
    assert [e.owner_id for e in read_trail(cat, TrailFilter(action="search")).entries] == [OTHER]
    today = datetime.now(UTC).astimezone().date()
    assert (
        len(
            read_trail(cat, TrailFilter(date_from=today - timedelta(days=1), date_to=today + timedelta(days=1))).entries
        )
        == 5
    )
    assert read_trail(cat, TrailFilter(date_to=today - timedelta(days=2))).entries == []
    first = read_trail(cat, TrailFilter(), size=2)
    second = read_trail(cat, TrailFilter(), page=3, size=2)
    assert first.has_more and [e.seq for e in first.entries] == [5, 4]
    assert not second.has_more and [e.seq for e in second.entries] == [1]


def test_a_centre_sees_its_own_entries_only(db_services: Services) -> None:
    a, b = _log(db_services)
    cat = db_services.catalogue
    seen_a = {(e.actor, e.action) for e in read_trail(cat, TrailFilter(), centre_id=a).entries}
    assert seen_a == {("officer:cb-lan", "get"), ("officer:cb-lan", "search"), ("officer:cb-lan", "officer.sign_in")}
    seen_b = read_trail(cat, TrailFilter(owner=OWNER), centre_id=b).entries
    assert [(e.actor, e.action) for e in seen_b] == [("officer:cb-minh", "get")]  # not the agency's, not centre a's


def test_a_centre_holding_the_citizens_documents_sees_the_agencys_request_for_them(db_services: Services) -> None:
    """An agency's request names a person, not a centre: each centre holding that person's documents sees it."""
    from sqlalchemy import update

    from storage.catalogue.models import Dossier
    from tests.storage.factories import add_document

    a, b = _log(db_services)
    cat = db_services.catalogue
    _doc_id, dossier_code = add_document(cat, owner_id=OWNER, doc_type="birth_certificate")
    with cat.session() as s:
        s.execute(update(Dossier).where(Dossier.code == dossier_code).values(centre_id=b))
    seen_b = [(e.actor, e.action) for e in read_trail(cat, TrailFilter(owner=OWNER), centre_id=b).entries]
    assert seen_b == [(f"agency:{AGENCY}", "request"), ("officer:cb-minh", "get")]
    seen_a = {(e.actor, e.action) for e in read_trail(cat, TrailFilter(), centre_id=a).entries}
    assert (f"agency:{AGENCY}", "request") not in seen_a  # a holds none of the person's documents
    assert read_trail(cat, TrailFilter(owner=OTHER), centre_id=b).entries == []  # b holds none of OTHER's


def test_the_citizen_sees_agencies_and_centres_never_officers(db_services: Services) -> None:
    _log(db_services)
    reads, more = citizen_trail(db_services.catalogue, OWNER)
    assert not more
    assert [(r.reader, r.purpose) for r in reads] == [
        ("Sở Tư pháp Hà Nội", "xác minh hộ tịch"),
        ("UBND phường Bến Nghé", "tải bản số hóa"),
        ("UBND phường Ba Đình", "tải bản số hóa"),
    ]
    shown = json.dumps([r.to_dict() for r in reads], ensure_ascii=False)
    assert "cb-lan" not in shown and "cb-minh" not in shown and "Nguyễn" not in shown


def test_viewing_is_audited_and_the_owner_column_is_bound_by_the_hash(db_services: Services) -> None:
    a, _ = _log(db_services)
    cat = db_services.catalogue
    record_view(cat, TrailFilter(owner=OWNER), actor="officer:cb-lan", centre_id=a, shown=3)
    (view,) = read_trail(cat, TrailFilter(action="audit_view")).entries
    assert (view.owner_id, view.centre_id, view.detail["by_owner"]) == (OWNER, a, "yes")
    assert OWNER not in json.dumps(view.detail)
    assert audit.verify(cat).ok
    with cat.engine.begin() as conn:  # hide a read from the citizen: the entry no longer verifies
        conn.execute(text("UPDATE audit_log SET owner_id = :o WHERE seq = 1"), {"o": OTHER})
    report = audit.verify(cat)
    assert [p.code for p in report.problems] == ["entry_changed"] and report.problems[0].seq == 1
    assert "Bản ghi 1" in report.problems[0].message


def test_entries_from_before_0021_still_verify_with_their_owner_filled_in(db_services: Services) -> None:
    """An entry as written before 0021 (no owner column in its hash), its owner filled from the subject
    as the migration does: its hash still verifies, and the owner filter finds it."""
    cat = db_services.catalogue
    with cat.session() as s:
        head = s.get(AuditHead, 1)
        assert head is not None
        at = datetime.now(UTC)
        fields = (at, "agency:x", "request", f"owner:{OWNER}", "p", "granted", {})
        h = chain_hash(head.hash, head.seq + 1, audit.content_hash(*fields))
        s.add(
            AuditEntry(
                seq=head.seq + 1,
                at=at,
                actor="agency:x",
                action="request",
                subject=f"owner:{OWNER}",
                purpose="p",
                outcome="granted",
                detail={},
                prev_hash=head.hash,
                hash=h,
            )
        )
        head.seq, head.hash = head.seq + 1, h
    with cat.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET owner_id = substr(subject, 7) WHERE subject LIKE 'owner:%'"))
    assert audit.verify(cat).ok
    assert len(read_trail(cat, TrailFilter(owner=OWNER)).entries) == 1


def _rewrite_whole_log(services: Services) -> None:
    """What someone with write access to the database could do: change an entry, recompute every hash after."""
    cat = services.catalogue
    with cat.session() as s:
        prev = audit.GENESIS
        for e in s.scalars(select(AuditEntry).order_by(AuditEntry.seq)):
            if e.seq == 1:
                e.purpose = "đã sửa"
            content = audit.content_hash(
                e.at, e.actor, e.action, e.subject, e.purpose, e.outcome, e.detail, e.owner_id, e.centre_id
            )
            e.prev_hash, e.hash = prev, chain_hash(prev, e.seq, content)
            prev = e.hash
        s.flush()
        head = s.get(AuditHead, 1)
        assert head is not None
        head.hash = prev


def test_an_anchor_exposes_a_log_rewritten_whole(db_services: Services) -> None:
    _log(db_services)
    done = anchor_for(db_services)
    assert done.anchored and done.seq == 5
    assert anchor_for(db_services).reason == "unchanged"
    audit.record(db_services.catalogue, actor="x", action="get", subject="s", outcome="ok")
    assert anchor_for(db_services).reason == "today"  # once a day
    report = verify_for(db_services)
    assert report.ok and report.anchors == 1, report.to_dict()

    _rewrite_whole_log(db_services)
    assert audit.verify(db_services.catalogue).ok  # the chain alone cannot tell
    report = verify_for(db_services)
    assert [p.code for p in report.problems] == ["anchor_mismatch"] and report.problems[0].seq == 5
    assert "viết lại" in report.to_dict()["problems"][0]["message"]


def test_a_tampered_anchor_is_detected(db_services: Services) -> None:
    _log(db_services)
    done = anchor_for(db_services)
    cat = db_services.catalogue
    with cat.engine.begin() as conn:  # the catalogued head moved to match a rewritten log: the token says otherwise
        conn.execute(update(AuditAnchor).values(hash="ab" * 32))
    assert [p.code for p in verify_for(db_services).problems] == ["anchor_object_changed"]
    with cat.engine.begin() as conn:
        conn.execute(update(AuditAnchor).values(hash=done.hash))
    assert verify_for(db_services).ok
    path = db_services.store.root / Bucket.RESULTS.value / str(done.object_key)  # type: ignore[attr-defined]
    body = json.loads(path.read_text())
    body["token"] = base64.b64encode(base64.b64decode(body["token"])[:-8] + b"\0" * 8).decode()
    path.chmod(0o644)
    path.write_text(json.dumps(body))
    assert [p.code for p in verify_for(db_services).problems] == ["anchor_object_changed"]


def test_a_token_over_another_head_or_from_an_untrusted_tsa_is_refused(services: Services, served: ServedPki) -> None:
    _log(services)
    cat = services.catalogue
    done = anchor_head(cat, services.warehouse, http_timestamper(served.tsa_url))
    assert done.anchored
    assert verify_all(cat, services.store, [served.root_cert]).ok
    untrusted = verify_all(cat, services.store, services.trust_roots)  # the development root only
    assert [p.code for p in untrusted.problems] == ["anchor_token_invalid"]


@pytest.fixture(scope="module")
def ecdsa_tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedPki]:
    """A served PKI with ECDSA keys: ``openssl ts`` verifies through PKCS#7, which knows no RSASSA-PSS
    (what the RSA test PKI's TSA signs with)."""
    with PkiServer(tmp_path_factory.mktemp("ecpki"), key_algorithm="ecdsa-p256") as server:
        yield server.pki


def test_a_served_tsa_anchor_verifies_with_openssl(services: Services, ecdsa_tsa: ServedPki, tmp_path: Path) -> None:
    """``openssl ts -verify`` as an independent oracle: the token stamps the statement of the anchored head."""
    if shutil.which("openssl") is None:
        pytest.fail("openssl is needed for this test")
    served = ecdsa_tsa
    _log(services)
    done = anchor_head(services.catalogue, services.warehouse, http_timestamper(served.tsa_url))
    assert verify_all(services.catalogue, services.store, [served.root_cert]).ok
    with services.catalogue.reading() as s:
        row = s.scalars(select(AuditAnchor)).one()
    body = json.loads(services.store.get_bytes(Bucket.RESULTS, row.object_key, sha256=row.object_sha256))
    (tmp_path / "token.der").write_bytes(base64.b64decode(body["token"]))
    (tmp_path / "head.txt").write_bytes(statement(done.seq, done.hash))
    (tmp_path / "forged.txt").write_bytes(statement(done.seq, "cd" * 32))

    def openssl_verify(data: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                "openssl",
                "ts",
                "-verify",
                "-data",
                str(tmp_path / data),
                "-in",
                str(tmp_path / "token.der"),
                "-token_in",
                "-CAfile",
                str(served.root_cert),
                "-untrusted",
                str(served.ca_cert),
            ],
            capture_output=True,
            text=True,
            check=False,
        )

    ok = openssl_verify("head.txt")
    assert ok.returncode == 0 and "Verification: OK" in ok.stdout, ok.stdout + ok.stderr
    assert openssl_verify("forged.txt").returncode != 0
    assert body["statement"] == statement(done.seq, done.hash).decode()


def test_the_maintenance_round_anchors_once_a_day(db_services: Services) -> None:
    from workers.maintenance import run_once

    assert "audit_anchor_seq" not in run_once(db_services, retimestamp=False, anchor=True)  # an empty log
    _log(db_services)
    assert run_once(db_services, retimestamp=False, anchor=True)["audit_anchor_seq"] == 5
    audit.record(db_services.catalogue, actor="x", action="get", subject="s", outcome="ok")
    assert "audit_anchor_seq" not in run_once(db_services, retimestamp=False, anchor=True)
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    assert anchor_head(db_services.catalogue, db_services.warehouse, db_services.timestamper, now=tomorrow).seq == 6
    with db_services.catalogue.reading() as s:
        assert list(s.scalars(select(AuditAnchor.seq).order_by(AuditAnchor.seq))) == [5, 6]
    assert verify_for(db_services).ok


def test_the_citizen_page_leaves_out_the_citizens_own_visits(db_services: Services) -> None:
    _log(db_services)
    first, _ = citizen_trail(db_services.catalogue, OWNER, audited_as="citizen")
    again, _ = citizen_trail(db_services.catalogue, OWNER, audited_as="citizen")
    assert len(first) == len(again) == 3
    assert [e.actor for e in read_trail(db_services.catalogue, TrailFilter(action="audit_view")).entries] == [
        "citizen",
        "citizen",
    ]


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_migration_0021_matches_the_models(dialect: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    from tests.storage.factories import model_drift

    url = request.getfixturevalue("pg_url") if dialect == "postgresql" else f"sqlite:///{tmp_path / 'c.sqlite3'}"
    assert model_drift(url, "audit") == []


def test_a_tsa_that_does_not_answer_leaves_the_rest_of_maintenance_alone(tmp_path: Path, shared_pki_dir: Path) -> None:
    from sohoa.settings import SigningSettings
    from tests.conftest import make_settings
    from workers.maintenance import run_once

    settings = make_settings(tmp_path / "var", shared_pki_dir)
    dead = settings.model_copy(
        update={"signing": SigningSettings(pki_dir=shared_pki_dir, tsa_url="http://127.0.0.1:9/tsa")}
    )
    services = Services(dead)
    services.prepare()
    try:
        audit.record(services.catalogue, actor="x", action="get", subject="s", outcome="ok")
        done = run_once(services, retimestamp=False, anchor=True)
        assert done["audit_anchor_error"] == "TIMESTAMP_UNAVAILABLE" and "finalised" in done
        with services.catalogue.reading() as s:
            assert s.scalars(select(AuditAnchor)).all() == []
    finally:
        services.close()


def test_emptying_the_owner_a_subject_names_is_detected_and_the_filter_still_finds_it(db_services: Services) -> None:
    _log(db_services)
    cat = db_services.catalogue
    assert audit.verify(cat).ok
    with cat.engine.begin() as conn:  # hide the agency's request from the citizen's trail
        conn.execute(text("UPDATE audit_log SET owner_id = NULL WHERE subject LIKE 'owner:%'"))
    report = audit.verify(cat)
    assert [(p.code, p.seq) for p in report.problems] == [("entry_changed", 3), ("entry_changed", 4)]
    assert [e.seq for e in read_trail(cat, TrailFilter(owner=OWNER)).entries] == [3, 2, 1]
    assert citizen_trail(cat, OWNER)[0][0].purpose == "xác minh hộ tịch"


def test_a_centre_sees_the_centre_recorded_on_an_entry_not_who_its_actor_is_today(db_services: Services) -> None:
    """An officer's entries keep the centre they were in when written; an API key's id is no officer's name."""
    from storage.catalogue.clients import create_client
    from storage.catalogue.models import ApiClient, ClientRole

    a, b = _log(db_services)
    cat = db_services.catalogue
    create_client(cat, "khóa toàn hệ thống", ClientRole.OFFICER)  # deployment-wide: no centre
    with cat.session() as s:
        key_id = s.scalars(select(ApiClient.id).order_by(ApiClient.id.desc())).first()
        # An officer named like the key, from before such names were refused.
        s.add(Officer(username=str(key_id), full_name="Số", role="officer", centre_id=a))
    audit.record(
        cat, actor=f"officer:{key_id}", action="get", subject="documents/k9", purpose="tải", outcome="ok", owner=OWNER
    )
    with cat.session() as s:  # cb-lan moves to centre b
        s.execute(update(Officer).where(Officer.username == "cb-lan").values(centre_id=b))
    audit.record(cat, actor="officer:cb-lan", action="officer.sign_in", subject="officer:cb-lan", outcome="ok")

    seen_a = [(e.actor, e.action) for e in read_trail(cat, TrailFilter(), centre_id=a).entries]
    assert seen_a == [("officer:cb-lan", "officer.sign_in"), ("officer:cb-lan", "search"), ("officer:cb-lan", "get")]
    seen_b = [(e.actor, e.action) for e in read_trail(cat, TrailFilter(), centre_id=b).entries]
    assert seen_b == [("officer:cb-lan", "officer.sign_in"), ("officer:cb-minh", "get")]
    reads, _ = citizen_trail(cat, OWNER)
    assert reads[0].purpose == "tải" and reads[0].reader == "Cán bộ trung tâm phục vụ hành chính công"
    assert audit.verify(cat).ok


def _anchor_three(services: Services) -> None:
    """Anchors at seq 5, 6 and 7, a day apart."""
    _log(services)
    day = timedelta(days=1)
    assert anchor_for(services).seq == 5
    for n, moment in ((6, datetime.now(UTC) + day), (7, datetime.now(UTC) + 2 * day)):
        audit.record(services.catalogue, actor="x", action="get", subject="s", outcome="ok")
        assert anchor_head(services.catalogue, services.warehouse, services.timestamper, now=moment).seq == n


def test_a_removed_anchor_row_is_detected_even_with_the_log_rewritten(db_services: Services) -> None:
    _anchor_three(db_services)
    cat = db_services.catalogue
    with cat.reading() as s:
        keys = list(s.scalars(select(AuditAnchor.object_key).order_by(AuditAnchor.seq)))
    assert all(k.startswith("audit-anchors/") for k in keys) and len(set(keys)) == 3
    assert verify_for(db_services).ok

    with cat.engine.begin() as conn:  # the middle anchor's row removed: its object stays, the next one's link breaks
        conn.execute(delete(AuditAnchor).where(AuditAnchor.seq == 6))
    report = verify_for(db_services)
    assert [(p.code, p.seq) for p in report.problems] == [("anchor_chain_broken", 7), ("anchor_unlisted", 6)]
    assert keys[1] in report.problems[1].message

    with cat.engine.begin() as conn:  # every row removed, the log rewritten: the chain alone is consistent
        conn.execute(delete(AuditAnchor))
    _rewrite_whole_log(db_services)
    assert audit.verify(cat).ok
    report = verify_for(db_services)
    assert sorted((p.code, p.seq) for p in report.problems) == [
        ("anchor_unlisted", 5),
        ("anchor_unlisted", 6),
        ("anchor_unlisted", 7),
    ]


def test_an_anchor_time_that_is_not_its_tokens_is_detected(db_services: Services) -> None:
    _anchor_three(db_services)
    cat = db_services.catalogue
    with cat.engine.begin() as conn:
        conn.execute(
            update(AuditAnchor).where(AuditAnchor.seq == 6).values(tsa_time=datetime.now(UTC) - timedelta(days=3))
        )
    report = verify_for(db_services)
    assert [(p.code, p.seq) for p in report.problems] == [("anchor_time_mismatch", 6)]


def test_two_processes_anchoring_at_once_ask_the_tsa_once(db_services: Services) -> None:
    """The second finds the first's claim and backs off: no second TSA call, no second locked object."""
    _log(db_services)
    inner = db_services.timestamper
    entered, release = threading.Event(), threading.Event()
    calls: list[int] = []

    class Held:
        def timestamp(self, digest: bytes, algorithm: str) -> bytes:
            calls.append(1)
            if len(calls) == 1:
                entered.set()
                release.wait(60)
            return inner.timestamp(digest, algorithm)

    held: Any = Held()
    results: list[Any] = []
    first = threading.Thread(
        target=lambda: results.append(anchor_head(db_services.catalogue, db_services.warehouse, held))
    )
    first.start()
    try:
        assert entered.wait(60)
        second = anchor_head(db_services.catalogue, db_services.warehouse, held)
    finally:
        release.set()
        first.join(60)
    assert second.reason == "busy" and not second.anchored and "tiến trình khác" in second.message
    assert len(calls) == 1 and results[0].anchored
    # Two that both found the head unanchored: the second claim of a seq, or any claim while one is open, fails.
    now = datetime.now(UTC)
    assert _claim(db_services.catalogue, 5, "ab" * 32, now) is None
    audit.record(db_services.catalogue, actor="x", action="get", subject="s", outcome="ok")
    mine = _claim(db_services.catalogue, 6, "ab" * 32, now)
    assert mine is not None and _claim(db_services.catalogue, 7, "cd" * 32, now) is None
    assert verify_for(db_services).ok  # an anchor under way is no finding
    _drop_claim(db_services.catalogue, mine)
    objects = list(db_services.store.list_objects(Bucket.RESULTS, "audit-anchors/"))
    assert len(objects) == 1
    assert verify_for(db_services).ok


def test_anchors_verify_from_inside_a_running_event_loop(services: Services) -> None:
    """``check_token`` runs pyHanko's coroutine itself: from async code (a route) it must not trip over the loop."""
    import asyncio

    _log(services)
    assert anchor_for(services).anchored

    async def inside() -> audit.AuditReport:
        return verify_for(services)

    report = asyncio.run(inside())
    assert report.ok and report.anchors == 1, report.to_dict()


def test_the_operators_change_to_an_account_is_recorded_for_the_officers_centre(db_services: Services) -> None:
    from storage.accounts import admin
    from storage.catalogue.models import OfficerRole

    a, b = _centres(db_services)
    cat = db_services.catalogue
    admin.add_officer(cat, "cb-hoa", "Phạm Thị Hoa", OfficerRole.RECEIVING, "HN-BD")
    created = read_trail(cat, TrailFilter(action="officer.create")).entries
    assert [(e.actor, e.subject, e.centre_id) for e in created] == [("operator", "officer:cb-hoa", a)]
    assert read_trail(cat, TrailFilter(action="officer.create"), centre_id=b).entries == []
    assert audit.verify(cat).ok


def test_every_action_the_code_writes_has_a_vietnamese_name() -> None:
    """Officers and citizens read actions in Vietnamese: each code written as a literal is named."""
    import re

    from dossiers.audit_trail import ACTIONS_VI

    root = Path(__file__).resolve().parents[2]
    written: set[str] = set()
    for package in ("api", "cli", "dossiers", "storage", "workers"):
        for path in (root / package).rglob("*.py"):
            text_ = path.read_text(encoding="utf-8")
            written |= set(re.findall(r'action="([a-z_.-]+)"', text_))
            written |= set(re.findall(r'_ACTION = "([a-z_.-]+)"', text_))
            written |= set(re.findall(r'"(officer\.[a-z_]+)"', text_))
    assert {"notice_retry", "slip_download", "officer.unlock"} <= written
    assert sorted(written - set(ACTIONS_VI)) == []
    assert "audit_anchor" not in ACTIONS_VI and action_vi("notice_retry") == "Gửi lại thông báo"
