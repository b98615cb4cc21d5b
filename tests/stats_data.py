"""Known dossiers for the statistics tests (``dossiers.statistics``), written straight into the catalogue.

Two centres (BD, HK), two procedures (A, B), January and February 2026 (Vietnam time), and one dossier
in March (outside the period). Each component's state, own document (signed N seconds after the
dossier was received), digitizer flag, reuse and corrections are listed below; ``EXPECTED`` holds the
figures they make, worked out by hand (module doc of ``dossiers.statistics``).

Time-zone edges: D2 is received at 23:30 on 31 January (Vietnam) and counts in January; D3 at 00:30 on
1 February (Vietnam), which is still 31 January in UTC, and counts in February.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from signing.vntime import VN_TZ
from storage.catalogue.completion_models import ComponentReuse
from storage.catalogue.db import Catalogue
from storage.catalogue.models import (
    ApiClient,
    ClientRole,
    Component,
    ComponentState,
    Correction,
    Document,
    Dossier,
    EResult,
    JobStep,
    OfficerRole,
    StepState,
)
from storage.catalogue.officers import create_centre, create_officer

A, B = "1.001193", "2.000001"
_seq = itertools.count(1)


def vn(text: str) -> datetime:
    """``2026-01-31 23:30`` in Vietnam time, as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=VN_TZ)


@dataclass
class C:
    """A component: its state, seconds from receipt to signature (None: no own document), flags."""

    state: str
    signed_after: int | None = None
    flagged: bool | None = None  # the digitize step's needs_review (None: no digitize step)
    corrected: bool = False
    reused_from: str | None = None  # "D1/0": the document of that dossier's component


@dataclass
class R:
    state: str
    at: str  # Vietnam time


@dataclass
class D:
    name: str
    centre: str | None  # None: no centre of its own (its station's)
    procedure: str
    received: str  # Vietnam time
    components: list[C]
    results: list[R] = field(default_factory=list)
    station_centre: str | None = None


DONE, FAILED, AWAITING, PENDING = (
    ComponentState.DONE,
    ComponentState.FAILED,
    ComponentState.AWAITING,
    ComponentState.PENDING,
)

DOSSIERS = [
    D("D1", "BD", A, "2026-01-15 09:00", [
        C(DONE, 600, False), C(DONE, 1800, True, corrected=True), C(FAILED),
    ], [R(DONE, "2026-01-16 10:00")]),
    D("D2", "BD", B, "2026-01-31 23:30", [
        C(DONE, 3600, False, corrected=True), C(DONE, reused_from="D1/0"),
    ], [R(FAILED, "2026-02-01 08:00")]),
    D("D3", "BD", A, "2026-02-01 00:30", [
        C(AWAITING, None, True, corrected=True), C(DONE, 7200, True), C(PENDING),
    ], [R(DONE, "2026-02-03 09:00"), R(PENDING, "2026-02-03 09:05")]),
    D("D4", "HK", A, "2026-01-20 10:00", [
        C(DONE, 300, False), C(DONE, 900, False, corrected=True),
    ], [R(DONE, "2026-01-20 15:00")]),
    D("D5", "BD", A, "2026-03-01 08:00", [C(DONE, 60, True, corrected=True)], [R(DONE, "2026-03-02 08:00")]),
    D("D6", None, B, "2026-02-10 12:00", [C(DONE, 120, False)], station_centre="HK"),
]  # fmt: skip

# (received, digitised, scanned, reused, signed, needs_review, corrected,
#  result dossiers, issued, e-results, e-results signed, median seconds)
EXPECTED: dict[str, dict[str, tuple[int | float | None, ...]]] = {
    "total": {"": (11, 8, 7, 1, 8, 2, 3, 4, 3, 5, 3, 900.0)},
    "centre": {
        "BD": (8, 5, 4, 1, 5, 2, 2, 3, 2, 4, 2, 2700.0),
        "HK": (3, 3, 3, 0, 3, 0, 1, 1, 1, 1, 1, 300.0),
    },
    "month": {
        "2026-01": (7, 6, 5, 1, 6, 1, 3, 2, 2, 2, 2, 900.0),
        "2026-02": (4, 2, 2, 0, 2, 1, 0, 2, 1, 3, 1, 3660.0),
    },
    "procedure": {
        A: (8, 5, 5, 0, 5, 2, 2, 3, 3, 4, 3, 900.0),
        B: (3, 3, 2, 1, 3, 0, 1, 1, 0, 1, 0, 1860.0),
    },
    "day": {
        "2026-01-15": (3, 2, 2, 0, 2, 1, 1, 0, 0, 0, 0, 1200.0),
        "2026-01-16": (0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, None),
        "2026-01-20": (2, 2, 2, 0, 2, 0, 1, 1, 1, 1, 1, 600.0),
        "2026-01-31": (2, 2, 1, 1, 2, 0, 1, 0, 0, 0, 0, 3600.0),
        "2026-02-01": (3, 1, 1, 0, 1, 1, 0, 1, 0, 1, 0, 7200.0),
        "2026-02-03": (0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 1, None),
        "2026-02-10": (1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 120.0),
    },
}
# Centre BD only, by month.
EXPECTED_BD_MONTH = {
    "2026-01": (5, 4, 3, 1, 4, 1, 2, 1, 1, 1, 1, 1800.0),
    "2026-02": (3, 1, 1, 0, 1, 1, 0, 2, 1, 3, 1, 7200.0),
}
PERIOD = ("2026-01-01", "2026-02-28")
CENTRE_NAMES = {"BD": "UBND phường Ba Đình", "HK": "UBND phường Hoàn Kiếm"}


