"""catalogue: the people a document names besides its owner, by số định danh

A marriage certificate, a power of attorney or a contract names two or more people, each with
their số định danh; a document was found only under its owner's (the dossier's applicant). The
new table ``document_parties`` holds, for each other person the digitizer found with a number
that decodes, that number, the role the document gives them and the birth date printed beside
them (when its year agrees with the number's), so the lookups by number (agency requests,
reuse at intake) find the document under each of them.

Documents digitised before this revision have no rows: the digitizer's word boxes, which the
two-column layouts need, were not kept, so they are found under their owner only, as before.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "document_parties",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("id_number", sa.String(length=12), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("document_id", "id_number", name="uq_document_party"),
    )
    op.create_index("ix_document_parties_lookup", "document_parties", ["id_number", "document_id"])


def downgrade() -> None:
    op.drop_index("ix_document_parties_lookup", "document_parties")
    op.drop_table("document_parties")
