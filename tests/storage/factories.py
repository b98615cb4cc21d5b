"""Catalogue rows for storage tests: a dossier with one component and its digitised document."""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, date, datetime
from typing import Any

from storage.catalogue.db import Catalogue, migrate
from storage.catalogue.models import Base, Component, ComponentState, Document, Dossier

_seq = itertools.count(1)


def add_document(
    catalogue: Catalogue,
    *,
    owner_id: str,
    doc_type: str,
    text: str = "",
    procedure_code: str = "1.001193",
    created_at: datetime | None = None,
    object_key: str | None = None,
    object_version: str | None = None,
    sha256: str | None = None,
    size: int = 0,
    code: str | None = None,
    fields: dict[str, Any] | None = None,
    signature_level: str = "B-T",
    birth_date: date | None = None,
) -> tuple[int, str]:
    """Insert a dossier, its finished component and its document; returns (document id, dossier code)."""
    n = next(_seq)
    code = code or f"000.00.12.H26-{datetime.now(UTC):%y%m%d}-{n:04d}"
    sha = sha256 or hashlib.sha256(f"doc{n}{code}".encode()).hexdigest()
    with catalogue.session() as s:
        dossier = Dossier(
            code=code,
            procedure_code=procedure_code,
            applicant_id=owner_id,
            applicant_birth_date=birth_date,
            batch_sha256=sha,
        )
        comp = Component(
            ref=f"c{n}", position=0, name=doc_type, declared_type=doc_type, page_count=1, state=ComponentState.DONE
        )
        dossier.components.append(comp)
        s.add(dossier)
        s.flush()
        doc = Document(
            component_id=comp.id,
            owner_id=owner_id,
            doc_type=doc_type,
            type_confidence=0.9,
            text=text,
            fields=fields or {},
            page_count=1,
            sha256=sha,
            size=size,
            object_key=object_key or f"sha256/{sha[:2]}/{sha}.pdf",
            object_version=object_version,
            signed_by="Cán bộ số hóa",
            signed_at=datetime.now(UTC),
            signature_level=signature_level,
            **({"created_at": created_at} if created_at else {}),
        )
        s.add(doc)
        s.flush()
        return doc.id, code


def model_drift(db_url: str, needle: str) -> list[object]:
    """Alembic's differences between the migrated schema and the models, those whose text names ``needle``."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    migrate(db_url)
    cat = Catalogue(db_url)
    try:
        with cat.engine.connect() as conn:
            # SQLite's FTS5 table and its shadow tables are made by the migrations only (no model).
            fts = lambda name, kind, _parent: not (kind == "table" and str(name).startswith("documents_fts"))  # noqa: E731
            context = MigrationContext.configure(conn, opts={"include_name": fts})
            diffs = compare_metadata(context, Base.metadata)
    finally:
        cat.dispose()
    return [d for d in diffs if needle in repr(d)]
