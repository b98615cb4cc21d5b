"""catalogue: completing a dossier (a component's scans sent again, a stored document reused)

Two new tables and nothing else changed, so no existing row is touched:

- ``component_resends``: each time the station that pushed a dossier sent one failed
  component's scans again, with its Idempotency-Key (unique per station) and the request's
  hash, so that a repeat is answered as the first was and runs nothing again.
- ``component_reuses``: a component completed by reference to a document the warehouse
  holds (signed and stored, the applicant's), attached by an officer instead of a new scan:
  which document, who attached it, why and when (the statistics count them).

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "component_resends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("component_id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("request_sha256", sa.String(length=64), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["component_id"], ["components.id"]),
        sa.ForeignKeyConstraint(["station_id"], ["api_clients.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("station_id", "idempotency_key", name="uq_component_resend_idempotency"),
    )
    op.create_index("ix_component_resends_component_id", "component_resends", ["component_id"])
    op.create_table(
        "component_reuses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("component_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["component_id"], ["components.id"]),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("component_id"),
    )
    op.create_index("ix_component_reuses_document_id", "component_reuses", ["document_id"])
    op.create_index("ix_component_reuses_at", "component_reuses", ["at"])


def downgrade() -> None:
    op.drop_index("ix_component_reuses_at", "component_reuses")
    op.drop_index("ix_component_reuses_document_id", "component_reuses")
    op.drop_table("component_reuses")
    op.drop_index("ix_component_resends_component_id", "component_resends")
    op.drop_table("component_resends")
