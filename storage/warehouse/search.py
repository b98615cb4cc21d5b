"""Catalogue search: owner ID, document type, dossier, procedure, dates and diacritic-insensitive full text.

Full text runs on ``documents.folded_text`` (the OCR layer folded in Python: no diacritics,
lowercase): SQLite through the FTS5 table ``documents_fts`` (columns ``folded_text`` and ``centre``,
``zzcentre<centre id>``, migration 0025), PostgreSQL through a GIN index on
``to_tsvector('simple', folded_text || ' zzcentre<centre id>')`` (``PG_FTS_DOCUMENT``). Queries
are folded the same way, so "giay khai sinh" finds "Giấy khai sinh". (A stored tsvector column was
measured too: it widens every row, and the bitmap heap scan over the matches got slower, not faster.)

A centre's search scopes by ``documents.centre_id`` (migration 0023). How the words are matched
depends on how common they are (``_plan``): rare words through the index, words on most pages
tested on the rows (a whole-word test on ``folded_text``), and on PostgreSQL very common words on a
walk of the centre's newest rows. Every plan gives the same documents.

A lookup by owner ID finds the documents the person owns (answered from
``ix_documents_owner_lookup``, which holds every column of a hit) and those that name them as
a party (``document_parties``: the wife on her husband's marriage certificate, the agent of a
power of attorney, bên B of a contract); each hit says which (``matched_as``: ``owner`` or the
party's role).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    Select,
    bindparam,
    column,
    literal,
    select,
    table,
    text,
    union_all,
)

from storage.catalogue.db import Catalogue
from storage.catalogue.folding import fold_words
from storage.catalogue.models import Document, DocumentParty
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
    # Only documents of this centre's dossiers: a dossier's own centre, else its station's, else the
    # deployment's default centre (for dossiers older than centres); ``documents.centre_id`` holds it.
    centre_id: int | None = None

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


# PostgreSQL's full-text index (migration 0023) holds each document's words and its centre as one more
# word, so that a centre's search asks the index for both and reads only that centre's matches. The
# query must spell the index's expression exactly for the planner to use it.
PG_FTS_DOCUMENT = (
    "to_tsvector('simple'::regconfig, documents.folded_text || coalesce(' zzcentre' || documents.centre_id::text, ''))"
)
PG_CENTRE_WORD = "zzcentre{}"
# SQLite's FTS5 table (migration 0025) has the centre as a second column, ``centre`` (``zzcentre<id>``),
# so that a centre's search hands over only that centre's matches.
SQLITE_CENTRE_WORD = "zzcentre{}"
SQLITE_CENTRE_MATCHES = 1000  # the words' matches over all centres from which the centre is matched in FTS5 too


def sqlite_fts_match(words: Sequence[str], centre_id: int | None = None) -> str:
    """The FTS5 query for documents holding every one of ``words`` (folded: [0-9a-z] only, nothing in them is
    FTS5 syntax) in their text, and of centre ``centre_id`` if given."""
    match = "folded_text : (" + " ".join(f'"{w}"' for w in words) + ")"
    if centre_id is None:
        return match
    return f'centre : "{SQLITE_CENTRE_WORD.format(int(centre_id))}" AND {match}'


def _pg_fts_match() -> Any:
    return text(f"{PG_FTS_DOCUMENT} @@ to_tsquery('simple'::regconfig, :fts)")


def _has_words(count: int) -> list[Any]:
    """The row's folded text holds each of the words ``w0``… (bound as ``% word %``), tested on the row itself:
    folded text is single-space-separated [0-9a-z] words, so this is the full-text match, word for word."""
    padded = literal(" ") + Document.folded_text + literal(" ")
    return [padded.like(bindparam(f"w{n}")) for n in range(count)]


def _in_centre() -> Any:
    """The document's centre (``documents.centre_id``: its dossier's, else its station's, else the
    default centre's; kept by triggers, the same rule as the officers' workspace)."""
    return Document.centre_id == bindparam("centre_id")


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


def _by_person(filters: tuple[str, ...], checked: int) -> AnySelect:
    """Documents the person owns, then those naming them as a party, newest first (``owned_or_named``).
    A person has a handful of documents: their words are tested on those rows, not looked up in the
    full-text index (where a word on every page, "tru" of "Nơi cư trú", is a million-row posting list)."""
    others = [_FILTERS[name]() for name in filters if name != "owner_id"] + _has_words(checked)
    return owned_or_named(
        select(*_COLUMNS, literal("owner").label("matched_as")),
        select(*_COLUMNS, DocumentParty.role.label("matched_as")),
        bindparam("owner_id"),
        others,
        bindparam("limit"),
    )


_NEWEST = (Document.created_at.desc(), Document.id.desc())


@functools.lru_cache(maxsize=256)
def _statement(dialect: str, filters: tuple[str, ...], indexed: bool, checked: int) -> AnySelect:
    """One statement per shape of query, values left as parameters: building a statement and
    matching its result columns to the cached compiled form cost more than running it.

    ``indexed``: the words in ``fts`` are looked up in the full-text index; ``checked``: that many
    words (``w0``…) are tested on each row instead (see ``_plan``)."""
    if "owner_id" in filters:
        return _by_person(filters, checked)
    where = [*(_FILTERS[name]() for name in filters), *_has_words(checked)]
    limit: BindParameter[int] = bindparam("limit")
    if indexed and dialect == "sqlite":
        # FTS5 hands its matches over newest stored first (ORDER BY rowid DESC is its own order), each
        # joined to its row by primary key and filtered, until ``limit`` pass: a word on every page costs
        # as many rows as it takes to fill the page, not its whole posting list. Then newest first. The
        # centre is in the match (the table's ``centre`` column, migration 0025): only that centre's matches
        # are handed over, and tested again on the row.
        fts = table("documents_fts", column("rowid"))
        first = (
            select(*_COLUMNS)
            .select_from(fts.join(Document.__table__, Document.id == fts.c.rowid))
            .where(text("documents_fts MATCH :fts"), *where)
            .order_by(fts.c.rowid.desc())
            .limit(limit)
            .subquery()
        )
        return select(first).order_by(first.c.created_at.desc(), first.c.id.desc())
    if indexed:
        # Every match first (GIN index, one pass over the matching rows), then the newest of
        # them. Left to itself the planner may instead walk created_at backwards testing row
        # after row, which takes seconds when the words are rare; MATERIALIZED rules that out.
        # The centre is in the index's match (its word); tested again on the row, through ``+ 0`` so that the
        # planner does not AND the match with a bitmap of every row of the centre (100 000 at 10^6).
        unindexed = {"centre_id": lambda: (Document.centre_id + 0) == bindparam("centre_id")}
        on_rows = [unindexed.get(name, _FILTERS[name])() for name in filters] + _has_words(checked)
        hits = select(*_COLUMNS).where(*on_rows, _pg_fts_match()).cte("fts_hits").prefix_with("MATERIALIZED")
        return select(hits).order_by(hits.c.created_at.desc(), hits.c.id.desc()).limit(limit)
    if checked:
        # PostgreSQL, words so common that the centre's newest rows soon hold a page of matches: walk the
        # centre's index (ix_documents_centre_created / _centre_type_created) backwards, testing each row,
        # for at most ``window`` rows (``search_documents`` asks the index when they held too few). The
        # centre is a range and leads the order so that only that index gives the order: with
        # ``centre_id = c`` the planner drops the column from the order and, the text test being beyond
        # its estimates, walks ix_documents_created_at over every centre's rows instead.
        scoped = (
            [Document.centre_id.between(bindparam("centre_id"), bindparam("centre_id"))]
            if "centre_id" in filters
            else []
        )
        plain = [_FILTERS[name]() for name in filters if name != "centre_id"]
        order = [Document.centre_id.desc()] if scoped else []
        window = (
            select(*_COLUMNS, Document.centre_id, Document.folded_text)
            .where(*scoped, *plain)
            .order_by(*order, *_NEWEST)
            .limit(bindparam("window"))
            .subquery()
        )
        padded = literal(" ") + window.c.folded_text + literal(" ")
        outer = [window.c.centre_id.desc()] if scoped else []
        return (
            select(*(window.c[c.key] for c in _COLUMNS))
            .where(*(padded.like(bindparam(f"w{n}")) for n in range(checked)))
            .order_by(*outer, window.c.created_at.desc(), window.c.id.desc())
            .limit(limit)
        )
    return select(*_COLUMNS).where(*where).order_by(*_NEWEST).limit(limit)


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
    return list(dict.fromkeys(rest or words))


@dataclass(frozen=True)
class WordStats:
    """How common the query's words are: ``share`` of the documents holding each (at most ``rare`` for a
    word not listed) among ``documents``."""

    documents: float
    share: dict[str, float]
    rare: float
    # PostgreSQL: the share of documents of each common centre and type ("centre_id:3", "doc_type:diploma").
    values: dict[str, float] = dataclasses.field(default_factory=dict)

    def of(self, word: str) -> float:
        return self.share.get(word, self.rare)

    def in_centre(self, q: SearchQuery) -> float:
        """About how many documents the query's centre holds (all of them where not known): the full-text
        index hands over all of the centre's matches, whatever their type."""
        n = self.documents
        if q.centre_id is not None:
            n *= self.values.get(f"centre_id:{q.centre_id}", 1.0)
        return n


