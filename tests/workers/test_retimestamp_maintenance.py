"""Maintenance re-time-stamps B-LTA e-results before their time-stamp's certificate expires.

Against real parts: e-results issued through the pipeline (issue, sign_result, store_result)
with keys of a test PKI served on 127.0.0.1 (OCSP, CRL, TSA), the catalogue on SQLite and
PostgreSQL, the local object store with its results lock. The result to extend was stamped by
a TSA certificate that expires in 30 days (served on its own port); the served TSA signs with
a renewed certificate (two years). The margin setting and the TSA's availability are varied;
nobody waits for years.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from dossiers.result_render import render_result_pdf
from dossiers.results import earlier_versions, issue_result_once
from dossiers.services import Services
from signing.dev import DevTsaResponder
from signing.signers import last_timestamp_expiry
from signing.validation import verify_pdf
from sohoa.settings import Settings, SigningSettings, WorkerSettings
from storage.catalogue.models import EResult, EResultVersion, JobStep, StepState
from storage.catalogue.warehouse_models import AuditEntry, ObjectRecord
from storage.errors import ObjectLocked
from storage.objectstore import Bucket, sha256_hex
from storage.warehouse import audit
from storage.warehouse.scrub import scrub
from testkit.pki import PkiServer, ServedPki
from testkit.scheduling import run_in_threads, run_steps
from testkit.servers import refused_url, serve_tsa
from tests.conftest import make_settings, production_signing
from tests.storage.factories import add_document
from workers.maintenance import (
    RETIMESTAMP_KIND,
    RETIMESTAMP_PERIOD,
    Maintenance,
    _claim,
    run_once,
    schedule_new_results,
)
from workers.periodic import Periodic

QUIET = {"expired_raw": 0, "finalised": 0, "dropped": 0}  # a round with nothing to do


# -- the test PKI and its TSAs ------------------------------------------------------------------


@pytest.fixture(scope="module")
def expiring_tsa_url(pki_server: PkiServer) -> Iterator[str]:
    """RFC 3161 over HTTP, signed with a certificate of the served PKI that expires in 30 days."""
    with serve_tsa(DevTsaResponder(timestamper=pki_server.short_lived_tsa(30))) as url:
        yield url


@pytest.fixture
def dead_tsa_url() -> Iterator[str]:
    with refused_url("/tsa") as url:
        yield url


# -- services: one "process" issuing, others maintaining, sharing a catalogue and a store ----------


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str | None:
    return request.getfixturevalue("pg_url") if request.param == "postgresql" else None


@dataclass
class Env:
    var_dir: Path
    pki_dir: Path
    served: ServedPki
    db_url: str | None
    opened: list[Services]

    def services(self, tsa_url: str | None = None, *, margin_days: int = 180) -> Services:
        signing = SigningSettings(
            **production_signing(  # type: ignore[arg-type]
                self.served,
                pki_dir=self.pki_dir,
                tsa_url=tsa_url or self.served.tsa_url,
                retimestamp_margin_days=margin_days,
            )
        )
        settings = Settings(
            var_dir=self.var_dir,
            database_url=self.db_url,
            signing=signing,
            workers=WorkerSettings(poll_interval_s=0.05),
        )
        svc = Services(settings)
        svc.prepare()
        self.opened.append(svc)
        return svc


def _env(tmp_path: Path, shared_pki_dir: Path, served: ServedPki, db_url: str | None) -> Iterator[Env]:
    env = Env(tmp_path / "var", shared_pki_dir, served, db_url, [])
    yield env
    for svc in env.opened:
        svc.close()


@pytest.fixture
def env(tmp_path: Path, shared_pki_dir: Path, served: ServedPki, db_url: str | None) -> Iterator[Env]:
    yield from _env(tmp_path, shared_pki_dir, served, db_url)


@pytest.fixture
def env_sqlite(tmp_path: Path, shared_pki_dir: Path, served: ServedPki) -> Iterator[Env]:
    yield from _env(tmp_path, shared_pki_dir, served, None)


_codes = iter(range(1, 10_000))


def issue_b_lta(services: Services) -> str:
    """An e-result issued, signed B-LTA (time-stamped by ``services``' TSA) and stored, as an officer's request is."""
    code = f"000.00.12.H26-261122-{next(_codes):04d}"
    add_document(services.catalogue, owner_id="001090012345", doc_type="birth_certificate", code=code)
    issued = issue_result_once(services, code, render_result_pdf([f"Kết quả của hồ sơ {code}"]), level="B-LTA")
    assert all(ran.state == StepState.DONE for ran in run_steps(services))
    return issued.result.code


@dataclass(frozen=True)
class Stored:
    object_key: str
    sha256: str
    size: int


def stored(services: Services, code: str) -> Stored:
    with services.catalogue.reading() as s:
        r = s.scalars(select(EResult).where(EResult.code == code)).one()
        assert r.object_key and r.sha256 and r.size
        return Stored(r.object_key, r.sha256, r.size)


def served_pdf(services: Services, code: str) -> bytes:
    """What the API and the portal serve for ``code``: the catalogued object, read through the warehouse."""
    now = stored(services, code)
    data = services.warehouse.get_bytes(Bucket.RESULTS, now.object_key, actor="test", sha256=now.sha256)
    assert sha256_hex(data) == now.sha256 and len(data) == now.size
    return data


def schedule_row(services: Services, code: str) -> JobStep:
    with services.catalogue.reading() as s:
        return s.scalars(
            select(JobStep)
            .join(EResult, EResult.id == JobStep.eresult_id)
            .where(EResult.code == code, JobStep.kind == RETIMESTAMP_KIND)
        ).one()


def audit_entries(services: Services, code: str, action: str = "retimestamp") -> list[AuditEntry]:
    with services.catalogue.reading() as s:
        return list(
            s.scalars(
                select(AuditEntry)
                .where(AuditEntry.subject.in_([f"result:{code}"]), AuditEntry.action == action)
                .order_by(AuditEntry.seq)
            )
        )


def reads_of(services: Services, key: str) -> int:
    with services.catalogue.reading() as s:
        subject = f"{Bucket.RESULTS.value}/{key}"
        return s.scalar(select(func.count()).where(AuditEntry.subject == subject, AuditEntry.action == "get")) or 0


def doc_timestamps(pdf: bytes) -> int:
    return pdf.count(b"/DocTimeStamp")


# -- tests ----------------------------------------------------------------------------------------


def test_a_result_whose_timestamp_expires_within_the_margin_is_extended_once(env: Env, expiring_tsa_url: str) -> None:
    issuer = env.services(expiring_tsa_url)  # stamped back when the TSA used a certificate now near its end
    services = env.services()  # today's TSA certificate: two years
    expiring, lasting = issue_b_lta(issuer), issue_b_lta(services)
    original, untouched = stored(services, expiring), stored(services, lasting)
    original_pdf, lasting_pdf = served_pdf(services, expiring), served_pdf(services, lasting)
    original_expiry = last_timestamp_expiry(original_pdf)
    assert original_expiry is not None and original_expiry < datetime.now(UTC) + timedelta(days=31)

    done = run_once(services)
    assert done == QUIET | {
        "retimestamp_scheduled": 2,
        "retimestamp_checked": 2,
        "retimestamp_extended": 1,
        "retimestamp_failed": 0,
        "retimestamp_blocked": 0,
    }

    # The e-result now names the extension; the API and the portal serve it, and it verifies.
    now = stored(services, expiring)
    assert now.object_key != original.object_key and now.sha256 != original.sha256
    extended = served_pdf(services, expiring)
    assert extended.startswith(original_pdf) and doc_timestamps(extended) == doc_timestamps(original_pdf) + 1
    report = verify_pdf(extended, env.served.trust_roots)
    assert report.valid and report.signatures[0].level == "B-LTA", report.render("en")
    new_expiry = last_timestamp_expiry(extended)
    assert new_expiry is not None and new_expiry > datetime.now(UTC) + timedelta(days=365)

    # The original, as issued, is still there, unchanged and locked; so is the extension.
    store = services.store
    assert store.get_bytes(Bucket.RESULTS, original.object_key, sha256=original.sha256) == original_pdf
    for key in (original.object_key, now.object_key):
        assert store.lock_state(Bucket.RESULTS, key).locked(datetime.now(UTC))
        with pytest.raises(ObjectLocked):
            store.delete(Bucket.RESULTS, key)

    # Recorded in the catalogue: both objects (scrub checks them), the schedule, and an audit entry naming both.
    with services.catalogue.reading() as s:
        recorded = dict(
            s.execute(
                select(ObjectRecord.key, ObjectRecord.sha256).where(ObjectRecord.bucket == Bucket.RESULTS.value)
            ).all()
        )
    assert {original.object_key: original.sha256, now.object_key: now.sha256}.items() <= recorded.items()
    assert set(recorded) == {info.key for info in store.list_objects(Bucket.RESULTS)}  # and nothing unrecorded
    row = schedule_row(services, expiring)
    assert (row.state, row.not_before, row.input_sha256, row.lease_owner) == (
        StepState.DONE,
        new_expiry,
        now.sha256,
        None,
    )
    assert "versions" not in row.output  # the history is a table of its own
    with services.catalogue.reading() as s:
        kept = s.execute(
            select(EResultVersion.object_key, EResultVersion.sha256, EResultVersion.size, EResultVersion.object_version)
            .join(EResult, EResult.id == EResultVersion.eresult_id)
            .where(EResult.code == expiring)
        ).all()
    assert [tuple(v) for v in kept] == [
        (original.object_key, original.sha256, original.size, None)
    ]  # local: no versions
    [entry] = audit_entries(services, expiring)
    assert (entry.actor, entry.outcome) == ("system:maintenance", "ok")
    assert (entry.detail["from"], entry.detail["to"]) == (f"results/{original.object_key}", f"results/{now.object_key}")
    assert (entry.detail["from_sha256"], entry.detail["to_sha256"]) == (original.sha256, now.sha256)
    assert reads_of(services, original.object_key) >= 1  # the job's read of the original was audited
    assert audit.verify(services.catalogue).ok

    # The portal's check still finds the copy the citizen was issued, and the extension.
    from types import SimpleNamespace

    from api.routes_portal import _matches

    request = SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(services=services)))
    with services.catalogue.reading() as s:
        result_id = s.scalar(select(EResult.id).where(EResult.code == expiring))
        assert earlier_versions(s, result_id) == [original.sha256]
    for sha in (original.sha256, now.sha256):
        assert _matches(request, expiring, sha) is True  # type: ignore[arg-type]
    assert _matches(request, expiring, untouched.sha256) is False  # type: ignore[arg-type]

    # The result outside the margin is untouched; its schedule waits for its own certificate's end.
    assert stored(services, lasting) == untouched and served_pdf(services, lasting) == lasting_pdf
    lasting_row = schedule_row(services, lasting)
    assert (lasting_row.state, lasting_row.not_before) == (StepState.DONE, last_timestamp_expiry(lasting_pdf))
    assert audit_entries(services, lasting) == []

    # A second run does nothing more, and does not even read them.
    reads = reads_of(services, now.object_key), reads_of(services, untouched.object_key)
    assert run_once(services) == QUIET
    assert stored(services, expiring) == now and served_pdf(services, expiring) == extended
    assert len(audit_entries(services, expiring)) == 1
    assert reads_of(services, now.object_key) == reads[0] + 1  # only this test's own read above
    assert reads_of(services, untouched.object_key) == reads[1]
    assert len(list(store.list_objects(Bucket.RESULTS))) == 3

    report = scrub(services.catalogue, services.store)  # every object, both versions of the e-result included
    assert report.clean and report.missing == report.tampered == [], report


def test_a_tsa_outage_leaves_the_result_as_it_was_reported_and_retried(
    env_sqlite: Env, expiring_tsa_url: str, dead_tsa_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    env = env_sqlite
    code = issue_b_lta(env.services(expiring_tsa_url))
    down = env.services(dead_tsa_url)
    before = stored(down, code)
    original_pdf = served_pdf(down, code)

    with caplog.at_level(logging.ERROR, logger="workers.maintenance"):
        done = run_once(down)
    assert done["retimestamp_failed"] == 1 and done["retimestamp_extended"] == 0
    assert stored(down, code) == before and served_pdf(down, code) == original_pdf
    assert len(list(down.store.list_objects(Bucket.RESULTS))) == 1
    row = schedule_row(down, code)
    assert (row.state, row.error_code, row.attempts, row.lease_owner) == (
        StepState.FAILED,
        "TIMESTAMP_UNAVAILABLE",
        1,
        None,
    )
    assert row.not_before == last_timestamp_expiry(original_pdf)  # what was learnt is kept
    [entry] = audit_entries(down, code)
    assert entry.outcome == "error" and entry.detail["error"] == "TIMESTAMP_UNAVAILABLE"
    messages = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("time-stamping service is unavailable" in m for m in messages), messages
    assert any(code in m and "TIMESTAMP_UNAVAILABLE" in m for m in messages), messages

    # Still down at the next run: still as it was. Back up: extended, nothing lost.
    assert run_once(down)["retimestamp_failed"] == 1 and stored(down, code) == before
    up = env.services()
    done = run_once(up)
    assert done["retimestamp_extended"] == 1 and done["retimestamp_failed"] == 0
    extended = served_pdf(up, code)
    assert extended.startswith(original_pdf) and verify_pdf(extended, env.served.trust_roots).valid
    row = schedule_row(up, code)
    assert (row.state, row.error_code, row.attempts) == (StepState.DONE, None, 0)


def test_two_maintenance_processes_at_once_extend_a_result_once(env: Env, expiring_tsa_url: str) -> None:
    issuer = env.services(expiring_tsa_url)
    codes = [issue_b_lta(issuer) for _ in range(3)]
    originals = {code: served_pdf(issuer, code) for code in codes}
    processes = [env.services() for _ in range(2)]
    results: list[dict[str, Any]] = [{}, {}]
    barrier = threading.Barrier(2)

    def maintain(n: int) -> None:
        barrier.wait()
        results[n] = run_once(processes[n])

    assert run_in_threads(maintain, 2, timeout=300) == []
    assert sum(r.get("retimestamp_extended", 0) for r in results) == 3, results
    assert sum(r.get("retimestamp_failed", 0) for r in results) == 0, results
    for code in codes:
        extended = served_pdf(issuer, code)
        assert extended.startswith(originals[code])
        assert doc_timestamps(extended) == doc_timestamps(originals[code]) + 1
        assert len(audit_entries(issuer, code)) == 1
    assert len(list(issuer.store.list_objects(Bucket.RESULTS))) == 6  # three originals, three extensions


def test_a_result_leased_by_another_process_is_left_to_it(env_sqlite: Env, expiring_tsa_url: str) -> None:
    env = env_sqlite
    code = issue_b_lta(env.services(expiring_tsa_url))
    services = env.services()
    before = stored(services, code)
    assert run_once(services, retimestamp=False) == QUIET
    assert schedule_new_results(services) == 1 and schedule_new_results(services) == 0
    claimed, _ = _claim(services, "another-process", 0, datetime.now(UTC), timedelta(days=180))
    assert [c.code for c in claimed] == [code]
    assert run_once(services) == QUIET  # leased elsewhere: not looked at
    assert stored(services, code) == before


def test_the_margin_setting_decides_and_a_tsa_certificate_not_renewed_blocks(
    env_sqlite: Env, caplog: pytest.LogCaptureFixture
) -> None:
    """With a margin longer than the TSA certificate's life, a result is due at once; today's TSA signs with that
    same certificate, so a new time-stamp would extend nothing: reported, not made, and not even re-read."""
    env = env_sqlite
    code = issue_b_lta(env.services())
    assert run_once(env.services(margin_days=180))["retimestamp_extended"] == 0  # checked: not due
    assert schedule_row(env.opened[-1], code).state == StepState.DONE
    services = env.services(margin_days=800)
    before = stored(services, code)
    with caplog.at_level(logging.ERROR, logger="workers.maintenance"):
        done = run_once(services)
    assert done["retimestamp_blocked"] == 1 and done["retimestamp_extended"] == 0
    assert any("renew the TSA certificate" in r.getMessage() for r in caplog.records)
    assert stored(services, code) == before and audit_entries(services, code) == []
    row = schedule_row(services, code)
    assert (row.state, row.error_code) == (StepState.FAILED, "TSA_CERT_NOT_RENEWED")
    reads = reads_of(services, before.object_key)
    assert run_once(services)["retimestamp_blocked"] == 1
    assert reads_of(services, before.object_key) == reads  # known from the last run: not read again


def test_maintenance_re_time_stamps_once_a_day() -> None:
    clock = [1000.0]
    periodic = Periodic(RETIMESTAMP_PERIOD, clock=lambda: clock[0])
    assert periodic() and not periodic()
    clock[0] += RETIMESTAMP_PERIOD.total_seconds() - 1
    assert not periodic()
    clock[0] += 1
    assert periodic() and not periodic()


def test_the_maintenance_thread_asks_for_re_time_stamping_in_its_first_round_only(
    tmp_path: Path, shared_pki_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[bool] = []
    rounds = threading.Semaphore(0)

    def fake_run_once(_services: Services, *, retimestamp: bool = True, **_: object) -> dict[str, object]:
        asked.append(retimestamp)
        rounds.release()
        return {}

    monkeypatch.setattr("workers.maintenance.run_once", fake_run_once)
    maintenance = Maintenance(Services(make_settings(tmp_path / "var", shared_pki_dir, maintenance_interval_s=0.01)))
    maintenance.start()
    try:
        for _ in range(3):
            assert rounds.acquire(timeout=10)
    finally:
        maintenance.stop()
    assert asked[:3] == [True, False, False]
