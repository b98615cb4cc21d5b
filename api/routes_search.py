"""Catalogue search: officers over their centre's documents, agencies within their grants (JSON),
and the officers' search page ``/can-bo/tim-kiem`` (Vietnamese).

Results are ranked (the query as a phrase first, then the newest) and carry a snippet of the
document's text as spans, ``{"text": …, "mark": true|false}``: marked spans are the query's
words, matched without diacritics. No HTML travels in the API; the page escapes every span.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from api.auth import require
from api.docs import ERRORS
from api.officer_auth import require_officer
from api.officer_pages import officer_page
from digitizer.model import DOCUMENT_TYPES
from dossiers.catalogue_search import MAX_PAGE, Criteria, agency_search, centre_search
from sohoa.errors import SohoaError
from sohoa.identifiers import OWNER_ID
from storage.catalogue.clients import Principal
from storage.catalogue.models import ClientRole
from storage.catalogue.officers import OfficerPrincipal
from storage.errors import AgencyUnknown

router = APIRouter()
Officer = Annotated[OfficerPrincipal, Depends(require_officer())]
PAGE = "/can-bo/tim-kiem"

Text = Annotated[str, Query(max_length=200, description="Words (name, place, number…), diacritics optional")]
Owner = Annotated[str | None, Query(pattern=OWNER_ID.pattern, description="Số định danh cá nhân (12 digits)")]
Types = Annotated[list[str] | None, Query(alias="type", description="Document types (repeatable)")]
From = Annotated[date | None, Query(alias="from", description="Created on or after (YYYY-MM-DD)")]
To = Annotated[date | None, Query(alias="to", description="Created on or before (YYYY-MM-DD)")]
DossierCode = Annotated[str | None, Query(max_length=64, description="Dossier code")]
PageNo = Annotated[int, Query(ge=1, le=MAX_PAGE)]


def _criteria(q: str, owner: str | None, types: list[str] | None, start: date | None, end: date | None,
              dossier: str | None, page: int) -> Criteria:  # fmt: skip
    unknown = sorted(set(types or ()) - set(DOCUMENT_TYPES))
    if unknown:
        raise HTTPException(
            422, detail={"code": "DOC_TYPE_UNKNOWN", "message": f"Loại giấy tờ không hợp lệ: {', '.join(unknown)}"}
        )
    if start and end and start > end:
        raise HTTPException(
            422, detail={"code": "DATE_RANGE_INVALID", "message": "Ngày bắt đầu phải trước ngày kết thúc."}
        )
    return Criteria(q.strip(), owner or None, tuple(types or ()), (dossier or "").strip() or None, start, end, page)


def _with_links(results: dict[str, Any]) -> dict[str, Any]:
    for hit in results["results"]:
        hit["url"] = f"/can-bo/ho-so/{hit['dossier_code']}"
    return results


@router.get(
    "/api/v1/search",
    tags=["officers"],
    summary="Search the centre's documents (officers): ranked, snippets marked",
    responses=ERRORS,
)
async def officer_search(
    request: Request, officer: Officer, q: Text = "", owner: Owner = None, doc_type: Types = None,
    start: From = None, end: To = None, dossier: DossierCode = None, page: PageNo = 1,
) -> dict[str, Any]:  # fmt: skip
    criteria = _criteria(q, owner, doc_type, start, end, dossier, page)
    catalogue = request.app.state.services.catalogue
    results = await run_in_threadpool(centre_search, catalogue, officer.centre_id, criteria, actor=officer.actor)
    return _with_links(results.to_dict())


@router.get(
    "/api/v1/agency/search",
    tags=["agencies"],
    summary="Search documents within the agency's grants for a stated purpose (audited)",
    responses=ERRORS,
)
async def agency_search_route(
    request: Request,
    principal: Annotated[Principal, Depends(require(ClientRole.AGENCY))],
    purpose: Annotated[str, Query(min_length=3, max_length=200, description="purpose the grant was given for")],
    q: Text = "", owner: Owner = None, doc_type: Types = None,
    start: From = None, end: To = None, dossier: DossierCode = None, page: PageNo = 1,
) -> dict[str, Any]:  # fmt: skip
    if not principal.agency_code:
        raise AgencyUnknown(f"client {principal.id} has no agency code")
    criteria = _criteria(q, owner, doc_type, start, end, dossier, page)
    catalogue = request.app.state.services.catalogue
    results = await run_in_threadpool(agency_search, catalogue, principal.agency_code, purpose, criteria)
    return {"purpose": purpose, **results.to_dict()}


@router.get(PAGE, include_in_schema=False)
async def search_page(
    request: Request, officer: Officer, q: str = "", owner: str = "", type: str = "",
    start: Annotated[str, Query(alias="from")] = "", end: Annotated[str, Query(alias="to")] = "",
    dossier: str = "", page: int = 1,
) -> HTMLResponse:  # fmt: skip
    form = {"q": q, "owner": owner, "type": type, "from": start, "to": end, "dossier": dossier}
    context: dict[str, Any] = {"form": form, "types": DOCUMENT_TYPES, "results": None, "error": "", "pager": {}}
    if any(v.strip() for v in form.values()):
        try:
            if owner.strip() and not OWNER_ID.fullmatch(owner.strip()):
                raise HTTPException(422, detail={"message": "Số định danh gồm 12 chữ số."})
            criteria = _criteria(
                q, owner.strip() or None, [type] if type else None,
                date.fromisoformat(start) if start else None, date.fromisoformat(end) if end else None,
                dossier, max(1, min(page, MAX_PAGE)),
            )  # fmt: skip
            catalogue = request.app.state.services.catalogue
            found = await run_in_threadpool(centre_search, catalogue, officer.centre_id, criteria, actor=officer.actor)
            context["results"] = _with_links(found.to_dict())
            link = lambda n: f"{PAGE}?{urlencode({**form, 'page': n})}"  # noqa: E731
            prev = link(found.page - 1) if found.page > 1 else ""
            context["pager"] = {"prev": prev, "next": link(found.page + 1) if found.has_more else ""}
        except HTTPException as exc:
            context["error"] = exc.detail["message"] if isinstance(exc.detail, dict) else str(exc.detail)
        except ValueError:
            context["error"] = "Ngày không hợp lệ (định dạng YYYY-MM-DD)."
        except SohoaError as exc:
            context["error"] = exc.message_vi
    status = 422 if context["error"] else 200
    return officer_page(request, "officer_search.html", officer, status, active="search", **context)
