"""``migrate`` at every command's start: an up-to-date catalogue runs no migration (nor logs one); one a
revision behind, or new, is brought to the head (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from storage.catalogue import db


def _version(url: str) -> str:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one())
    finally:
        engine.dispose()


def test_only_a_catalogue_behind_the_head_is_upgraded(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    head = ScriptDirectory.from_config(db.alembic_config(db_url)).get_current_head()
    upgrades: list[str] = []
    real = command.upgrade
    monkeypatch.setattr(db.command, "upgrade", lambda cfg, rev: (upgrades.append(rev), real(cfg, rev)))

    db.migrate(db_url)  # new: upgraded
    assert upgrades == ["head"] and _version(db_url) == head
    db.migrate(db_url)  # at the head: nothing run
    assert upgrades == ["head"]
    command.downgrade(db.alembic_config(db_url), "-1")
    db.migrate(db_url)  # one behind: upgraded again
    assert upgrades == ["head", "head"] and _version(db_url) == head
