"""The figures a centre reports (issue 21): digitisation at intake, results issued electronically,
digital signatures, reuse of the warehouse, the time to a signed copy, review and correction rates.

Every figure is a ``Ratio`` (numerator and denominator, so a report prints ``1.939/1.940 = 99,95 %``),
computed in the database (GROUP BY, one window query for the medians), the same on SQLite and
PostgreSQL. Days are Vietnam's calendar days (UTC+07:00, ``signing.vntime``).

What is counted, for a period ``[start, end]`` (inclusive days):

* **Components** (thành phần hồ sơ) of the dossiers *received* in the period (``dossiers.created_at``),
  grouped by the dossier's receipt day/month, its procedure or its centre; their state is today's.

  - *digitised at intake*: the component is ``done``: its scans were digitised, signed and stored
    (it has its own ``documents`` row), or it was completed by a signed document the warehouse
    already held (``component_reuses``). Rate = digitised / received.
  - *reused*: completed from the warehouse instead of being scanned again. Share = reused / received.
  - *needs review*: of the components digitised from their own scans (own document), those the
    digitizer flagged ``needs_review`` (its digitize step's output: the document's own flag is
    cleared once an officer looked at it). Rate = flagged / digitised from scans.
  - *corrected*: of the same, those with at least one officer correction (``corrections``).
  - *median time to a signed copy*: over the components with their own signed document (a document
    stored unsigned, ``signature_level`` empty, has no signed copy and is left out), the median of
    ``documents.signed_at - dossiers.created_at`` (whole seconds; reused components are left out:
    their copy was signed before the dossier came).

* **Results** (kết quả giải quyết): the catalogue knows only the results issued through it
  (``eresults``), not results handed out on paper nor a dossier's outcome. So the *result
  digitisation rate* is, over the dossiers with a result issued in the period
  (``eresults.created_at``; grouped by that day/month): dossiers with at least one e-result signed
  and stored (``done``) / dossiers with any e-result issued (a failed or unfinished one counts in the
  denominator only). A dossier with results on two days counts on both days, once in the total.

* **Signed digitally**: (components with a digitally signed copy — own document or reused — plus
  e-results signed and stored) / (components received plus e-results issued).

The total is computed by its own queries (distinct dossiers and medians do not add up over groups).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Integer, and_, case, cast, extract, func, literal_column, select
from sqlalchemy.orm import Session

# A dossier's centre (own, else its station's, else the default centre): the workspace's rule, not a copy.
from dossiers.budgets import vietnam_day
from dossiers.workspace import _effective_centre as effective_centre
from signing.vntime import VN_TZ
from sohoa.errors import error
from storage.catalogue.completion_models import ComponentReuse
from storage.catalogue.db import Catalogue
from storage.catalogue.models import (
    ApiClient,
    Centre,
    Component,
    ComponentState,
    Correction,
    Document,
    Dossier,
    EResult,
    JobStep,
)

MAX_DAYS = 3 * 366 + 1  # the longest period one report covers
MAX_DAY_ROWS = 366  # grouped by day: at most a year

StatsPeriodInvalid = error(
    "STATS_PERIOD_INVALID",
    "Khoảng thời gian thống kê không hợp lệ: ngày bắt đầu phải trước ngày kết thúc, "
    "tối đa 3 năm (thống kê theo ngày: tối đa 1 năm).",
    "The statistics period is invalid: the start must not be after the end; at most 3 years "
    "(by day: at most one year).",
    http_status=422,
)
StatsGroupingInvalid = error(
    "STATS_GROUPING_INVALID",
    "Cách nhóm số liệu không hợp lệ (chọn: ngày, tháng, thủ tục, trung tâm hoặc tổng).",
    "Unknown grouping (day, month, procedure, centre or total).",
    http_status=422,
)


class GroupBy(StrEnum):
    TOTAL = "total"
    DAY = "day"
    MONTH = "month"
    PROCEDURE = "procedure"
    CENTRE = "centre"


GROUP_NAMES_VI = {
    GroupBy.TOTAL: "Tổng",
    GroupBy.DAY: "Ngày",
    GroupBy.MONTH: "Tháng",
    GroupBy.PROCEDURE: "Thủ tục",
    GroupBy.CENTRE: "Trung tâm",
}


def parse_group(value: str | None) -> GroupBy:
    try:
        return GroupBy(value or GroupBy.TOTAL)
    except ValueError:
        raise StatsGroupingInvalid(str(value)) from None


@dataclass(frozen=True)
class Period:
    """Inclusive calendar days in Vietnam time."""

    start: date
    end: date

    @classmethod
    def of(cls, start: date | None, end: date | None, by: GroupBy = GroupBy.TOTAL) -> Period:
        """A checked period; without dates, this month up to today (Vietnam time)."""
        today = vietnam_day()
        end = end or (today if start is None or start.replace(day=1) == today.replace(day=1) else _month_end(start))
        start = start or end.replace(day=1)
        days = (end - start).days + 1
        if days < 1 or days > MAX_DAYS or (by == GroupBy.DAY and days > MAX_DAY_ROWS):
            raise StatsPeriodInvalid(f"{start}..{end}")
        return cls(start, end)

    def bounds(self) -> tuple[datetime, datetime]:
        """``[from, to)`` in UTC: Vietnam's midnight of the first day to the midnight after the last."""
        first = datetime.combine(self.start, time(0), VN_TZ).astimezone(UTC)
        return first, datetime.combine(self.end + timedelta(days=1), time(0), VN_TZ).astimezone(UTC)

    def text_vi(self) -> str:
        return f"từ ngày {self.start:%d/%m/%Y} đến ngày {self.end:%d/%m/%Y}"


