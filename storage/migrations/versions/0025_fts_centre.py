"""catalogue: SQLite's full-text index holds each document's centre, so a centre's search is filtered by FTS5

SQLite only (PostgreSQL's index got the centre as a word in 0023). ``documents_fts`` gets a second
column, ``centre``, holding ``zzcentre<documents.centre_id>``; a centre's search can match
``centre : "zzcentre7" AND folded_text : (...)`` and FTS5 hands over only that centre's matches,
instead of every centre's matches, each of which cost a read of its ``documents`` row (its
``centre_id`` lies after the long OCR text, on overflow pages) until a page of the centre's was found.

The table keeps its external content (it stores no text), read through the view
``documents_fts_source`` (``documents`` with the centre as its word), so ``rebuild`` and
``integrity-check`` still work. Triggers keep it:

- a document inserted is indexed with its text and centre;
- a document whose text or centre changes (0023's triggers move documents between centres) is
  taken out with its old values and indexed again with the new;
- a document deleted is taken out.

0023's ``documents_centre_ai`` fills in the centre of a new document by an UPDATE from within its
INSERT, and SQLite does not promise in which order two triggers on one event fire: the insert trigger
indexes a document only if it is not in the index yet, and the update trigger takes a document out
only if it is in it (``documents_fts_docsize`` has a row per indexed document), so either order leaves
the index holding the row as it is.

The search puts the centre in the match when the words have 1000 or more matches over all centres
(``storage.warehouse.search.SQLITE_CENTRE_MATCHES``); fewer are cheaper read from their rows.

Rebuilding the index indexes the text again (12 s for the bench's 10^6 short texts; longer for real
OCR pages).

Revision ID: 0025
Revises: 0024
"""

from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

_CENTRE = "'zzcentre' || {}.centre_id"  # storage.warehouse.search.SQLITE_CENTRE_WORD
_INDEXED = "EXISTS (SELECT 1 FROM documents_fts_docsize WHERE id = {})"

_TRIGGERS = ["documents_fts_ai", "documents_fts_ad", "documents_fts_au"]

_UP = [
    "CREATE VIEW documents_fts_source AS SELECT id, folded_text, " + _CENTRE.format("documents") + " AS centre "
    "FROM documents",
    "CREATE VIRTUAL TABLE documents_fts USING fts5(folded_text, centre, content='documents_fts_source', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER documents_fts_ai AFTER INSERT ON documents BEGIN "
    "INSERT INTO documents_fts(rowid, folded_text, centre) SELECT new.id, new.folded_text, "
    + _CENTRE.format("new")
    + " WHERE NOT "
    + _INDEXED.format("new.id")
    + "; END",
    "CREATE TRIGGER documents_fts_ad AFTER DELETE ON documents BEGIN "
    "INSERT INTO documents_fts(documents_fts, rowid, folded_text, centre) SELECT 'delete', old.id, old.folded_text, "
    + _CENTRE.format("old")
    + " WHERE "
    + _INDEXED.format("old.id")
    + "; END",
    "CREATE TRIGGER documents_fts_au AFTER UPDATE OF folded_text, centre_id ON documents "
    "WHEN old.folded_text IS NOT new.folded_text OR old.centre_id IS NOT new.centre_id BEGIN "
    "INSERT INTO documents_fts(documents_fts, rowid, folded_text, centre) SELECT 'delete', old.id, old.folded_text, "
    + _CENTRE.format("old")
    + " WHERE "
    + _INDEXED.format("old.id")
    + "; "
    "INSERT INTO documents_fts(rowid, folded_text, centre) VALUES (new.id, new.folded_text, "
    + _CENTRE.format("new")
    + "); END",
    "INSERT INTO documents_fts(documents_fts) VALUES ('rebuild')",
]

# 0002's table and triggers.
_DOWN = [
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


def _drop() -> None:
    for name in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS documents_fts")


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _drop()
    for stmt in _UP:
        op.execute(stmt)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _drop()
    op.execute("DROP VIEW IF EXISTS documents_fts_source")
    for stmt in _DOWN:
        op.execute(stmt)