def _share(words: list[str], stats: WordStats) -> float:
    """The share of documents holding all ``words`` (taken as independent)."""
    return math.prod(stats.of(w) for w in words)


_MAX_WINDOW = 50_000
COMMON_SHARE = 0.5  # a word on at least this share of the documents filters little: tested on the row instead


def _plan(
    words: list[str], dialect: str, has_owner: bool, stats: WordStats | None, limit: int, scope: float
) -> tuple[list[str], list[str]]:
    """(words looked up in the full-text index, words tested on each row).

    A person's few documents are tested word by word. Otherwise the index answers the rarer words and a
    word on most pages ("ho" of "Họ, chữ đệm, tên", "tru" of "Nơi cư trú") is tested on the rows they
    give: its posting list is as long as the catalogue. On PostgreSQL, whose index hands over every match
    unordered, words common enough that the centre's newest rows hold ``limit`` matches sooner than the
    index would list all of the centre's (limit / share < documents of the centre * share) are all tested
    on a backwards walk: each costs a heap row either way."""
    if not words or has_owner:
        return [], words
    if stats is None:
        return words, []
    by_share = sorted(words, key=stats.of)
    share = _share(words, stats)
    if dialect == "postgresql" and share * share * scope >= limit:
        return [], by_share  # walked: see _statement
    indexed = [w for w in by_share if stats.of(w) < COMMON_SHARE] or by_share[:1]
    return indexed, [w for w in by_share if w not in indexed]


