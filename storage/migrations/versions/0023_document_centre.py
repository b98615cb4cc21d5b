"""catalogue: each document carries its centre, so a centre's search is an index range scan

``documents.centre_id`` is the centre an officer's search scopes by: the dossier's own centre,
else its station's, else the default centre (code ``default``). Until now the search joined every
candidate to ``dossiers`` and ``api_clients`` to work it out, and a type-plus-month listing or a
common word walked tens of thousands of rows to find none of the centre's. The column is a copy
kept by triggers (so rows written by any path, the bench's bulk loads included, stay right):

- a document inserted without it gets its dossier's centre;
- a dossier's centre or station changing moves its documents;
- a station's centre changing moves the documents of its dossiers that have no centre of their own;
- the default centre being made takes the documents that had none.

Indexes ``(centre_id, created_at, id)`` and ``(centre_id, doc_type, created_at, id)`` serve the
newest-first listings of one centre (of one type).

PostgreSQL: the full-text index ``ix_documents_fts`` is rebuilt with the centre as one more word of
each document (``zzcentre<id>``, see ``storage.warehouse.search.PG_FTS_DOCUMENT``), so a centre's
search asks the GIN index for the words and the centre together and reads only the centre's matches
from the table, instead of every centre's or a bitmap of all the centre's rows (rebuilding it takes
about a minute per 10^6 documents).

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

DEFAULT_CENTRE_CODE = "default"  # dossiers.signer_keys.DEFAULT_CENTRE_CODE


def _centre_of(code: str) -> str:
    """SQL for the centre of the dossier whose code is ``code`` (an SQL expression)."""
    return (
        "(SELECT coalesce(d.centre_id, a.centre_id, "
        f"(SELECT c.id FROM centres c WHERE c.code = '{DEFAULT_CENTRE_CODE}')) "
        f"FROM dossiers d LEFT JOIN api_clients a ON a.id = d.station_id WHERE d.code = {code})"
    )


_SQLITE = [
    "CREATE TRIGGER documents_centre_ai AFTER INSERT ON documents WHEN new.centre_id IS NULL BEGIN "
    f"UPDATE documents SET centre_id = {_centre_of('new.dossier_code')} WHERE id = new.id; END",
    "CREATE TRIGGER dossiers_centre_au AFTER UPDATE OF centre_id, station_id ON dossiers BEGIN "
    f"UPDATE documents SET centre_id = {_centre_of('new.code')} WHERE dossier_code = new.code; END",
    "CREATE TRIGGER api_clients_centre_au AFTER UPDATE OF centre_id ON api_clients BEGIN "
    f"UPDATE documents SET centre_id = {_centre_of('documents.dossier_code')} WHERE dossier_code IN "
    "(SELECT code FROM dossiers WHERE station_id = new.id AND centre_id IS NULL); END",
    f"CREATE TRIGGER centres_default_ai AFTER INSERT ON centres WHEN new.code = '{DEFAULT_CENTRE_CODE}' BEGIN "
    "UPDATE documents SET centre_id = new.id WHERE centre_id IS NULL "
    "AND EXISTS (SELECT 1 FROM dossiers WHERE dossiers.code = documents.dossier_code); END",
]
_SQLITE_DROP = ["documents_centre_ai", "dossiers_centre_au", "api_clients_centre_au", "centres_default_ai"]

_PG = [
    "CREATE FUNCTION documents_centre_bi() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"IF NEW.centre_id IS NULL THEN NEW.centre_id := {_centre_of('NEW.dossier_code')}; END IF; "
    "RETURN NEW; END $$",
    "CREATE TRIGGER documents_centre_bi BEFORE INSERT ON documents FOR EACH ROW EXECUTE FUNCTION documents_centre_bi()",
    "CREATE FUNCTION dossiers_centre_au() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"UPDATE documents SET centre_id = {_centre_of('NEW.code')} WHERE dossier_code = NEW.code; "
    "RETURN NULL; END $$",
    "CREATE TRIGGER dossiers_centre_au AFTER UPDATE OF centre_id, station_id ON dossiers FOR EACH ROW "
    "WHEN (OLD.centre_id IS DISTINCT FROM NEW.centre_id OR OLD.station_id IS DISTINCT FROM NEW.station_id) "
    "EXECUTE FUNCTION dossiers_centre_au()",
    "CREATE FUNCTION api_clients_centre_au() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"UPDATE documents SET centre_id = {_centre_of('documents.dossier_code')} WHERE dossier_code IN "
    "(SELECT code FROM dossiers WHERE station_id = NEW.id AND centre_id IS NULL); RETURN NULL; END $$",
    "CREATE TRIGGER api_clients_centre_au AFTER UPDATE OF centre_id ON api_clients FOR EACH ROW "
    "WHEN (OLD.centre_id IS DISTINCT FROM NEW.centre_id) EXECUTE FUNCTION api_clients_centre_au()",
    "CREATE FUNCTION centres_default_ai() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "UPDATE documents SET centre_id = NEW.id WHERE centre_id IS NULL "
    "AND EXISTS (SELECT 1 FROM dossiers WHERE dossiers.code = documents.dossier_code); RETURN NULL; END $$",
    "CREATE TRIGGER centres_default_ai AFTER INSERT ON centres FOR EACH ROW "
    f"WHEN (NEW.code = '{DEFAULT_CENTRE_CODE}') EXECUTE FUNCTION centres_default_ai()",
]
_PG_FTS_OLD = "CREATE INDEX ix_documents_fts ON documents USING gin (to_tsvector('simple', folded_text))"
# The same expression as storage.warehouse.search.PG_FTS_DOCUMENT (the planner matches it token for token).
_PG_FTS_NEW = (
    "CREATE INDEX ix_documents_fts ON documents USING gin "
    "(to_tsvector('simple', folded_text || coalesce(' zzcentre' || centre_id::text, '')))"
)
_PG_DROP = [
    ("documents_centre_bi", "documents"),
    ("dossiers_centre_au", "dossiers"),
    ("api_clients_centre_au", "api_clients"),
    ("centres_default_ai", "centres"),
]


def upgrade() -> None:
    op.add_column("documents", sa.Column("centre_id", sa.Integer(), nullable=True))
    op.execute(f"UPDATE documents SET centre_id = {_centre_of('documents.dossier_code')}")
    op.create_index("ix_documents_centre_created", "documents", ["centre_id", "created_at", "id"])
    op.create_index("ix_documents_centre_type_created", "documents", ["centre_id", "doc_type", "created_at", "id"])
    if op.get_bind().dialect.name == "sqlite":
        for stmt in _SQLITE:
            op.execute(stmt)
        return
    for stmt in _PG:
        op.execute(stmt)
    op.execute("DROP INDEX IF EXISTS ix_documents_fts")
    op.execute(_PG_FTS_NEW)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in _SQLITE_DROP:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for name, table in _PG_DROP:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
        op.execute("DROP INDEX IF EXISTS ix_documents_fts")
        op.execute(_PG_FTS_OLD)
    op.drop_index("ix_documents_centre_type_created", "documents")
    op.drop_index("ix_documents_centre_created", "documents")
    op.execute("ALTER TABLE documents DROP COLUMN centre_id")