def _month_end(day: date) -> date:
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def group_vi(n: int) -> str:
    """``1939`` → ``1.939`` (Vietnamese thousands separator)."""
    return f"{n:,}".replace(",", ".")


@dataclass(frozen=True)
class Ratio:
    numerator: int
    denominator: int

    @property
    def rate(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    def percent(self) -> Decimal | None:
        """The percentage to two decimals, half up (1.939/1.940 → 99.95)."""
        if not self.denominator:
            return None
        value = Decimal(self.numerator) * 100 / Decimal(self.denominator)
        return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    def percent_vi(self) -> str:
        """``99,95 %``; ``—`` when nothing was counted."""
        pct = self.percent()
        return "—" if pct is None else f"{group_vi(int(pct))},{abs(pct) % 1 * 100:02.0f} %"

    def text_vi(self) -> str:
        """``1.939/1.940 = 99,95 %``."""
        return f"{group_vi(self.numerator)}/{group_vi(self.denominator)} = {self.percent_vi()}"

    def to_dict(self) -> dict[str, Any]:
        pct = self.percent()
        return {
            "numerator": self.numerator,
            "denominator": self.denominator,
            "rate": self.rate,
            "percent": float(pct) if pct is not None else None,
            "text": self.text_vi(),
        }


def duration_vi(seconds: float | None) -> str:
    """``1 ngày 02:05:30``, ``00:42:07``; ``—`` when there is nothing to measure."""
    if seconds is None:
        return "—"
    whole = int(Decimal(seconds).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    days, rest = divmod(whole, 86400)
    clock = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
    return f"{days} ngày {clock}" if days else clock


@dataclass
class Figures:
    """One group's counts (``key``: the day, month, procedure or centre code; ``""`` for the total)."""

    key: str
    label: str
    components_received: int = 0
    components_digitised: int = 0
    components_scanned: int = 0  # digitised from their own scans (own document)
    components_reused: int = 0
    components_signed: int = 0
    components_needs_review: int = 0
    components_corrected: int = 0
    result_dossiers: int = 0
    result_dossiers_issued: int = 0
    eresults: int = 0
    eresults_signed: int = 0
    median_seconds: float | None = None

    @property
    def intake(self) -> Ratio:
        return Ratio(self.components_digitised, self.components_received)

    @property
    def results(self) -> Ratio:
        return Ratio(self.result_dossiers_issued, self.result_dossiers)

    @property
    def signed(self) -> Ratio:
        return Ratio(self.components_signed + self.eresults_signed, self.components_received + self.eresults)

    @property
    def reused(self) -> Ratio:
        return Ratio(self.components_reused, self.components_received)

    @property
    def needs_review(self) -> Ratio:
        return Ratio(self.components_needs_review, self.components_scanned)

    @property
    def corrected(self) -> Ratio:
        return Ratio(self.components_corrected, self.components_scanned)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "intake_digitisation": self.intake.to_dict(),
            "result_digitisation": self.results.to_dict(),
            "signed_digitally": self.signed.to_dict(),
            "reused_from_warehouse": self.reused.to_dict(),
            "needs_review": self.needs_review.to_dict(),
            "corrected": self.corrected.to_dict(),
            "median_seconds_to_signed_copy": self.median_seconds,
            "median_to_signed_copy": duration_vi(self.median_seconds),
            "counts": {
                "components_received": self.components_received,
                "components_digitised": self.components_digitised,
                "components_scanned": self.components_scanned,
                "components_reused": self.components_reused,
                "components_signed": self.components_signed,
                "components_needs_review": self.components_needs_review,
                "components_corrected": self.components_corrected,
                "result_dossiers": self.result_dossiers,
                "result_dossiers_issued": self.result_dossiers_issued,
                "eresults": self.eresults,
                "eresults_signed": self.eresults_signed,
            },
        }


@dataclass
class Report:
    period: Period
    by: GroupBy
    centre_code: str | None  # None: every centre
    centre_name: str
    rows: list[Figures] = field(default_factory=list)
    total: Figures = field(default_factory=lambda: Figures("", "Tổng cộng"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": {"from": self.period.start.isoformat(), "to": self.period.end.isoformat()},
            "by": self.by.value,
            "centre": {"code": self.centre_code, "name": self.centre_name} if self.centre_code else None,
            "rows": [r.to_dict() for r in self.rows],
            "total": self.total.to_dict(),
        }


# -- the queries ------------------------------------------------------------------------------------------


def _vn_string(dialect: str, column: Any, by: GroupBy) -> Any:
    """The Vietnam day (``YYYY-MM-DD``) or month (``YYYY-MM``) of a UTC timestamp column, in SQL."""
    # Literals, not bound parameters: PostgreSQL matches a grouped expression only when its text is the same.
    if dialect == "sqlite":
        fmt = "'%Y-%m-%d'" if by == GroupBy.DAY else "'%Y-%m'"
        return func.strftime(literal_column(fmt), column, literal_column("'+7 hours'"))
    local = column.op("AT TIME ZONE")(literal_column("'UTC'")) + literal_column("INTERVAL '7 hours'")
    return func.to_char(local, literal_column("'YYYY-MM-DD'" if by == GroupBy.DAY else "'YYYY-MM'"))


def _epoch(dialect: str, column: Any) -> Any:
    """Whole seconds since 1970 (fractions dropped), the same integer on both backends."""
    if dialect == "sqlite":
        return cast(func.strftime(literal_column("'%s'"), column), Integer)
    return cast(func.floor(extract("epoch", column)), Integer)


def _key(dialect: str, by: GroupBy, when: Any, centre: Any) -> Any | None:
    if by in (GroupBy.DAY, GroupBy.MONTH):
        return _vn_string(dialect, when, by)
    if by == GroupBy.PROCEDURE:
        return Dossier.procedure_code
    if by == GroupBy.CENTRE:
        return centre
    return None


def _count_if(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _component_rows(s: Session, dialect: str, by: GroupBy, scope: Scope) -> dict[Any, list[int]]:
    centre = effective_centre()
    key = _key(dialect, by, Dossier.created_at, centre)
    corrected = select(Correction.component_id).distinct().subquery()
    digitize = (
        select(JobStep.component_id, JobStep.output["needs_review"].as_boolean().label("flag"))
        .where(JobStep.kind == "digitize")
        .subquery()
    )
    own = Document.id.is_not(None)
    stmt = (
        select(
            key if key is not None else literal_column("''"),
            func.count(Component.id),
            _count_if(Component.state == ComponentState.DONE),
            _count_if(own),
            _count_if(ComponentReuse.id.is_not(None)),
            _count_if(and_(own, Document.signature_level != "") | ComponentReuse.id.is_not(None)),
            _count_if(and_(own, digitize.c.flag)),
            _count_if(and_(own, corrected.c.component_id.is_not(None))),
        )
        .select_from(Component)
        .join(Dossier, Dossier.id == Component.dossier_id)
        .outerjoin(ApiClient, ApiClient.id == Dossier.station_id)
        .outerjoin(Document, Document.component_id == Component.id)
        .outerjoin(ComponentReuse, ComponentReuse.component_id == Component.id)
        .outerjoin(corrected, corrected.c.component_id == Component.id)
        .outerjoin(digitize, digitize.c.component_id == Component.id)
        .where(Dossier.created_at >= scope.start, Dossier.created_at < scope.end)
    )
    if scope.centre_id is not None:
        stmt = stmt.where(centre == scope.centre_id)
    if key is not None:
        stmt = stmt.group_by(key)
    return {row[0]: [int(v or 0) for v in row[1:]] for row in s.execute(stmt)}


def _result_rows(s: Session, dialect: str, by: GroupBy, scope: Scope) -> dict[Any, list[int]]:
    centre = effective_centre()
    key = _key(dialect, by, EResult.created_at, centre)
    done = EResult.state == ComponentState.DONE
    stmt = (
        select(
            key if key is not None else literal_column("''"),
            func.count(func.distinct(EResult.dossier_id)),
            func.count(func.distinct(case((done, EResult.dossier_id), else_=None))),
            func.count(EResult.id),
            _count_if(and_(done, EResult.signed_at.is_not(None))),
        )
        .select_from(EResult)
        .join(Dossier, Dossier.id == EResult.dossier_id)
        .outerjoin(ApiClient, ApiClient.id == Dossier.station_id)
        .where(EResult.created_at >= scope.start, EResult.created_at < scope.end)
    )
    if scope.centre_id is not None:
        stmt = stmt.where(centre == scope.centre_id)
    if key is not None:
        stmt = stmt.group_by(key)
    return {row[0]: [int(v or 0) for v in row[1:]] for row in s.execute(stmt)}


def _medians(s: Session, dialect: str, by: GroupBy, scope: Scope) -> dict[Any, float]:
    """Per group, the median of whole seconds from receipt to signature, with window functions
    (SQLite has no percentile function): the middle row, or the mean of the two middle rows."""
    centre = effective_centre()
    key = _key(dialect, by, Dossier.created_at, centre)
    seconds = _epoch(dialect, Document.signed_at) - _epoch(dialect, Dossier.created_at)
    partition = {"partition_by": key} if key is not None else {}
    inner = (
        select(
            (key if key is not None else literal_column("''")).label("k"),
            seconds.label("secs"),
            func.row_number().over(order_by=seconds, **partition).label("rn"),
            func.count().over(**partition).label("n"),
        )
        .select_from(Component)
        .join(Dossier, Dossier.id == Component.dossier_id)
        .outerjoin(ApiClient, ApiClient.id == Dossier.station_id)
        .join(Document, Document.component_id == Component.id)
        .where(Dossier.created_at >= scope.start, Dossier.created_at < scope.end)
        .where(Document.signature_level != "")  # stored unsigned: no signed copy (as components_signed)
    )
    if scope.centre_id is not None:
        inner = inner.where(centre == scope.centre_id)
    ranked = inner.subquery()
    middle = ranked.c.rn.in_([(ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2])
    stmt = select(ranked.c.k, func.avg(ranked.c.secs)).where(middle).group_by(ranked.c.k)
    return {row[0]: float(row[1]) for row in s.execute(stmt) if row[1] is not None}


@dataclass(frozen=True)
class Scope:
    start: datetime
    end: datetime
    centre_id: int | None  # None: every centre


def _fill(fig: Figures, comps: list[int] | None, results: list[int] | None, median: float | None) -> Figures:
    if comps:
        (
            fig.components_received,
            fig.components_digitised,
            fig.components_scanned,
            fig.components_reused,
            fig.components_signed,
            fig.components_needs_review,
            fig.components_corrected,
        ) = comps
    if results:
        fig.result_dossiers, fig.result_dossiers_issued, fig.eresults, fig.eresults_signed = results
    fig.median_seconds = median
    return fig


def compute(s: Session, period: Period, by: GroupBy, centre_id: int | None = None) -> tuple[list[Figures], Figures]:
    """The period's figures, one row per group (none for ``total``), and the total (module doc)."""
    dialect = s.get_bind().dialect.name
    scope = Scope(*period.bounds(), centre_id)

    def figures(group: GroupBy) -> dict[Any, Figures]:
        comps = _component_rows(s, dialect, group, scope)
        results = _result_rows(s, dialect, group, scope)
        medians = _medians(s, dialect, group, scope)
        return {
            k: _fill(Figures(_as_key(k), _as_key(k)), comps.get(k), results.get(k), medians.get(k))
            for k in sorted(set(comps) | set(results), key=lambda k: (k is None, str(k)))
        }

    total = figures(GroupBy.TOTAL).get("") or Figures("", "")
    total.key, total.label = "", "Tổng cộng"
    if by == GroupBy.TOTAL:
        return [], total
    rows = list(figures(by).values())
    if by == GroupBy.CENTRE:
        _name_centres(s, rows)
    return rows, total


def _as_key(value: Any) -> str:
    return "" if value is None else str(value)


def _name_centres(s: Session, rows: list[Figures]) -> None:
    ids = [int(r.key) for r in rows if r.key]
    names = {
        cid: (code, name)
        for cid, code, name in s.execute(select(Centre.id, Centre.code, Centre.name).where(Centre.id.in_(ids)))
    }
    for row in rows:
        code, name = names.get(int(row.key), ("", "")) if row.key else ("", "")
        row.key, row.label = code or "", f"{name} ({code})" if code else "Chưa gán trung tâm"
    rows.sort(key=lambda r: r.key)


def centre_of_code(catalogue: Catalogue, code: str) -> tuple[int, str] | None:
    """The id and name of the centre with this code."""
    with catalogue.reading() as s:
        row = s.execute(select(Centre.id, Centre.name).where(Centre.code == code)).first()
    return (int(row[0]), str(row[1])) if row is not None else None


def report(
    catalogue: Catalogue,
    period: Period,
    by: GroupBy = GroupBy.TOTAL,
    centre: tuple[int, str, str] | None = None,
) -> Report:
    """The report of ``centre`` (id, code, name; None: every centre of the deployment) for ``period``."""
    with catalogue.reading() as s:
        rows, total = compute(s, period, by, centre[0] if centre else None)
    if by == GroupBy.MONTH:
        for row in rows:
            year, month = row.key.split("-")
            row.label = f"Tháng {int(month):02d}/{year}"
    elif by == GroupBy.DAY:
        for row in rows:
            row.label = date.fromisoformat(row.key).strftime("%d/%m/%Y")
    name = centre[2] if centre else "Toàn hệ thống"
    return Report(period, by, centre[1] if centre else None, name, rows, total)
