"""Catalogue search: owner ID, document type, dossier, procedure, dates and diacritic-insensitive full text.

Full text runs on ``documents.folded_text`` (the OCR layer folded in Python: no diacritics,
lowercase): SQLite through the FTS5 table ``documents_fts``, PostgreSQL through a GIN index
on ``to_tsvector('simple', folded_text)``. Queries are folded the same way, so
"giay khai sinh" finds "Giấy khai sinh".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, literal_column, select, text

from storage.catalogue.db import Catalogue
from storage.catalogue.folding import fold_words
from storage.catalogue.models import Document
from storage.warehouse import audit


@dataclass(frozen=True)
class SearchQuery:
    owner_id: str | None = None
    doc_types: tuple[str, ...] = ()
    dossier_code: str | None = None
    procedure_code: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    text: str | None = None
    limit: int = 50

    def describe(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if v not in (None, (), "")}
        for k in ("created_from", "created_to"):
            if k in out:
                out[k] = out[k].isoformat()
        if "doc_types" in out:
            out["doc_types"] = list(out["doc_types"])
        return out


@dataclass(frozen=True)
class DocumentHit:
    id: int
    owner_id: str
    doc_type: str
    dossier_code: str
    procedure_code: str
    created_at: datetime
    page_count: int
    sha256: str
    size: int
    object_key: str

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["created_at"] = self.created_at.isoformat()
        return out


_COLUMNS = (
    Document.id,
    Document.owner_id,
    Document.doc_type,
    Document.dossier_code,
    Document.procedure_code,
    Document.created_at,
    Document.page_count,
    Document.sha256,
    Document.size,
    Document.object_key,
)


def _fts_match(dialect: str, words: list[str]) -> Any:
    if dialect == "sqlite":
        match = " ".join(f'"{w}"' for w in words)
        ids = select(literal_column("rowid")).select_from(text("documents_fts")).where(text("documents_fts MATCH :q"))
        return Document.id.in_(ids.params(q=match))
    simple = literal_column("'simple'::regconfig")  # a literal, so the expression index matches
    tsquery = func.to_tsquery(simple, " & ".join(words))
    # MATERIALIZED: the GIN index answers first; otherwise the planner may walk created_at
    # backwards and run to_tsvector on row after row (seconds at 10^5 documents).
    hits = (
        select(Document.id)
        .where(func.to_tsvector(simple, Document.folded_text).op("@@")(tsquery))
        .cte("fts_hits")
        .prefix_with("MATERIALIZED")
    )
    return Document.id.in_(select(hits.c.id))


def build_query(q: SearchQuery, dialect: str) -> Select[Any]:
    stmt = select(*_COLUMNS)
    if q.owner_id:
        stmt = stmt.where(Document.owner_id == q.owner_id)
    if q.doc_types:
        stmt = stmt.where(Document.doc_type.in_(q.doc_types))
    if q.dossier_code:
        stmt = stmt.where(Document.dossier_code == q.dossier_code)
    if q.procedure_code:
        stmt = stmt.where(Document.procedure_code == q.procedure_code)
    if q.created_from:
        stmt = stmt.where(Document.created_at >= q.created_from)
    if q.created_to:
        stmt = stmt.where(Document.created_at < q.created_to)
    words = fold_words(q.text or "")
    if words:
        stmt = stmt.where(_fts_match(dialect, words))
    return stmt.order_by(Document.created_at.desc(), Document.id.desc()).limit(max(1, min(q.limit, 500)))


def search_documents(catalogue: Catalogue, q: SearchQuery) -> list[DocumentHit]:
    """Run a search without auditing it (internal callers: the request flow audits once)."""
    dialect = catalogue.engine.dialect.name
    with catalogue.session() as s:
        return [DocumentHit(*row) for row in s.execute(build_query(q, dialect))]


def search(catalogue: Catalogue, q: SearchQuery, *, actor: str, purpose: str = "") -> list[DocumentHit]:
    """Search, and audit who searched for what and why."""
    hits = search_documents(catalogue, q)
    audit.record(
        catalogue,
        actor=actor,
        action="search",
        subject=f"owner:{q.owner_id}" if q.owner_id else "documents",
        purpose=purpose,
        outcome="ok",
        detail={"query": q.describe(), "hits": len(hits)},
    )
    return hits
