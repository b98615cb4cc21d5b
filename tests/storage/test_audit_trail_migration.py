"""Migration 0021: an ``owner:`` subject fills ``owner_id`` only when it names a 12-digit số định danh."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, text

from storage.catalogue.db import alembic_config


def test_migration_0021_fills_the_owner_only_from_twelve_digits(db_url: str) -> None:
    cfg = alembic_config(db_url)
    command.upgrade(cfg, "0020")
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            for seq, subject in enumerate(["owner:001203004567", "owner:00120300456x", "owner:abcdefghijkl"], 1):
                conn.execute(
                    text(
                        "INSERT INTO audit_log (seq, at, actor, action, subject, purpose, outcome, detail,"
                        " prev_hash, hash) VALUES (:seq, CURRENT_TIMESTAMP, 'a', 'get', :subject, '', 'ok', '{}',"
                        " :h, :h)"
                    ),
                    {"seq": seq, "subject": subject, "h": str(seq) * 64},
                )
        command.upgrade(cfg, "0021")
        with engine.connect() as conn:
            owners = conn.execute(text("SELECT subject, owner_id FROM audit_log ORDER BY seq")).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in owners] == [
        ("owner:001203004567", "001203004567"),
        ("owner:00120300456x", None),
        ("owner:abcdefghijkl", None),
    ]
