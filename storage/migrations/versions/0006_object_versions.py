"""warehouse: the object-store version each stored object was written as

A versioned bucket serves a GET by version id without first resolving which version is
the newest, and the version recorded at write time is the one whose bytes the row's hash
describes. Rows written before this revision (and objects on stores without versions)
have none and are read as the newest version, hash checked as before.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stored_objects") as batch:
        batch.add_column(sa.Column("version_id", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("stored_objects") as batch:
        batch.drop_column("version_id")
