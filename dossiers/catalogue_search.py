"""Catalogue search for people: officers (their centre's documents) and agencies (their grants).

Both run the warehouse's search (``storage.warehouse.search``), then rank the candidates (the
query as a phrase first, then recency), cut one page and add a snippet of each document's text
with the query's words marked (``storage.warehouse.highlight``). Every search is audited with
its actor, purpose and query (the audit trail holds identifiers; plain logs get them masked).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sohoa.errors import error
from storage.catalogue.db import Catalogue
from storage.errors import AgencyUnknown, GrantRequired
from storage.warehouse import audit
from storage.warehouse.highlight import score, snippet
from storage.warehouse.search import DocumentHit, SearchQuery, document_texts, search_documents
from storage.warehouse.sharing import granted_types

log = logging.getLogger(__name__)

PAGE_SIZE = 20
CANDIDATES = 200  # newest matches ranked per search: pages past CANDIDATES / PAGE_SIZE are empty
MAX_PAGE = CANDIDATES // PAGE_SIZE

SearchEmpty = error(
    "SEARCH_EMPTY",
    "Vui lòng nhập từ khóa, số định danh, loại giấy tờ, mã hồ sơ hoặc khoảng thời gian để tìm kiếm.",
    "Give words, an owner ID, a document type, a dossier code or a date range to search.",
    http_status=422,
)


@dataclass(frozen=True)
class Criteria:
    """What a person asked for (dates inclusive, in the service's calendar)."""

    text: str = ""
    owner_id: str | None = None
    doc_types: tuple[str, ...] = ()
    dossier_code: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1

    def empty(self) -> bool:
        return not (self.text.strip() or self.owner_id or self.doc_types or self.dossier_code) and not (
            self.date_from or self.date_to
        )

    def query(self, limit: int) -> SearchQuery:
        return SearchQuery(
            owner_id=self.owner_id or None,
            doc_types=self.doc_types,
            dossier_code=self.dossier_code or None,
            created_from=datetime.combine(self.date_from, time(), UTC) if self.date_from else None,
            created_to=datetime.combine(self.date_to + timedelta(days=1), time(), UTC) if self.date_to else None,
            text=self.text or None,
            limit=limit,
        )


@dataclass(frozen=True)
class Results:
    page: int
    has_more: bool
    hits: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"page": self.page, "page_size": PAGE_SIZE, "has_more": self.has_more, "count": len(self.hits),
                "results": self.hits}  # fmt: skip


def mask_id(number: str | None) -> str:
    """An ID number for plain logs: the last 3 digits only."""
    return "" if not number else "*" * max(0, len(number) - 3) + number[-3:]


def _rank(
    catalogue: Catalogue, hits: list[DocumentHit], criteria: Criteria
) -> tuple[list[DocumentHit], dict[int, str]]:
    """The hits, best first, and the texts read for them."""
    if not criteria.text.strip():
        return hits, {}
    texts = document_texts(catalogue, [h.id for h in hits])
    order = {h.id: n for n, h in enumerate(hits)}  # newest first already
    ranked = sorted(hits, key=lambda h: (*(-v for v in score(texts.get(h.id, ""), criteria.text)), order[h.id]))
    return ranked, texts


def _run(catalogue: Catalogue, query: SearchQuery, criteria: Criteria) -> Results:
    page = max(1, min(criteria.page, MAX_PAGE))
    # Words are ranked over the newest CANDIDATES matches; anything else is newest first: rows up to this page.
    limit = CANDIDATES if criteria.text.strip() else page * PAGE_SIZE + 1
    hits = search_documents(catalogue, replace(query, limit=limit))
    ranked, texts = _rank(catalogue, hits, criteria)
    chosen = ranked[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    if not texts:
        texts = document_texts(catalogue, [h.id for h in chosen])
    out = []
    for hit in chosen:
        item = {k: v for k, v in hit.to_dict().items() if k not in ("object_key", "size")}
        item["snippet"] = [s.to_dict() for s in snippet(texts.get(hit.id, ""), criteria.text)]
        out.append(item)
    return Results(page, len(ranked) > page * PAGE_SIZE, out)


def _audit(
    catalogue: Catalogue, actor: str, purpose: str, query: SearchQuery, outcome: str, detail: dict[str, Any]
) -> None:
    audit.record(
        catalogue,
        actor=actor,
        action="search",
        subject=f"owner:{query.owner_id}" if query.owner_id else "documents",
        purpose=purpose,
        outcome=outcome,
        detail={"query": query.describe(), **detail},
        centre_id=query.centre_id,
    )


def centre_results(catalogue: Catalogue, centre_id: int, criteria: Criteria) -> tuple[SearchQuery, Results]:
    """The centre's documents matching ``criteria``, unaudited (``centre_search`` audits)."""
    if criteria.empty():
        raise SearchEmpty()
    query = replace(criteria.query(CANDIDATES), centre_id=centre_id)
    return query, _run(catalogue, query, criteria)


def centre_search(catalogue: Catalogue, centre_id: int, criteria: Criteria, *, actor: str) -> Results:
    """An officer's (or the operator's, for one centre) search of the centre's documents; audited."""
    query, results = centre_results(catalogue, centre_id, criteria)
    _audit(catalogue, actor, "tra cứu hồ sơ", query, "ok", {"hits": len(results.hits), "page": results.page})
    log.info("search: actor=%s owner=%s hits=%d", actor, mask_id(criteria.owner_id), len(results.hits))
    return results


def operator_search(catalogue: Catalogue, criteria: Criteria, *, purpose: str) -> Results:
    """The operator's search over every centre (the command line); audited as ``operator``."""
    if criteria.empty():
        raise SearchEmpty()
    query = criteria.query(CANDIDATES)
    results = _run(catalogue, query, criteria)
    _audit(catalogue, "operator", purpose, query, "ok", {"hits": len(results.hits), "page": results.page})
    return results


def agency_search(catalogue: Catalogue, agency_code: str, purpose: str, criteria: Criteria) -> Results:
    """An agency's search, limited to the types its valid grants for ``purpose`` cover; refusals audited too."""
    actor = f"agency:{agency_code}"
    granted = granted_types(catalogue, agency_code, purpose) if purpose.strip() else set()
    wanted = set(criteria.doc_types) or set(granted or ())
    allowed = tuple(sorted(wanted & (granted or set())))
    query = replace(criteria.query(CANDIDATES), doc_types=allowed)
    if not allowed or set(criteria.doc_types) - set(allowed):
        reason = "unknown agency" if granted is None else "no grant for these types and purpose"
        _audit(catalogue, actor, purpose, query, "refused", {"doc_types": sorted(wanted), "reason": reason})
        log.warning("agency search refused: agency=%s reason=%s", agency_code, reason)
        if granted is None:
            raise AgencyUnknown(agency_code)
        raise GrantRequired(f"{agency_code} {sorted(wanted)} {purpose!r}")
    if criteria.empty():
        raise SearchEmpty()
    results = _run(catalogue, query, criteria)
    _audit(
        catalogue,
        actor,
        purpose,
        query,
        "ok",
        {"hits": len(results.hits), "document_ids": [h["id"] for h in results.hits]},
    )
    log.info("agency search: agency=%s owner=%s hits=%d", agency_code, mask_id(criteria.owner_id), len(results.hits))
    return results
