"""catalogue: what each station used in a day (pipeline work, reuse lookups)

Two new tables and nothing else changed, so no existing row is touched:

- ``station_usage``: per station and Vietnam calendar day, the batches recorded and the
  pages and expanded bytes they brought in. A batch is charged in the transaction that
  records it, by a conditional update, so two API processes cannot both take the last
  of a day's budget, and a restart starts from what the catalogue holds.
- ``reuse_lookups``: every time a station asked at intake which stored documents of an
  applicant it may reuse, with the birth date it gave and what came of it; the day's
  distinct applicants and the birth dates given for one applicant bound the next ones.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "station_usage",
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("batches", sa.Integer(), nullable=False),
        sa.Column("pages", sa.BigInteger(), nullable=False),
        sa.Column("expanded_bytes", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["station_id"], ["api_clients.id"]),
        sa.PrimaryKeyConstraint("station_id", "day"),
    )
    op.create_table(
        "reuse_lookups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("applicant_id", sa.String(length=12), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("dossier_code", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("documents", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["station_id"], ["api_clients.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_reuse_lookups_station_day", "reuse_lookups", ["station_id", "day", "applicant_id"])


def downgrade() -> None:
    op.drop_index("ix_reuse_lookups_station_day", "reuse_lookups")
    op.drop_table("reuse_lookups")
    op.drop_table("station_usage")
