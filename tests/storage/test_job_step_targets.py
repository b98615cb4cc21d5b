"""At most one job step of each kind per component or e-result (migration 0009), on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, insert, inspect, select, text
from sqlalchemy.exc import IntegrityError

from storage.catalogue.db import Catalogue, alembic_config, migrate
from storage.catalogue.models import Base, Component, Dossier, EResult, JobStep, StepState

STEP_INDEXES = {"uq_step_component": ["kind", "component_id"], "uq_step_eresult": ["kind", "eresult_id"]}
_seq = itertools.count(1)


@pytest.fixture
def cat(db_url: str) -> Iterator[Catalogue]:
    migrate(db_url)
    catalogue = Catalogue(db_url)
    yield catalogue
    catalogue.dispose()


def _targets(conn: Connection) -> tuple[int, int, int, int]:
    """A dossier with two components and two e-results: (component, component, e-result, e-result) ids."""
    n = next(_seq)
    code = f"000.00.12.H26-260101-{n:04d}"
    dossier = conn.execute(
        insert(Dossier).values(code=code, procedure_code="1.001193", applicant_id="001090012345", batch_sha256="0" * 64)
    ).inserted_primary_key[0]
    comps = [
        conn.execute(insert(Component).values(dossier_id=dossier, ref=f"c{i}", position=i)).inserted_primary_key[0]
        for i in (1, 2)
    ]
    results = [
        conn.execute(
            insert(EResult).values(
                dossier_id=dossier, seq=i, code=f"{code}-KQ{i}", level="B-T", source_sha256="1" * 64, source_key="k"
            )
        ).inserted_primary_key[0]
        for i in (1, 2)
    ]
    return comps[0], comps[1], results[0], results[1]


def _step(conn: Connection, kind: str, *, component_id: int | None = None, eresult_id: int | None = None, **kw: Any):
    queue = {"digitize": "ocr", "sign": "sign", "sign_result": "sign"}.get(kind, "store")
    values = {"kind": kind, "queue": queue, "component_id": component_id, "eresult_id": eresult_id, **kw}
    return conn.execute(insert(JobStep).values(**values)).inserted_primary_key[0]


def _step_ids(conn: Connection) -> list[int]:
    return list(conn.scalars(select(JobStep.id).order_by(JobStep.id)))


# --- the rule, on the migrated schema -------------------------------------------------------------------


def test_a_second_step_of_a_kind_for_one_component_is_refused(cat: Catalogue) -> None:
    with cat.transaction() as conn:
        comp, _, _, _ = _targets(conn)
        _step(conn, "sign", component_id=comp)
    with pytest.raises(IntegrityError), cat.transaction() as conn:
        _step(conn, "sign", component_id=comp)
    # Through the ORM too, as runner._settle_success adds the next step.
    with pytest.raises(IntegrityError), cat.session() as s:
        s.add(JobStep(kind="sign", queue="sign", component_id=comp))
        s.flush()
    with cat.transaction() as conn:
        assert len(_step_ids(conn)) == 1


def test_a_second_step_of_a_kind_for_one_eresult_is_refused(cat: Catalogue) -> None:
    with cat.transaction() as conn:
        _, _, result, _ = _targets(conn)
        _step(conn, "sign_result", eresult_id=result, state=StepState.DONE)
    with pytest.raises(IntegrityError), cat.transaction() as conn:
        _step(conn, "sign_result", eresult_id=result)
    with cat.transaction() as conn:
        assert len(_step_ids(conn)) == 1


def test_other_kinds_and_other_targets_are_allowed(cat: Catalogue) -> None:
    with cat.transaction() as conn:
        comp1, comp2, result1, result2 = _targets(conn)
        for kind in ("digitize", "sign", "store"):  # a component's chain of steps
            _step(conn, kind, component_id=comp1)
            _step(conn, kind, component_id=comp2)
        for kind in ("sign_result", "store_result"):
            _step(conn, kind, eresult_id=result1)
            _step(conn, kind, eresult_id=result2)
        # The same kind on a component and on an e-result target different things.
        _step(conn, "store", eresult_id=result1)
    with cat.transaction() as conn:
        assert len(_step_ids(conn)) == 11


def test_models_and_migrations_agree_on_job_steps(cat: Catalogue) -> None:
    insp = inspect(cat.engine)
    indexes = {i["name"]: i for i in insp.get_indexes("job_steps")}
    for name, columns in STEP_INDEXES.items():
        assert indexes[name]["unique"] and indexes[name]["column_names"] == columns
        where = indexes[name]["dialect_options"][f"{cat.dialect_name}_where"]
        assert f"{columns[1]} IS NOT NULL" in str(where).replace("(", "").replace(")", "")
    with cat.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in diffs if "job_steps" in repr(d)] == []


# --- migration 0009 and the duplicates a database may already hold ---------------------------------------


def _at_0008(url: str) -> Catalogue:
    command.upgrade(alembic_config(url), "0008")
    return Catalogue(url)


def test_migration_deletes_only_pending_duplicates_of_work_done_or_under_way(db_url: str) -> None:
    cat = _at_0008(db_url)
    try:
        with cat.transaction() as conn:
            comp1, comp2, result1, _ = _targets(conn)
            done = _step(conn, "digitize", component_id=comp1, state=StepState.DONE, output={"sha256": "a"})
            twin_of_done = _step(conn, "digitize", component_id=comp1)  # still pending: would digitize again
            first = _step(conn, "sign", component_id=comp1)
            second = _step(conn, "sign", component_id=comp1)
            third = _step(conn, "sign", component_id=comp1, attempts=1, error_code="E")  # retried: still pending
            running = _step(conn, "digitize", component_id=comp2, state=StepState.RUNNING, lease_owner="w1")
            twin_of_running = _step(conn, "digitize", component_id=comp2)
            signed = _step(conn, "sign_result", eresult_id=result1, state=StepState.DONE)
            twin_result = _step(conn, "sign_result", eresult_id=result1)
            single = _step(conn, "store_result", eresult_id=result1)
        cat.dispose()
        command.upgrade(alembic_config(db_url), "0009")
        with cat.transaction() as conn:
            assert _step_ids(conn) == [done, first, running, signed, single]
            assert {twin_of_done, second, third, twin_of_running, twin_result}.isdisjoint(_step_ids(conn))
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0009"
        with pytest.raises(IntegrityError), cat.transaction() as conn:
            _step(conn, "sign", component_id=comp1)
    finally:
        cat.dispose()


@pytest.mark.parametrize(
    ("states", "kind"),
    [
        ((StepState.DONE, StepState.DONE), "sign"),  # the work was done twice: which one counts?
        ((StepState.DONE, StepState.FAILED), "sign"),  # the failed twin may have failed the component
        ((StepState.FAILED, StepState.PENDING), "digitize"),  # a pending twin beside failed rows only
        ((StepState.RUNNING, StepState.RUNNING), "store"),
        ((StepState.DONE, StepState.DONE), "sign_result"),
    ],
)
def test_migration_refuses_other_duplicates_and_changes_nothing(
    db_url: str, states: tuple[StepState, StepState], kind: str
) -> None:
    cat = _at_0008(db_url)
    try:
        with cat.transaction() as conn:
            comp, _, result, _ = _targets(conn)
            target = {"eresult_id": result} if kind == "sign_result" else {"component_id": comp}
            ids = [_step(conn, kind, state=state, **target) for state in states]
            safe_a = _step(conn, "unpack", component_id=comp, state=StepState.DONE)
            safe_b = _step(conn, "unpack", component_id=comp)  # deletable, but nothing is changed on refusal
        cat.dispose()
        with pytest.raises(RuntimeError, match="duplicate steps") as refused:
            command.upgrade(alembic_config(db_url), "0009")
        column = "eresult_id" if kind == "sign_result" else "component_id"
        target_id = result if kind == "sign_result" else comp
        assert f"kind={kind} {column}={target_id}: ids {ids[0]} ({states[0]}), {ids[1]} ({states[1]})" in str(
            refused.value
        )
        with cat.transaction() as conn:
            assert _step_ids(conn) == [*ids, safe_a, safe_b]
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0008"
        assert not set(STEP_INDEXES) & {i["name"] for i in inspect(cat.engine).get_indexes("job_steps")}
        # Once the operator has removed the twin, the migration goes through.
        with cat.transaction() as conn:
            conn.execute(text("DELETE FROM job_steps WHERE id = :id"), {"id": ids[1]})
        cat.dispose()
        command.upgrade(alembic_config(db_url), "head")
        with cat.transaction() as conn:
            assert _step_ids(conn) == [ids[0], safe_a]
    finally:
        cat.dispose()


def test_migration_0009_downgrades_and_upgrades(cat: Catalogue) -> None:
    with cat.transaction() as conn:
        comp, _, _, _ = _targets(conn)
        step = _step(conn, "sign", component_id=comp)
    cat.dispose()
    cfg = alembic_config(cat.url)
    command.downgrade(cfg, "0008")
    assert not set(STEP_INDEXES) & {i["name"] for i in inspect(cat.engine).get_indexes("job_steps")}
    command.upgrade(cfg, "head")
    assert set(STEP_INDEXES) <= {i["name"] for i in inspect(cat.engine).get_indexes("job_steps")}
    with cat.transaction() as conn:
        assert _step_ids(conn) == [step]
