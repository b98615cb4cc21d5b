"""catalogue: every object in the buckets has its row in ``stored_objects``

Until now the pipeline wrote raw scans, batch archives, documents and e-results through the
object store directly, and only maintenance and the sharing paths wrote through the
warehouse; scrub walked ``stored_objects`` and the documents, e-results, scans and dossiers
tables besides. From this revision every write goes through the warehouse, so
``stored_objects`` is the one catalogue scrub walks. Backfill: a row for each object the
other tables name and ``stored_objects`` does not hold yet:

- documents and e-results (and their earlier versions) with their hash, size and version;
- raw scans unpacked to their own object, e-results' source PDFs and batch archives, aged
  from the newest dossier that uses them (their expiry runs from there, as scrub judged it);
  a batch archive's size was never recorded: its row says 0.

Intermediate files in the work bucket written before this revision stay without rows, as
before (nothing reads them once their step is done).

The downgrade leaves the rows: they are what the warehouse itself would have written, and
the earlier scrub checks them as it checks its own.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

COLUMNS = "bucket, key, sha256, size, content_type, version_id, created_at, updated_at, state, temp_key"

# bucket → what names objects in it: (key column, "sha256, size, content type, version, first use, last use
# FROM ... WHERE ..."). Grouped by key: a scan sent in several dossiers ages from the newest.
SOURCES = [
    (
        "documents",
        "d.object_key",
        "MIN(d.sha256), MIN(d.size), 'application/pdf', MAX(d.object_version), MIN(d.created_at), "
        "MAX(d.created_at) FROM documents d WHERE 1 = 1",
    ),
    (
        "results",
        "r.object_key",
        "MIN(r.sha256), MIN(r.size), 'application/pdf', MAX(r.object_version), MIN(r.created_at), "
        "MAX(r.created_at) FROM eresults r WHERE r.object_key IS NOT NULL AND r.sha256 IS NOT NULL "
        "AND r.size IS NOT NULL",
    ),
    (
        "results",
        "v.object_key",
        "MIN(v.sha256), MIN(v.size), 'application/pdf', MAX(v.object_version), MIN(r.created_at), "
        "MAX(r.created_at) FROM eresult_versions v JOIN eresults r ON r.id = v.eresult_id WHERE 1 = 1",
    ),
    (
        "raw",
        "r.source_key",
        "MIN(r.source_sha256), 0, 'application/pdf', NULL, MIN(r.created_at), MAX(r.created_at) "
        "FROM eresults r WHERE 1 = 1",
    ),
    (
        "raw",
        "f.object_key",
        "MIN(f.sha256), MIN(f.size), 'application/octet-stream', NULL, MIN(d.created_at), MAX(d.created_at) "
        "FROM scan_files f JOIN components c ON c.id = f.component_id JOIN dossiers d ON d.id = c.dossier_id "
        "WHERE f.stored = :true",
    ),
    (
        "raw",
        "d.archive_key",
        "MIN(d.archive_sha256), 0, 'application/zip', NULL, MIN(d.created_at), MAX(d.created_at) "
        "FROM dossiers d WHERE d.archive_key IS NOT NULL AND d.archive_sha256 IS NOT NULL",
    ),
]


def upgrade() -> None:
    for bucket, key, rest in SOURCES:
        # One statement per source, in the order above: a key two sources name gets the first's row.
        absent = f"NOT EXISTS (SELECT 1 FROM stored_objects s WHERE s.bucket = :bucket AND s.key = {key})"
        columns, source = rest.split(" FROM ", 1)
        sql = (
            f"INSERT INTO stored_objects ({COLUMNS}) SELECT :bucket, {key}, {columns}, 'stored', NULL "
            f"FROM {source} AND {absent} GROUP BY {key}"
        )
        params = {"bucket": bucket} | ({"true": True} if ":true" in sql else {})
        op.execute(sa.text(sql).bindparams(**params))


def downgrade() -> None:
    pass  # see the module docstring: the rows stay
