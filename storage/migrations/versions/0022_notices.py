"""catalogue: telling the citizen (contact details given at intake, the notices outbox)

Two new tables and nothing else changed, so no existing row is touched:

- ``dossier_contacts``: the e-mail address and/or mobile number an applicant gave at intake
  to be told of their results (one row per dossier, only when given), purged after
  ``notices.contact_retention_days``.
- ``notices``: the outbox, one row per (e-result, channel), written with the e-result in one
  transaction; state, attempts, last error, next attempt, lease and when it was sent.

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dossier_contacts",
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossiers.id"]),
        sa.PrimaryKeyConstraint("dossier_id"),
    )
    op.create_index("ix_dossier_contacts_created_at", "dossier_contacts", ["created_at"])
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("eresult_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossiers.id"]),
        sa.ForeignKeyConstraint(["eresult_id"], ["eresults.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("eresult_id", "channel", name="uq_notice_result_channel"),
    )
    op.create_index("ix_notices_dossier_id", "notices", ["dossier_id"])
    op.create_index("ix_notices_due", "notices", ["state", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_notices_due", "notices")
    op.drop_index("ix_notices_dossier_id", "notices")
    op.drop_table("notices")
    op.drop_index("ix_dossier_contacts_created_at", "dossier_contacts")
    op.drop_table("dossier_contacts")
