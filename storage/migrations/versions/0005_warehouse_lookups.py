"""warehouse: covering index for lookups by owner, audit head row

- ``ix_documents_owner_lookup`` holds every column a search hit returns, so a lookup by
  số định danh reads one index range and no table rows (SQLite would otherwise walk the
  overflow pages of each row's OCR text to reach the columns after it). It replaces
  ``ix_documents_owner_id`` and ``ix_documents_owner_created``, which it starts with.
- The audit log's head row is created here rather than by the first append, so concurrent
  first appends cannot both try to insert it.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
OWNER_LOOKUP = [
    "owner_id",
    "created_at",
    "id",
    "doc_type",
    "dossier_code",
    "procedure_code",
    "page_count",
    "sha256",
    "size",
    "object_key",
]


def upgrade() -> None:
    op.create_index("ix_documents_owner_lookup", "documents", OWNER_LOOKUP)
    op.drop_index("ix_documents_owner_created", "documents")
    op.drop_index("ix_documents_owner_id", "documents")
    op.execute(
        f"INSERT INTO audit_head (id, seq, hash, note) SELECT 1, 0, '{GENESIS}', '' "
        "WHERE NOT EXISTS (SELECT 1 FROM audit_head WHERE id = 1)"
    )


def downgrade() -> None:
    op.create_index("ix_documents_owner_id", "documents", ["owner_id"])
    op.create_index("ix_documents_owner_created", "documents", ["owner_id", "created_at"])
    op.drop_index("ix_documents_owner_lookup", "documents")
