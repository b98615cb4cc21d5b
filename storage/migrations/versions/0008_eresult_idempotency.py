"""catalogue: issuing an e-result is idempotent

A signed e-result is kept under object lock for years, so a retried issue request must not
make a second one. Each row now records the ``Idempotency-Key`` its officer sent (if any)
and ``request_sha256``, the fingerprint of what was asked (dossier, level, title and the
PDF or template text), which tells a retry from a different request under the same key.

Keys are unique per issuing client, as a station's batch keys are per station. The rule
is a unique index rather than a table constraint: SQLite adds it without rebuilding
``eresults``, which ``job_steps`` references with foreign keys enforced. Rows without a
key (all rows written before this revision) never collide.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("eresults") as batch:
        batch.add_column(sa.Column("idempotency_key", sa.String(200), nullable=True))
        batch.add_column(sa.Column("request_sha256", sa.String(64), nullable=True))
    op.create_index("uq_eresult_idempotency", "eresults", ["issued_by", "idempotency_key"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_eresult_idempotency", "eresults")
    # Not in a batch: SQLite (3.35+) drops the columns in place, where a batch would rebuild
    # ``eresults`` and the enforced foreign keys of ``job_steps`` would refuse the copy's swap.
    op.drop_column("eresults", "request_sha256")
    op.drop_column("eresults", "idempotency_key")
