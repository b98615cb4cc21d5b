"""warehouse: search columns and full-text index, stored objects, agencies, grants, audit log

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)

_SQLITE_FTS = [
    "CREATE VIRTUAL TABLE documents_fts USING fts5("
    "folded_text, content='documents', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER documents_fts_ai AFTER INSERT ON documents BEGIN "
    "INSERT INTO documents_fts(rowid, folded_text) VALUES (new.id, new.folded_text); END",
    "CREATE TRIGGER documents_fts_ad AFTER DELETE ON documents BEGIN "
    "INSERT INTO documents_fts(documents_fts, rowid, folded_text) VALUES ('delete', old.id, old.folded_text); END",
    "CREATE TRIGGER documents_fts_au AFTER UPDATE OF folded_text ON documents BEGIN "
    "INSERT INTO documents_fts(documents_fts, rowid, folded_text) VALUES ('delete', old.id, old.folded_text); "
    "INSERT INTO documents_fts(rowid, folded_text) VALUES (new.id, new.folded_text); END",
    "INSERT INTO documents_fts(documents_fts) VALUES ('rebuild')",
]
_PG_FTS = "CREATE INDEX ix_documents_fts ON documents USING gin (to_tsvector('simple', folded_text))"


def _backfill_documents() -> None:
    from storage.catalogue.folding import fold

    bind = op.get_bind()
    bind.execute(
        sa.text(
            "UPDATE documents SET "
            "dossier_code = (SELECT d.code FROM dossiers d JOIN components c ON c.dossier_id = d.id "
            "WHERE c.id = documents.component_id), "
            "procedure_code = (SELECT d.procedure_code FROM dossiers d JOIN components c ON c.dossier_id = d.id "
            "WHERE c.id = documents.component_id)"
        )
    )
    rows = bind.execute(sa.text("SELECT id, text FROM documents")).all()
    for doc_id, text in rows:
        bind.execute(
            sa.text("UPDATE documents SET folded_text = :f WHERE id = :i"), {"f": fold(text or ""), "i": doc_id}
        )


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("dossier_code", sa.String(64), nullable=False, server_default=""))
        batch.add_column(sa.Column("procedure_code", sa.String(32), nullable=False, server_default=""))
        batch.add_column(sa.Column("folded_text", sa.Text(), nullable=False, server_default=""))
        batch.create_index("ix_documents_dossier_code", ["dossier_code"])
        batch.create_index("ix_documents_procedure_code", ["procedure_code"])
        batch.create_index("ix_documents_created_at", ["created_at"])
        batch.create_index("ix_documents_owner_created", ["owner_id", "created_at"])
    _backfill_documents()
    if op.get_bind().dialect.name == "sqlite":
        for stmt in _SQLITE_FTS:
            op.execute(stmt)
    else:
        op.execute(_PG_FTS)

    op.create_table(
        "stored_objects",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("bucket", sa.String(20), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("temp_key", sa.String(200), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.UniqueConstraint("bucket", "key", name="uq_stored_object"),
    )
    op.create_index("ix_stored_objects_state", "stored_objects", ["state"])
    op.create_table(
        "agencies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(20), nullable=False, unique=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.create_table(
        "grants",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agencies.id"), nullable=False),
        sa.Column("doc_types", sa.JSON(), nullable=False),
        sa.Column("purpose", sa.String(200), nullable=False),
        sa.Column("valid_from", _TS, nullable=False),
        sa.Column("valid_until", _TS, nullable=False),
        sa.Column("revoked_at", _TS, nullable=True),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.create_index("ix_grants_agency_id", "grants", ["agency_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("seq", sa.Integer(), nullable=False, unique=True),
        sa.Column("at", _TS, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("purpose", sa.String(200), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("audit_head")
    op.drop_table("audit_log")
    op.drop_index("ix_grants_agency_id", "grants")
    op.drop_table("grants")
    op.drop_table("agencies")
    op.drop_index("ix_stored_objects_state", "stored_objects")
    op.drop_table("stored_objects")
    if op.get_bind().dialect.name == "sqlite":
        for name in ("documents_fts_ai", "documents_fts_ad", "documents_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS documents_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_documents_fts")
    with op.batch_alter_table("documents") as batch:
        batch.drop_index("ix_documents_owner_created")
        batch.drop_index("ix_documents_created_at")
        batch.drop_index("ix_documents_procedure_code")
        batch.drop_index("ix_documents_dossier_code")
        batch.drop_column("folded_text")
        batch.drop_column("procedure_code")
        batch.drop_column("dossier_code")
