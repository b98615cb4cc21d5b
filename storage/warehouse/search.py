"""Catalogue search: owner ID, document type, dossier, procedure, dates and diacritic-insensitive full text.

Full text runs on ``documents.folded_text`` (the OCR layer folded in Python: no diacritics,
lowercase): SQLite through the FTS5 table ``documents_fts``, PostgreSQL through a GIN index
on ``to_tsvector('simple', folded_text)``. Queries are folded the same way, so
"giay khai sinh" finds "Giấy khai sinh". (A stored tsvector column was measured too: it
widens every row, and the bitmap heap scan over the matches got slower, not faster.)

A lookup by owner ID finds the documents the person owns (answered from
``ix_documents_owner_lookup``, which holds every column of a hit) and those that name them as
a party (``document_parties``: the wife on her husband's marriage certificate, the agent of a
power of attorney, bên B of a contract); each hit says which (``matched_as``: ``owner`` or the
party's role).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnClause,
    Select,
    bindparam,
    func,
    literal,
    literal_column,
    select,
    text,
    union_all,
)

from storage.catalogue.db import Catalogue
from storage.catalogue.folding import fold_words
from storage.catalogue.models import ApiClient, Document, DocumentParty, Dossier
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
    # Only documents of this centre's dossiers: a dossier's own centre, else its station's, else
    # ``fallback_centre_id`` (the deployment's default centre, for dossiers older than centres).
    centre_id: int | None = None
    fallback_centre_id: int | None = None

    def describe(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if v not in (None, (), "")}
        for k in ("created_from", "created_to"):
            if k in out:
                out[k] = out[k].isoformat()
        out.pop("fallback_centre_id", None)
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
    matched_as: str | None = None  # a lookup by owner ID: "owner", or the role the document gives the person

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


# A SELECT of any columns (SQLAlchemy 2.1 types a statement by each of its columns).
AnySelect = Select[*tuple[Any, ...]]


def _fts_match(dialect: str) -> Any:
    if dialect == "sqlite":
        ids: Select[int] = (
            select(literal_column("rowid")).select_from(text("documents_fts")).where(text("documents_fts MATCH :fts"))
        )
        return Document.id.in_(ids)
    simple: ColumnClause[Any] = literal_column("'simple'::regconfig")  # a literal, so the expression index matches
    return func.to_tsvector(simple, Document.folded_text).op("@@")(func.to_tsquery(simple, bindparam("fts")))


def _in_centre() -> Any:
    """The document's dossier belongs to the centre (the same rule as the officers' workspace)."""
    centre = func.coalesce(Dossier.centre_id, ApiClient.centre_id, bindparam("fallback_centre_id"))
    return (
        select(literal(1))
        .select_from(Dossier)
        .outerjoin(ApiClient, ApiClient.id == Dossier.station_id)
        .where(Dossier.code == Document.dossier_code, centre == bindparam("centre_id"))
        .exists()
    )


_FILTERS = {
    "owner_id": lambda: Document.owner_id == bindparam("owner_id"),
    "doc_types": lambda: Document.doc_type.in_(bindparam("doc_types", expanding=True)),
    "dossier_code": lambda: Document.dossier_code == bindparam("dossier_code"),
    "procedure_code": lambda: Document.procedure_code == bindparam("procedure_code"),
    "created_from": lambda: Document.created_at >= bindparam("created_from"),
    "created_to": lambda: Document.created_at < bindparam("created_to"),
    "centre_id": _in_centre,
}


def owned_or_named(owned: AnySelect, named: AnySelect, person: Any, where: Sequence[Any], limit: Any) -> AnySelect:
    """The newest ``limit`` documents ``person`` owns (``owned``) or is named in as a party but does not own
    (``named``, joined to ``document_parties`` here: no row twice); each branch ordered and cut to the limit
    by its own index before they are merged. Shared by the search and the reuse at intake."""
    newest = (Document.created_at.desc(), Document.id.desc())
    mine = owned.where(Document.owner_id == person, *where).order_by(*newest).limit(limit).subquery()
    theirs = (
        named.join(DocumentParty, DocumentParty.document_id == Document.id)
        .where(DocumentParty.id_number == person, Document.owner_id != person, *where)
        .order_by(*newest)
        .limit(limit)
        .subquery()
    )
    both = union_all(select(mine), select(theirs)).subquery()
    return select(both).order_by(both.c.created_at.desc(), both.c.id.desc()).limit(limit)


def _by_person(dialect: str, filters: tuple[str, ...], full_text: bool) -> AnySelect:
    """Documents the person owns, then those naming them as a party, newest first (``owned_or_named``)."""
    others = [_FILTERS[name]() for name in filters if name != "owner_id"]
    if full_text:
        others.append(_fts_match(dialect))
    return owned_or_named(
        select(*_COLUMNS, literal("owner").label("matched_as")),
        select(*_COLUMNS, DocumentParty.role.label("matched_as")),
        bindparam("owner_id"),
        others,
        bindparam("limit"),
    )


@functools.lru_cache(maxsize=256)
def _statement(dialect: str, filters: tuple[str, ...], full_text: bool) -> AnySelect:
    """One statement per shape of query, values left as parameters: building a statement and
    matching its result columns to the cached compiled form cost more than running it."""
    if "owner_id" in filters:
        return _by_person(dialect, filters, full_text)
    stmt = select(*_COLUMNS).where(*(_FILTERS[name]() for name in filters))
    limit: BindParameter[int] = bindparam("limit")
    if full_text and dialect == "postgresql":
        # Every match first (GIN index, one pass over the matching rows), then the newest of
        # them. Left to itself the planner may instead walk created_at backwards testing row
        # after row, which takes seconds when the words are rare; MATERIALIZED rules that out.
        hits = stmt.where(_fts_match(dialect)).cte("fts_hits").prefix_with("MATERIALIZED")
        return select(hits).order_by(hits.c.created_at.desc(), hits.c.id.desc()).limit(limit)
    if full_text:
        stmt = stmt.where(_fts_match(dialect))
    return stmt.order_by(Document.created_at.desc(), Document.id.desc()).limit(limit)


# The national motto heads every official document ("Cộng hòa xã hội chủ nghĩa Việt Nam / Độc lập -
# Tự do - Hạnh phúc"): its words match every row, so requiring them filters nothing and costs a
# posting list as long as the catalogue (seconds on PostgreSQL at 10^6 documents). They are left out
# of the match when the query has other words; ranking and snippets still use the whole query.
MOTTO_WORDS = frozenset(
    ["cong", "hoa", "xa", "hoi", "chu", "nghia", "viet", "nam", "doc", "lap", "tu", "do", "hanh", "phuc"]
)


def match_words(text: str) -> list[str]:
    """The folded words a document must contain: the query's, less the motto's unless nothing else is left."""
    words = fold_words(text)
    rest = [w for w in words if w not in MOTTO_WORDS]
    return rest or words


def build_query(q: SearchQuery, dialect: str) -> tuple[AnySelect, dict[str, Any]]:
    """The statement for this query and its parameters."""
    params: dict[str, Any] = {name: getattr(q, name) for name in _FILTERS if getattr(q, name)}
    if "doc_types" in params:
        params["doc_types"] = list(params["doc_types"])
    if q.centre_id is not None:
        params["centre_id"], params["fallback_centre_id"] = q.centre_id, q.fallback_centre_id
    words = match_words(q.text or "")
    if words:  # folded words are [0-9a-z] only: nothing in them is FTS5 or tsquery syntax
        params["fts"] = " ".join(f'"{w}"' for w in words) if dialect == "sqlite" else " & ".join(words)
    stmt = _statement(dialect, tuple(name for name in _FILTERS if name in params), bool(words))
    return stmt, {**params, "limit": max(1, min(q.limit, 500))}


def search_documents(catalogue: Catalogue, q: SearchQuery) -> list[DocumentHit]:
    """Run a search without auditing it (internal callers: the request flow audits once)."""
    stmt, params = build_query(q, catalogue.dialect_name)
    with catalogue.transaction(readonly=True) as conn:  # SQLite: a snapshot, never queued behind writers
        return [DocumentHit(*row) for row in conn.execute(stmt, params)]


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


def document_texts(catalogue: Catalogue, ids: Sequence[int]) -> dict[int, str]:
    """The OCR text of these documents (for snippets of one page of hits)."""
    if not ids:
        return {}
    with catalogue.transaction(readonly=True) as conn:
        rows = conn.execute(select(Document.id, Document.text).where(Document.id.in_(list(ids))))
        return {row.id: row.text or "" for row in rows}
