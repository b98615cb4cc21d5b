"""catalogue: indexes for the centres' statistics (``dossiers.statistics``)

A report covers the dossiers received and the e-results issued in a period: both are read by a range
of ``created_at``, which these indexes answer without scanning the tables.

Revision ID: 0024
Revises: 0022
"""

from alembic import op

revision = "0024"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_dossiers_created_at", "dossiers", ["created_at"])
    op.create_index("ix_eresults_created_at", "eresults", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_eresults_created_at", table_name="eresults")
    op.drop_index("ix_dossiers_created_at", table_name="dossiers")
