"""warehouse: the audit chain step computed by the database

An audit entry used to be hashed in Python, which needed the previous entry's hash first:
a round trip to advance the head, then one to insert. Entries from this revision on are
hashed as ``sha256("<previous hash>:<seq>:<content hash>")`` by ``audit_chain`` inside
the statement that advances the head, which now also keeps the hash it replaced
(``prev_hash``) for the entry to record. Entries written before keep their old hashes;
``sohoa audit verify`` checks each by the formula of its time.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# SQLite connections get the same function from storage.catalogue.chain when they open.
AUDIT_CHAIN = """
CREATE OR REPLACE FUNCTION audit_chain(prev text, seq bigint, content text) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$ SELECT encode(sha256(convert_to(prev || ':' || seq::text || ':' || content, 'UTF8')), 'hex') $$
"""


def upgrade() -> None:
    with op.batch_alter_table("audit_head") as batch:
        batch.add_column(sa.Column("prev_hash", sa.String(64), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(AUDIT_CHAIN)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_chain(text, bigint, text)")
    with op.batch_alter_table("audit_head") as batch:
        batch.drop_column("prev_hash")
