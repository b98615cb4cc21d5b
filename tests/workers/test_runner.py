"""The step runner: exclusive claims, lease expiry after a killed worker, retries, recorded failures."""

from __future__ import annotations

import time
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from dossiers import steps as pipeline
from dossiers.batch_reader import read_batch
from dossiers.errors import FileMissing, MemberUnreadable
from dossiers.intake import ingest
from dossiers.services import Services
from dossiers.steps import StepOutcome, StepSpec
from storage.catalogue.models import Component, JobStep, StepState, utcnow
from storage.errors import ObjectStoreUnavailable
from testkit.batches import make_zip, manifest
from workers.runner import StepRunner


@pytest.fixture
def dossier(db_services: Services, tmp_path: Path) -> Services:
    comps = [{"id": f"c{i}", "files": [f"p{i}.jpg"]} for i in range(3)]
    path = tmp_path / "b.zip"
    path.write_bytes(make_zip(manifest(comps), {f"p{i}.jpg": f"page {i}".encode() for i in range(3)}))
    ingest(db_services, read_batch(path))
    return db_services


def install(monkeypatch: pytest.MonkeyPatch, handler) -> list[int]:  # type: ignore[no-untyped-def]
    calls: list[int] = []

    def wrapped(services: Services, step: JobStep) -> StepOutcome:
        calls.append(step.id)
        return handler(services, step)

    monkeypatch.setitem(pipeline.STEPS, "unpack", StepSpec("unpack", "ingest", wrapped, None))
    return calls


def component_of(services: Services, step_id: int) -> Component:
    with services.catalogue.session() as s:
        comp = s.scalar(
            select(Component).join(JobStep, JobStep.component_id == Component.id).where(JobStep.id == step_id)
        )
        assert comp is not None
        return comp


def steps(services: Services) -> list[JobStep]:
    with services.catalogue.session() as s:
        return list(s.scalars(select(JobStep).order_by(JobStep.id)))


def test_each_step_is_claimed_by_one_runner_only(dossier: Services) -> None:
    a, b = StepRunner(dossier, "a"), StepRunner(dossier, "b")
    claimed = [
        a.claim_next(("ingest",)),
        b.claim_next(("ingest",)),
        a.claim_next(("ingest",)),
        b.claim_next(("ingest",)),
    ]
    got = [c for c in claimed if c is not None]
    assert len(got) == 3 and len(set(got)) == 3
    assert all(not a.claim(step_id) for step_id in got)


