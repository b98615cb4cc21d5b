"""catalogue: officers' corrections of digitised components

What the digitizer read (type, fields, the parties a document names) is checked by an officer at the
review workspace; each change is one row: the component, its document once stored, the officer,
what changed (``type``, ``fields.<name>``, ``parties``) and the values before and after. The store
step applies them to the document it creates; the classifier learns from the corrected types.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("component_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=100), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["component_id"], ["components.id"]),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["officer_id"], ["officers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_corrections_component_id", "corrections", ["component_id"])
    op.create_index("ix_corrections_at", "corrections", ["at"])


def downgrade() -> None:
    op.drop_index("ix_corrections_at", "corrections")
    op.drop_index("ix_corrections_component_id", "corrections")
    op.drop_table("corrections")
