"""workers: the batch archive a receipt keeps, which scans have been unpacked; per-station limits

A zip batch is stored whole in the raw bucket at receipt; the ``unpack`` step extracts
each scan into its own raw object later. Scans recorded before this revision were
written at receipt, so they start as stored.

Stations may get their own batch rate, burst and size limits (NULL: the service default).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_clients") as batch:
        batch.add_column(sa.Column("batches_per_minute", sa.Float(), nullable=True))
        batch.add_column(sa.Column("batch_burst", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("max_batch_bytes", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("dossiers") as batch:
        batch.add_column(sa.Column("archive_key", sa.String(200), nullable=True))
        batch.add_column(sa.Column("archive_sha256", sa.String(64), nullable=True))
    with op.batch_alter_table("scan_files") as batch:
        batch.add_column(sa.Column("member", sa.String(1024), nullable=True))
        batch.add_column(sa.Column("stored", sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table("scan_files") as batch:
        batch.drop_column("stored")
        batch.drop_column("member")
    with op.batch_alter_table("dossiers") as batch:
        batch.drop_column("archive_sha256")
        batch.drop_column("archive_key")
    with op.batch_alter_table("api_clients") as batch:
        batch.drop_column("max_batch_bytes")
        batch.drop_column("batch_burst")
        batch.drop_column("batches_per_minute")
