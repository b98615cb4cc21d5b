"""catalogue: centres (issuing agencies) and officers; who confirmed a copy, who issued a result

Until now a deployment had one agency identity (settings) and officers were API keys. Centres get
their own name, signing identity, seal and form details; officers get accounts (local with argon2
and TOTP, or OpenID Connect) bound to a centre with a role and their own signing key. Components
record the officer who confirmed the copy; results the officer and centre that issued them; API
keys may belong to an officer (scripts acting as them) or, for stations, to a centre.

Existing rows keep NULLs: they were signed by the deployment's configured keys.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "centres",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("parent_name", sa.String(length=300), nullable=False, server_default=""),
        sa.Column("place", sa.String(length=100), nullable=False, server_default=""),
        sa.Column("symbol", sa.String(length=40), nullable=False, server_default=""),
        sa.Column("seal_png", sa.String(length=500), nullable=True),
        sa.Column("key_kind", sa.String(length=10), nullable=False, server_default="dev"),
        sa.Column("key_ref", sa.JSON(), nullable=False),
        sa.Column("signing_policy", sa.String(length=20), nullable=False, server_default="confirm_all"),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("disabled_at", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "officers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False, server_default=""),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("password_hash", sa.String(length=300), nullable=True),
        sa.Column("totp_secret", sa.String(length=300), nullable=True),
        sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("locked_until", _TIME, nullable=True),
        sa.Column("oidc_issuer", sa.String(length=300), nullable=True),
        sa.Column("oidc_subject", sa.String(length=300), nullable=True),
        sa.Column("key_kind", sa.String(length=10), nullable=False, server_default="dev"),
        sa.Column("key_ref", sa.JSON(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("disabled_at", _TIME, nullable=True),
        sa.ForeignKeyConstraint(["centre_id"], ["centres.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
        sa.UniqueConstraint("oidc_issuer", "oidc_subject", name="uq_officer_oidc"),
    )
    op.create_index("ix_officers_centre_id", "officers", ["centre_id"])
    with op.batch_alter_table("api_clients") as batch:
        batch.add_column(sa.Column("officer_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("centre_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_api_clients_officer", "officers", ["officer_id"], ["id"])
        batch.create_foreign_key("fk_api_clients_centre", "centres", ["centre_id"], ["id"])
    with op.batch_alter_table("dossiers") as batch:
        batch.add_column(sa.Column("centre_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_dossiers_centre", "centres", ["centre_id"], ["id"])
        batch.create_index("ix_dossiers_centre_id", ["centre_id"])
    with op.batch_alter_table("components") as batch:
        batch.add_column(sa.Column("confirmed_by", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("confirmed_at", _TIME, nullable=True))
        batch.create_foreign_key("fk_components_confirmed_by", "officers", ["confirmed_by"], ["id"])
    with op.batch_alter_table("eresults") as batch:
        batch.add_column(sa.Column("officer_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("centre_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_eresults_officer", "officers", ["officer_id"], ["id"])
        batch.create_foreign_key("fk_eresults_centre", "centres", ["centre_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("eresults") as batch:
        batch.drop_constraint("fk_eresults_centre", type_="foreignkey")
        batch.drop_constraint("fk_eresults_officer", type_="foreignkey")
        batch.drop_column("centre_id")
        batch.drop_column("officer_id")
    with op.batch_alter_table("components") as batch:
        batch.drop_constraint("fk_components_confirmed_by", type_="foreignkey")
        batch.drop_column("confirmed_at")
        batch.drop_column("confirmed_by")
    with op.batch_alter_table("dossiers") as batch:
        batch.drop_index("ix_dossiers_centre_id")
        batch.drop_constraint("fk_dossiers_centre", type_="foreignkey")
        batch.drop_column("centre_id")
    with op.batch_alter_table("api_clients") as batch:
        batch.drop_constraint("fk_api_clients_centre", type_="foreignkey")
        batch.drop_constraint("fk_api_clients_officer", type_="foreignkey")
        batch.drop_column("centre_id")
        batch.drop_column("officer_id")
    op.drop_index("ix_officers_centre_id", "officers")
    op.drop_table("officers")
    op.drop_table("centres")
