"""catalogue: a result's validity and scope of use (TT 01/2023: its QR code carries them)

Two nullable columns on ``eresults``; results issued before keep NULL (their QR codes had neither).

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("eresults") as batch:
        batch.add_column(sa.Column("validity", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("scope", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("eresults") as batch:
        batch.drop_column("scope")
        batch.drop_column("validity")
