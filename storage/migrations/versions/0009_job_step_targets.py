"""catalogue: at most one job step of each kind per component or e-result

Every step targets either a component or an e-result, and the other column is NULL. The
table constraint ``uq_step_target`` (kind, component_id, eresult_id) therefore never held:
SQL compares NULLs as distinct, so a second ``sign`` step for the same component was let
in, and the work would be done twice. Two partial unique indexes now hold the rule, one
per kind of target: ``uq_step_component`` on (kind, component_id) where component_id is
set, ``uq_step_eresult`` on (kind, eresult_id) where eresult_id is set. SQLite and
PostgreSQL both have partial indexes, and SQLite adds them without rebuilding the table.

``uq_step_target`` stays: dropping a table constraint on SQLite means copying and swapping
``job_steps``, and the foreign keys (enforced) that it holds to ``components`` and
``eresults`` make that swap fragile. It is harmless beside the new indexes.

Rows already duplicated. The code has never meant to make a duplicate, so a database
holding one was hit by a defect, and which row stands for the work is a judgement about
that target's history. The migration settles only the case where nothing can be lost:

- A duplicate that is still ``pending`` (never settled: no output, nothing signed or
  stored) is deleted when another row of its kind and target is ``done`` or ``running``,
  or is an older ``pending`` one. That work is done, or will be done by the kept row, and
  the deleted row would only have done it again. A queue message that still carries the
  deleted id is skipped (its claim finds no row).
- Any other duplicate (two ``done`` rows, a ``failed`` one, a ``pending`` one beside
  failed rows only, or one that is ``running`` twice) makes the migration fail before it
  changes anything, naming the rows, for the operator to decide: work may already have
  been done twice, and a failed twin may have marked its component failed. Delete the
  rows that do not stand for the work (a later step of the same target may point at
  their output), then run the migration again.

On PostgreSQL the table is locked against writers (reads go on) from the check until the
migration commits, so that no worker claims or adds a step in between; SQLite writers
already wait for the migration's transaction.

The downgrade drops the two indexes; the pending duplicates deleted on the way up are
not brought back (they carried no work).

Revision ID: 0009
Revises: 0008
"""

import logging
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

TARGETS = (("component_id", "uq_step_component"), ("eresult_id", "uq_step_eresult"))
MAX_LISTED = 20  # duplicate groups named in the error; the count says how many more


def _duplicates(conn: sa.Connection, column: str) -> dict[tuple[str, int], list[Any]]:
    """Rows of ``job_steps`` sharing their kind and target with another row, by (kind, target)."""
    rows = conn.execute(
        sa.text(
            f"SELECT s.id, s.kind, s.{column} AS target, s.state FROM job_steps s "
            f"WHERE s.{column} IS NOT NULL AND EXISTS (SELECT 1 FROM job_steps o "
            f"WHERE o.kind = s.kind AND o.{column} = s.{column} AND o.id <> s.id) "
            f"ORDER BY s.kind, s.{column}, s.id"
        )
    ).all()
    groups: dict[tuple[str, int], list[Any]] = defaultdict(list)
    for row in rows:
        groups[(row.kind, row.target)].append(row)
    return groups


def _superfluous(rows: list[Any]) -> list[int]:
    """Ids of pending rows whose work another row of the group has done, is doing or will do."""
    return [
        r.id
        for r in rows
        if r.state == "pending"
        and any(
            o.id != r.id and (o.state in ("done", "running") or (o.state == "pending" and o.id < r.id)) for o in rows
        )
    ]


def _settle_duplicates(conn: sa.Connection) -> None:
    """Delete the pending duplicates that are safe to delete; refuse (changing nothing) on any other."""
    doomed: list[int] = []
    conflicts: list[str] = []
    for column, _index in TARGETS:
        for (kind, target), rows in _duplicates(conn, column).items():
            extra = _superfluous(rows)
            if len(rows) - len(extra) > 1:
                listed = ", ".join(f"{r.id} ({r.state})" for r in rows)
                conflicts.append(f"kind={kind} {column}={target}: ids {listed}")
            else:
                doomed += extra
    if conflicts:
        more = f"; and {len(conflicts) - MAX_LISTED} more" if len(conflicts) > MAX_LISTED else ""
        raise RuntimeError(
            "migration 0009: job_steps holds duplicate steps (same kind, same target) that cannot be removed "
            f"safely: {'; '.join(conflicts[:MAX_LISTED])}{more}. Nothing was changed. Keep the row that stands "
            "for the work of each, delete the others, then migrate again."
        )
    if doomed:
        conn.execute(
            sa.text("DELETE FROM job_steps WHERE state = 'pending' AND id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)
            ),
            {"ids": sorted(doomed)},
        )
        log.warning("migration 0009: deleted %d duplicate pending job steps: ids %s", len(doomed), sorted(doomed))


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        # Blocks inserts and claims (row updates) until commit; SELECTs go on.
        op.execute("LOCK TABLE job_steps IN SHARE ROW EXCLUSIVE MODE")
    _settle_duplicates(conn)
    for column, name in TARGETS:
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(name, "job_steps", ["kind", column], unique=True, sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    for _column, name in reversed(TARGETS):
        op.drop_index(name, "job_steps")