def build_query(q: SearchQuery, dialect: str, stats: WordStats | None = None) -> tuple[AnySelect, dict[str, Any]]:
    """The statement for this query and its parameters (``stats``: how common its words are, if known)."""
    params: dict[str, Any] = {name: getattr(q, name) for name in _FILTERS if getattr(q, name)}
    if "doc_types" in params:
        params["doc_types"] = list(params["doc_types"])
    if q.centre_id is not None:
        params["centre_id"] = q.centre_id
    limit = max(1, min(q.limit, 500))
    scope = stats.in_centre(q) if stats is not None else 0.0
    indexed, checked = _plan(match_words(q.text or ""), dialect, "owner_id" in params, stats, limit, scope)
    if indexed and dialect == "sqlite":  # folded words are [0-9a-z] only: nothing in them is FTS5 or tsquery syntax
        # The centre joins the match when the words have many matches over all centres: each would cost a read
        # of its row to find the centre's; a few are cheaper read than ANDed with the centre's long posting list.
        few = stats is not None and _share(indexed, stats) * stats.documents < SQLITE_CENTRE_MATCHES
        params["fts"] = sqlite_fts_match(indexed, None if few else q.centre_id)
    elif indexed:
        centre = [PG_CENTRE_WORD.format(int(q.centre_id))] if q.centre_id is not None else []
        params["fts"] = " & ".join(indexed + centre)
    params.update({f"w{n}": f"% {w} %" for n, w in enumerate(checked)})
    if checked and not indexed and "owner_id" not in params and stats is not None:
        params["window"] = min(_MAX_WINDOW, max(limit, math.ceil(3 * limit / max(_share(checked, stats), 1e-9))))
    filters = tuple(name for name in _FILTERS if name in params)
    return _statement(dialect, filters, bool(indexed), len(checked)), {**params, "limit": limit}


_STATS_TTL_S = 600.0  # word shares change slowly: read again every ten minutes
_SAMPLE = 1000
_MAX_CACHED_WORDS = 50_000
_pg_stats: dict[str, tuple[float, WordStats | None]] = {}
_sqlite_shares: dict[tuple[str, str], tuple[float, float, float]] = {}  # (url, word): (read at, share, documents)