def test_killed_worker_step_is_reclaimed_after_its_lease_and_runs_once(
    dossier: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = install(monkeypatch, lambda s, st: StepOutcome({"ok": st.id}))
    dead = StepRunner(dossier, "dead")
    step_id = dead.claim_next(("ingest",))
    assert step_id is not None
    live = StepRunner(dossier, "live")
    others = [live.claim_next(("ingest",)) for _ in range(3)]
    assert step_id not in others  # leased by the dead worker
    for other in others:
        if other is not None:
            live.run(other)
    with dossier.catalogue.session() as s:
        s.execute(update(JobStep).where(JobStep.id == step_id).values(lease_until=utcnow() - timedelta(seconds=1)))
    assert live.claim_next(("ingest",)) == step_id
    assert live.run(step_id).state == StepState.DONE
    assert dead.run(step_id).state == "lost"  # the dead worker's late result is discarded
    assert sorted(calls) == sorted([*[o for o in others if o], step_id, step_id])
    final = steps(dossier)
    assert [s.state for s in final] == [StepState.DONE] * 3
    assert {s.output["ok"] for s in final} == {s.id for s in final}


def test_transient_errors_retry_with_backoff_then_permanent_failure_is_recorded(
    dossier: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    def flaky(services: Services, step: JobStep) -> StepOutcome:
        raise ObjectStoreUnavailable("connection refused")

    install(monkeypatch, flaky)
    runner = StepRunner(dossier, "w")
    step_id = runner.claim_next(("ingest",))
    assert step_id is not None
    result = runner.run(step_id)
    assert result.state == StepState.PENDING and result.error_code == "OBJECT_STORE_UNAVAILABLE"
    row = next(s for s in steps(dossier) if s.id == step_id)
    assert row.not_before is not None and row.attempts == 1

    def broken_input(services: Services, step: JobStep) -> StepOutcome:
        raise FileMissing("p0.jpg")

    install(monkeypatch, broken_input)
    other = runner.claim_next(("ingest",))
    assert other is not None and other != step_id
    assert runner.run(other).state == StepState.FAILED
    comp = component_of(dossier, other)
    assert comp.state == "failed" and comp.error_code == "FILE_MISSING"
    assert "manifest.json" in (comp.error_message or "")


def test_retries_are_bounded(dossier: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(services: Services, step: JobStep) -> StepOutcome:
        raise RuntimeError("bug")

    install(monkeypatch, crash)
    runner = StepRunner(dossier, "w")
    step_id = runner.claim_next(("ingest",))
    assert step_id is not None
    max_attempts = dossier.settings.workers.max_attempts
    for attempt in range(1, max_attempts + 1):
        with dossier.catalogue.session() as s:
            s.execute(update(JobStep).where(JobStep.id == step_id).values(not_before=None))
        if attempt > 1:
            assert runner.claim(step_id)
        state = runner.run(step_id).state
        assert state == (StepState.FAILED if attempt == max_attempts else StepState.PENDING)
    assert not runner.claim(step_id)
    assert component_of(dossier, step_id).error_code == "INTERNAL_ERROR"


def test_a_step_whose_worker_dies_on_every_attempt_is_failed_not_run_forever(
    dossier: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scan that gets its worker killed each time (out of memory, a hard time limit) ends with a code."""
    calls = install(monkeypatch, lambda s, st: StepOutcome({"ok": st.id}))
    max_attempts = dossier.settings.workers.max_attempts
    step_id = StepRunner(dossier, "w0").claim_next(("ingest",))
    assert step_id is not None

    def lease_expires() -> None:
        with dossier.catalogue.session() as s:
            s.execute(update(JobStep).where(JobStep.id == step_id).values(lease_until=utcnow() - timedelta(seconds=1)))

    for attempt in range(2, max_attempts + 1):  # each claimer dies without settling
        lease_expires()
        assert StepRunner(dossier, f"w{attempt}").claim(step_id)
    lease_expires()
    fresh = StepRunner(dossier, "survivor")
    assert not fresh.claim(step_id)  # no attempt left: not run again
    claimed = fresh.claim_next(("ingest",))  # the sweep fails it before claiming others
    assert claimed is not None and claimed != step_id
    row = next(s for s in steps(dossier) if s.id == step_id)
    assert (row.state, row.attempts, row.error_code) == (StepState.FAILED, max_attempts, "STEP_RETRIES_EXHAUSTED")
    comp = component_of(dossier, step_id)
    assert comp.state == "failed" and comp.error_code == "STEP_RETRIES_EXHAUSTED"
    assert "nhiều lần thử" in (comp.error_message or "")
    assert step_id not in calls  # never run by anyone after the deaths


def test_a_step_hung_past_its_time_limit_lets_its_lease_expire(
    dossier: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Python cannot stop a hung thread; the heartbeat stops renewing, so another worker takes the step."""
    import threading

    from workers import runner as runner_module

    release = threading.Event()

    def hang(services: Services, step: JobStep) -> StepOutcome:
        release.wait(30)
        return StepOutcome({"late": True})

    install(monkeypatch, hang)
    monkeypatch.setattr(runner_module, "step_time_limit", lambda *_args: 0.5)
    hung = StepRunner(dossier, "hung")
    hung.lease = timedelta(seconds=1.5)
    step_id = hung.claim_next(("ingest",))
    assert step_id is not None
    outcome: list[object] = []
    worker = threading.Thread(target=lambda: outcome.append(hung.run(step_id)))
    worker.start()
    other = StepRunner(dossier, "other")
    give_up = time.monotonic() + 120  # a liveness bound, not a timing: the lease expires within seconds
    while not other.claim(step_id):
        assert time.monotonic() < give_up, "the hung step's lease never expired"
        time.sleep(0.2)
    release.set()
    worker.join(10)
    assert outcome and outcome[0].state == "lost"  # type: ignore[attr-defined]
    row = next(s for s in steps(dossier) if s.id == step_id)
    assert (row.state, row.lease_owner, row.attempts) == (StepState.RUNNING, "other", 2)


def no_space_left() -> None:
    """A real ENOSPC from the kernel: /dev/full refuses every write for lack of space."""
    with open("/dev/full", "wb", buffering=0) as full:
        full.write(b"scan")


def sqlite_full(path: Path) -> None:
    """A real SQLITE_FULL ("database or disk is full"): a database allowed no more pages than it has."""
    import sqlite3

    with closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE IF NOT EXISTS t (x BLOB)")
        db.execute(f"PRAGMA max_page_count = {db.execute('PRAGMA page_count').fetchone()[0]}")
        db.execute("INSERT INTO t VALUES (zeroblob(100000))")


def enospc_under_a_code(services: Services, step: JobStep) -> StepOutcome:
    try:
        no_space_left()
    except OSError as exc:  # as a tool that reports a failed write as bad input would
        raise MemberUnreadable("p0.jpg") from exc
    raise AssertionError("/dev/full accepted a write")


@pytest.mark.parametrize(
    "handler",
    [
        lambda services, step: no_space_left(),
        enospc_under_a_code,
        lambda services, step: sqlite_full(services.settings.var_dir / "full.sqlite3"),
    ],
    ids=["ENOSPC", "coded-error-from-ENOSPC", "SQLITE_FULL"],
)
def test_a_step_that_meets_a_full_disk_stays_pending_without_spending_its_attempts(
    dossier: Services, monkeypatch: pytest.MonkeyPatch, handler
) -> None:  # type: ignore[no-untyped-def]
    install(monkeypatch, handler)
    runner = StepRunner(dossier, "w")
    step_id = runner.claim_next(("ingest",))
    assert step_id is not None
    for attempt in range(dossier.settings.workers.max_attempts + 2):
        if attempt:
            assert not runner.claim(step_id)  # it waits storage.full_retry_after_s first
            with dossier.catalogue.session() as s:
                s.execute(update(JobStep).where(JobStep.id == step_id).values(not_before=None))
            assert runner.claim(step_id)
        started = utcnow()
        result = runner.run(step_id)
        assert (result.state, result.error_code) == (StepState.PENDING, "STORAGE_FULL")
        row = next(s for s in steps(dossier) if s.id == step_id)
        assert (row.state, row.attempts, row.error_code) == (StepState.PENDING, 0, "STORAGE_FULL")
        wait = dossier.settings.storage.full_retry_after_s
        assert row.not_before is not None and row.not_before >= started + timedelta(seconds=wait)
        assert "đầy" in (row.error_message or "")
    assert component_of(dossier, step_id).state == "pending"

    install(monkeypatch, lambda s, st: StepOutcome({"ok": st.id}))  # space was freed
    with dossier.catalogue.session() as s:
        s.execute(update(JobStep).where(JobStep.id == step_id).values(not_before=None))
    assert runner.claim(step_id) and runner.run(step_id).state == StepState.DONE
    row = next(s for s in steps(dossier) if s.id == step_id)
    assert (row.state, row.attempts, row.error_code) == (StepState.DONE, 1, None)
