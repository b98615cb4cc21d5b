"""catalogue: officers' browser sessions, and TOTP confirmation and replay state

Sessions are server-side: the cookie carries a random token of which only a hash is stored, with
the session's CSRF token, its stage (a password accepted but the second factor not yet), absolute
expiry and last use (idle expiry) and when it was revoked (sign-out). An officer's TOTP secret
counts once a code from it was typed (``totp_confirmed_at``); ``totp_last_step`` keeps a code
from being used twice.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "officer_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=10), nullable=False),
        sa.Column("method", sa.String(length=60), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=False),
        sa.Column("last_seen_at", _TIME, nullable=False),
        sa.Column("revoked_at", _TIME, nullable=True),
        sa.ForeignKeyConstraint(["officer_id"], ["officers.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_officer_sessions_officer_id", "officer_sessions", ["officer_id"])
    with op.batch_alter_table("officers") as batch:
        batch.add_column(sa.Column("totp_confirmed_at", _TIME, nullable=True))
        batch.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("officers") as batch:
        batch.drop_column("totp_last_step")
        batch.drop_column("totp_confirmed_at")
    op.drop_index("ix_officer_sessions_officer_id", table_name="officer_sessions")
    op.drop_table("officer_sessions")