def _postgres_stats(catalogue: Catalogue, now: float) -> WordStats | None:
    """PostgreSQL's own statistics of the full-text index (``pg_stats.most_common_elems`` of
    ``ix_documents_fts``, kept by ANALYZE and autovacuum): the share of documents holding each common word."""
    key = str(catalogue.engine.url)
    cached = _pg_stats.get(key)
    if cached is not None and now - cached[0] < _STATS_TTL_S:
        return cached[1]
    with catalogue.transaction(readonly=True) as conn:
        documents = conn.execute(text("SELECT reltuples FROM pg_class WHERE oid = to_regclass('documents')")).scalar()
        row = conn.execute(
            text(
                "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
                "WHERE schemaname = current_schema() AND tablename = 'ix_documents_fts'"
            )
        ).first()
        columns = conn.execute(
            text(
                "SELECT attname, most_common_vals::text::text[], most_common_freqs FROM pg_stats "
                "WHERE schemaname = current_schema() AND tablename = 'documents' "
                "AND attname IN ('centre_id', 'doc_type') AND most_common_vals IS NOT NULL"
            )
        ).all()
    stats = None
    if documents and documents > 0 and row is not None and row[0] and row[1]:
        elems, freqs = list(row[0]), list(row[1])
        values = {f"{name}:{v}": f for name, vals, fs in columns for v, f in zip(vals, fs, strict=False)}
        # The frequencies end with the least and the greatest of them and the share of empty values.
        stats = WordStats(float(documents), dict(zip(elems, freqs, strict=False)), float(freqs[len(elems)]), values)
    _pg_stats[key] = (now, stats)
    return stats


def _sqlite_stats(catalogue: Catalogue, words: list[str], now: float) -> WordStats:
    """Each word's share among the newest documents, from its newest ``_SAMPLE`` matches in the FTS5 index
    (read backwards, a few pages): the rows the search will walk are those newest ones too."""
    url = str(catalogue.engine.url)
    stale = [w for w in words if (url, w) not in _sqlite_shares or now - _sqlite_shares[url, w][0] >= _STATS_TTL_S]
    if stale:
        if len(_sqlite_shares) > _MAX_CACHED_WORDS:
            _sqlite_shares.clear()
        with catalogue.transaction(readonly=True) as conn:
            newest = conn.execute(text("SELECT max(id) FROM documents")).scalar() or 0
            for word in stale:
                count, oldest = conn.execute(
                    text(
                        "SELECT count(*), min(rowid) FROM (SELECT rowid FROM documents_fts "
                        "WHERE documents_fts MATCH :w ORDER BY rowid DESC LIMIT :n)"
                    ),
                    {"w": sqlite_fts_match([word]), "n": _SAMPLE},
                ).one()
                span = newest - oldest + 1 if count >= _SAMPLE else newest
                _sqlite_shares[url, word] = (now, count / span if span > 0 else 0.0, float(newest))
    cached = [_sqlite_shares[url, w] for w in words]
    return WordStats(max(c[2] for c in cached), {w: c[1] for w, c in zip(words, cached, strict=True)}, 0.0)


def word_stats(catalogue: Catalogue, words: list[str]) -> WordStats | None:
    """How common ``words`` are in the catalogue (each read at most every ten minutes)."""
    if not words:
        return None
    now = time.monotonic()
    if catalogue.dialect_name == "postgresql":
        return _postgres_stats(catalogue, now)
    return _sqlite_stats(catalogue, words, now)


def search_documents(catalogue: Catalogue, q: SearchQuery) -> list[DocumentHit]:
    """Run a search without auditing it (internal callers: the request flow audits once)."""
    stats = word_stats(catalogue, match_words(q.text)) if q.text and not q.owner_id else None
    stmt, params = build_query(q, catalogue.dialect_name, stats)
    with catalogue.transaction(readonly=True) as conn:  # SQLite: a snapshot, never queued behind writers
        hits = [DocumentHit(*row) for row in conn.execute(stmt, params)]
        if "window" in params and len(hits) < params["limit"]:  # the newest rows held too few: ask the index
            stmt, params = build_query(q, catalogue.dialect_name, None)
            hits = [DocumentHit(*row) for row in conn.execute(stmt, params)]
        return hits


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