def seed(catalogue: Catalogue) -> dict[str, int]:
    """Write the dossiers above; the centres' ids by code (made when missing)."""
    from storage.catalogue.models import Centre

    centres: dict[str, int] = {}
    for code, name in CENTRE_NAMES.items():
        with catalogue.reading() as s:
            found = s.scalar(select(Centre.id).where(Centre.code == code))
        centres[code] = found if found is not None else create_centre(catalogue, code, name)
    n = next(_seq)
    officer_id = create_officer(catalogue, f"thong.ke{n}", "Cán bộ thống kê", OfficerRole.RECEIVING, centres["BD"])
    documents: dict[str, int] = {}
    with catalogue.session() as s:
        station = ApiClient(
            name="station HK", role=ClientRole.STATION, key_prefix=f"st{n}", key_hash="0" * 64,
            centre_id=centres["HK"],
        )  # fmt: skip
        s.add(station)
        s.flush()
        for d in DOSSIERS:
            received = vn(d.received)
            dossier = Dossier(
                code=f"000.00.12.H26-{n:03d}-{d.name}",
                procedure_code=d.procedure,
                applicant_id="001203004567",
                centre_id=centres[d.centre] if d.centre else None,
                station_id=station.id if d.station_centre else None,
                batch_sha256=hashlib.sha256(f"{n}{d.name}".encode()).hexdigest(),
                created_at=received,
            )
            s.add(dossier)
            s.flush()
            for pos, c in enumerate(d.components):
                comp = Component(dossier_id=dossier.id, ref=f"c{pos}", position=pos, name="Giấy tờ", state=c.state)
                s.add(comp)
                s.flush()
                if c.flagged is not None:
                    s.add(JobStep(
                        kind="digitize", queue="ocr", component_id=comp.id, state=StepState.DONE,
                        output={"needs_review": c.flagged, "type": "birth_certificate"},
                    ))  # fmt: skip
                if c.signed_after is not None:
                    sha = hashlib.sha256(f"{dossier.code}/{pos}".encode()).hexdigest()
                    doc = Document(
                        component_id=comp.id, owner_id=dossier.applicant_id, doc_type="birth_certificate",
                        type_confidence=0.9, needs_review=False, page_count=1, sha256=sha, size=1,
                        object_key=f"sha256/{sha[:2]}/{sha}.pdf", signed_by="Cán bộ số hóa",
                        signed_at=received + timedelta(seconds=c.signed_after, microseconds=250000),
                        signature_level="B-T",
                    )  # fmt: skip
                    s.add(doc)
                    s.flush()
                    documents[f"{d.name}/{pos}"] = doc.id
                if c.reused_from:
                    s.add(ComponentReuse(component_id=comp.id, document_id=documents[c.reused_from], actor="test"))
                if c.corrected:
                    for path in ("type", "fields.ho_ten"):  # two corrections: still one corrected component
                        s.add(Correction(component_id=comp.id, officer_id=officer_id, path=path, before=1, after=2))
            for seq, r in enumerate(d.results, start=1):
                at = vn(r.at).astimezone(UTC)
                s.add(EResult(
                    dossier_id=dossier.id, seq=seq, code=f"{dossier.code}-KQ{seq}", level="B-LT", state=r.state,
                    source_sha256="0" * 64, source_key="k", created_at=at,
                    signed_at=at + timedelta(minutes=1) if r.state == DONE else None,
                ))  # fmt: skip
    return centres


def as_tuple(row: dict[str, Any]) -> tuple[int | float | None, ...]:
    """A row of the JSON report in the order of ``EXPECTED``."""
    c = row["counts"]
    return (
        c["components_received"], c["components_digitised"], c["components_scanned"], c["components_reused"],
        c["components_signed"], c["components_needs_review"], c["components_corrected"],
        c["result_dossiers"], c["result_dossiers_issued"], c["eresults"], c["eresults_signed"],
        row["median_seconds_to_signed_copy"],
    )  # fmt: skip
