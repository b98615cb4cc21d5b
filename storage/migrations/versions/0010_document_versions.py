"""catalogue: documents and e-results name the object-store version they were written as

A read that names its version is served by a versioned bucket without first resolving the
newest one, and it is the version whose bytes the row's hash describes. A document or an
e-result row is what its readers already hold (the API, the portal, maintenance), so the
version rides along at no extra catalogue round trip. Rows written before this revision
take the version ``stored_objects`` recorded where there is one (objects stored through
the warehouse); the others, and rows on stores without versions, stay NULL and are read
as the newest version, hash checked as before.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TABLES = {"documents": "documents", "eresults": "results"}  # table: the bucket its objects live in


def upgrade() -> None:
    for table, bucket in TABLES.items():
        op.add_column(table, sa.Column("object_version", sa.String(200), nullable=True))
        recorded = (
            f"FROM stored_objects s WHERE s.bucket = :bucket AND s.key = {table}.object_key "
            "AND s.version_id IS NOT NULL"
        )
        # Only the rows that get a version: the others (most, written by the pipeline) stay untouched.
        update = (
            f"UPDATE {table} SET object_version = (SELECT s.version_id {recorded}) WHERE EXISTS (SELECT 1 {recorded})"
        )
        op.execute(sa.text(update).bindparams(bucket=bucket))


def downgrade() -> None:
    # Not in a batch: SQLite (3.35+) drops the column in place, where a batch would rebuild the
    # table and the enforced foreign keys pointing at it (job_steps, documents) would refuse the swap.
    for table in TABLES:
        op.drop_column(table, "object_version")
