"""catalogue: the audit log readable by citizen and centre, and its head anchored by a TSA

``audit_log`` gains ``owner_id`` (whose documents an entry concerns) and ``centre_id`` (the centre
whose dossier, document or result it concerns), with indexes for the trail's filters (owner,
centre, actor, action: each with ``seq`` for newest-first pages; time). Entries about an owner
by their subject (``owner:<số định danh>``) get their ``owner_id`` here; their content hash does
not change, since the hash binds an owner only where the subject does not already name it.

``audit_anchors``: the chain's head time-stamped (RFC 3161), its token stored in the locked
results bucket.

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)
_INDEXES = {
    "ix_audit_log_owner": ["owner_id", "seq"],
    "ix_audit_log_centre": ["centre_id", "seq"],
    "ix_audit_log_actor": ["actor", "seq"],
    "ix_audit_log_action": ["action", "seq"],
    "ix_audit_log_at": ["at"],
}


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("owner_id", sa.String(length=12), nullable=True))
        batch.add_column(sa.Column("centre_id", sa.Integer(), nullable=True))
    digits = "substr(subject, 7) ~ '^[0-9]{12}$'"
    if op.get_bind().dialect.name == "sqlite":
        digits = "substr(subject, 7) GLOB '" + "[0-9]" * 12 + "'"
    op.execute(
        "UPDATE audit_log SET owner_id = substr(subject, 7) "
        f"WHERE subject LIKE 'owner:%' AND length(subject) = 18 AND {digits}"
    )
    for name, columns in _INDEXES.items():
        op.create_index(name, "audit_log", columns)
    op.create_table(
        "audit_anchors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("anchored_at", _TIME, nullable=False),
        sa.Column("tsa_time", _TIME, nullable=False),
        sa.Column("object_key", sa.String(length=200), nullable=False),
        sa.Column("object_sha256", sa.String(length=64), nullable=False),
        sa.Column("object_version", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("seq"),
    )
    op.create_index("ix_audit_anchors_anchored_at", "audit_anchors", ["anchored_at"])


def downgrade() -> None:
    op.drop_index("ix_audit_anchors_anchored_at", table_name="audit_anchors")
    op.drop_table("audit_anchors")
    for name in _INDEXES:
        op.drop_index(name, table_name="audit_log")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("centre_id")
        batch.drop_column("owner_id")
