"""catalogue: an e-result's earlier versions in a table of their own

Until now the versions an e-result named before each re-time-stamping were kept in the
``output`` (JSON, under ``versions``) of its ``retimestamp`` job step, maintenance's schedule
row, and the portal read them from there. ``eresult_versions`` holds them now, one row per
version, oldest first by id; maintenance adds one in the transaction that repoints the
e-result.

Backfill: every ``retimestamp`` step's ``versions`` become rows, in their order, and leave
the step's output (its ``timestamp_expiry`` stays). A version's object version is taken from
``stored_objects`` where the warehouse recorded one for its key in the results bucket
(maintenance records each original there); ``replaced_at`` is NULL: it was not recorded.

The downgrade writes the rows back into their steps' output and drops the table.

Revision ID: 0012
Revises: 0011
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

KIND = "retimestamp"
RESULTS = "results"  # the bucket the e-results live in

steps = sa.table(
    "job_steps",
    sa.column("id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("eresult_id", sa.Integer),
    sa.column("output", sa.JSON),
)
stored = sa.table(
    "stored_objects",
    sa.column("bucket", sa.String),
    sa.column("key", sa.String),
    sa.column("version_id", sa.String),
)


def _table() -> sa.Table:
    return op.create_table(
        "eresult_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("eresult_id", sa.Integer(), nullable=False),
        sa.Column("object_key", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("object_version", sa.String(length=200), nullable=True),
        sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["eresult_id"], ["eresults.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("eresult_id", "sha256", name="uq_eresult_version"),
    )


def _retimestamp_steps(conn: sa.Connection) -> list[Any]:
    query = (
        sa.select(steps.c.id, steps.c.eresult_id, steps.c.output)
        .where(steps.c.kind == KIND, steps.c.eresult_id.is_not(None))
        .order_by(steps.c.id)
    )
    return list(conn.execute(query).all())


def upgrade() -> None:
    table = _table()
    conn = op.get_bind()
    versions = dict(
        conn.execute(
            sa.select(stored.c.key, stored.c.version_id).where(
                stored.c.bucket == RESULTS, stored.c.version_id.is_not(None)
            )
        ).all()
    )
    for step_id, eresult_id, output in _retimestamp_steps(conn):
        held = (output or {}).get("versions")
        if held is None:
            continue
        rows = [
            {
                "eresult_id": eresult_id,
                "object_key": v["key"],
                "sha256": v["sha256"],
                "size": v.get("size") or 0,
                "object_version": versions.get(v["key"]),
                "replaced_at": None,
            }
            for v in held
        ]
        for row in rows:  # one at a time: ids follow the list's order
            conn.execute(sa.insert(table).values(row))
        rest = {k: v for k, v in output.items() if k != "versions"}
        conn.execute(sa.update(steps).where(steps.c.id == step_id).values(output=rest))


def downgrade() -> None:
    conn = op.get_bind()
    table = sa.table(
        "eresult_versions",
        sa.column("id", sa.Integer),
        sa.column("eresult_id", sa.Integer),
        sa.column("object_key", sa.String),
        sa.column("sha256", sa.String),
        sa.column("size", sa.BigInteger),
    )
    held: dict[int, list[dict[str, Any]]] = {}
    query = sa.select(table.c.eresult_id, table.c.object_key, table.c.sha256, table.c.size).order_by(table.c.id)
    for eresult_id, key, sha256, size in conn.execute(query).all():
        held.setdefault(eresult_id, []).append({"key": key, "sha256": sha256, "size": size})
    for step_id, eresult_id, output in _retimestamp_steps(conn):
        if eresult_id in held:
            conn.execute(
                sa.update(steps)
                .where(steps.c.id == step_id)
                .values(output={**(output or {}), "versions": held[eresult_id]})
            )
    op.drop_table("eresult_versions")
