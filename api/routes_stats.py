"""The figures centres report (``dossiers.statistics``): ``GET /api/v1/stats`` (JSON, CSV, XLSX) and the
officers' page ``/can-bo/thong-ke`` (the table, inline SVG bar charts, links to the CSV and XLSX).

Any officer of a centre may read their centre's figures, and only theirs (another centre's code: 404,
as for one that does not exist); a deployment-wide officer key of no account (``sohoa keys create
--role officer``) reads every centre's, or one centre's with ``centre``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from fastapi.security import HTTPAuthorizationCredentials

from api.auth import bearer, principal_of
from api.docs import ERRORS, error_response
from api.officer_auth import require_officer
from api.officer_pages import officer_page
from dossiers.budgets import vietnam_day
from dossiers.statistics import (
    GROUP_NAMES_VI,
    Figures,
    Period,
    Ratio,
    Report,
    centre_of_code,
    duration_vi,
    parse_group,
    report,
)
from dossiers.stats_export import CSV_TYPE, XLSX_TYPE, filename, to_csv, to_xlsx
from sohoa.errors import NotFound, SohoaError
from storage.catalogue.clients import Principal
from storage.catalogue.models import ClientRole
from storage.catalogue.officers import OfficerPrincipal

router = APIRouter()
PAGE = "/can-bo/thong-ke"
_any_officer = require_officer()
Officer = Annotated[OfficerPrincipal, Depends(_any_officer)]


async def stats_reader(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> OfficerPrincipal | Principal:
    """Any officer (personal key or signed-in session: their centre), or a deployment-wide officer key of no
    account (every centre)."""
    if credentials is not None:
        principal = await run_in_threadpool(principal_of, request, credentials, (ClientRole.OFFICER,))
        if principal.officer_id is None:
            return principal
    return await _any_officer(request, credentials)


def _scope(request: Request, reader: OfficerPrincipal | Principal, centre: str | None) -> tuple[int, str, str] | None:
    """The centre the figures cover (id, code, name); None: every centre (deployment-wide keys only)."""
    catalogue = request.app.state.services.catalogue
    if isinstance(reader, OfficerPrincipal):
        if centre and centre != reader.centre_code:
            raise NotFound(f"centre {centre}")
        found = centre_of_code(catalogue, reader.centre_code)
        if found is None:
            raise NotFound(f"centre {reader.centre_code}")
        return found[0], reader.centre_code, found[1]
    if not centre:
        return None
    found = centre_of_code(catalogue, centre)
    if found is None:
        raise NotFound(f"centre {centre}")
    return found[0], centre, found[1]


def _report(request: Request, reader: OfficerPrincipal | Principal, start: date | None, end: date | None, by: str,
            centre: str | None) -> Report:  # fmt: skip
    group = parse_group(by)
    period = Period.of(start, end, group)
    return report(request.app.state.services.catalogue, period, group, _scope(request, reader, centre))


def _download(body: bytes, media_type: str, name: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


From = Annotated[date | None, Query(alias="from", description="First day (YYYY-MM-DD, Vietnam time)")]
To = Annotated[date | None, Query(alias="to", description="Last day, inclusive (YYYY-MM-DD)")]
By = Annotated[
    Literal["total", "day", "month", "procedure", "centre"], Query(description="One row per day, month, procedure…")
]


@router.get(
    "/api/v1/stats",
    tags=["officers"],
    summary="The figures a centre reports: digitisation at intake and of results, signatures, reuse, review",
    description=(
        "For the days `from`..`to` (Vietnam time; default: this month), one row per `by` group and the total. "
        "Each figure has its numerator and denominator and a Vietnamese text (`1.939/1.940 = 99,95 %`). "
        "`format=csv` (UTF-8 with BOM) and `format=xlsx` give the monthly report's layout. An officer reads "
        "their own centre's figures; a deployment-wide officer key every centre's, or `centre`'s."
    ),
    responses={
        200: {
            "description": "The report",
            "content": {"text/csv": {}, XLSX_TYPE: {}},
        },
        **ERRORS,
        404: error_response("Another centre's code, or no such centre"),
    },
)
async def stats_api(
    request: Request,
    reader: Annotated[OfficerPrincipal | Principal, Depends(stats_reader)],
    start: From = None,
    end: To = None,
    by: By = "total",
    centre: Annotated[str | None, Query(max_length=40, description="A centre's code")] = None,
    format: Annotated[Literal["json", "csv", "xlsx"], Query(description="json, csv or xlsx")] = "json",
) -> Any:
    result = await run_in_threadpool(_report, request, reader, start, end, by, centre)
    if format == "csv":
        return _download(to_csv(result), CSV_TYPE, filename(result, "csv"))
    if format == "xlsx":
        body = await run_in_threadpool(to_xlsx, result, generated=vietnam_day())
        return _download(body, XLSX_TYPE, filename(result, "xlsx"))
    return result.to_dict()


# -- the page ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    label: str
    y: int
    width: float
    text: str


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    description: str
    height: int
    bars: list[Bar]


CHART_ROW = 28
CHART_BAR_SPACE = 340.0  # the bars' room (px of the 720-wide view box) for 100 %
CHARTS = [
    ("tiep-nhan", "Tỷ lệ số hóa thành phần hồ sơ khi tiếp nhận", lambda f: f.intake),
    ("ket-qua", "Tỷ lệ số hóa kết quả giải quyết", lambda f: f.results),
    ("tai-su-dung", "Tỷ lệ thành phần tái sử dụng từ kho dữ liệu", lambda f: f.reused),
]


def _chart(key: str, title: str, ratio_of: Any, lines: list[Figures]) -> Chart:
    bars = []
    for i, fig in enumerate(lines):
        ratio: Ratio = ratio_of(fig)
        width = CHART_BAR_SPACE * (ratio.rate or 0.0)
        bars.append(Bar(fig.label, 8 + i * CHART_ROW, round(width, 1), ratio.text_vi()))
    description = "Biểu đồ cột ngang, mỗi dòng một nhóm: " + "; ".join(f"{b.label}: {b.text}" for b in bars)
    return Chart(f"bieu-do-{key}", title, description, 16 + len(bars) * CHART_ROW, bars)


def _charts(result: Report) -> list[Chart]:
    lines = result.rows or [result.total]
    return [_chart(key, title, ratio_of, lines) for key, title, ratio_of in CHARTS]


@router.get(PAGE, include_in_schema=False)
async def stats_page(
    request: Request, officer: Officer, by: str = "month",
    start: Annotated[str, Query(alias="from")] = "", end: Annotated[str, Query(alias="to")] = "",
) -> HTMLResponse:  # fmt: skip
    form = {"from": start, "to": end, "by": by}
    context: dict[str, Any] = {"form": form, "groups": GROUP_NAMES_VI, "report": None, "error": "", "charts": []}
    context["duration_vi"] = duration_vi
    try:
        first = date.fromisoformat(start) if start else None
        last = date.fromisoformat(end) if end else None
        result = await run_in_threadpool(_report, request, officer, first, last, by, None)
    except ValueError:
        context["error"] = "Ngày không hợp lệ (định dạng YYYY-MM-DD)."
    except SohoaError as exc:
        context["error"] = exc.message_vi
    else:
        query = {"from": result.period.start.isoformat(), "to": result.period.end.isoformat(), "by": result.by.value}
        form.update(query)
        context.update(
            report=result,
            charts=_charts(result),
            csv_url=f"/api/v1/stats?{urlencode({**query, 'format': 'csv'})}",
            xlsx_url=f"/api/v1/stats?{urlencode({**query, 'format': 'xlsx'})}",
            group_name=GROUP_NAMES_VI[result.by] if result.rows else "",
        )
    status = 422 if context["error"] else 200
    return officer_page(request, "officer_stats.html", officer, status, active="stats", **context)
