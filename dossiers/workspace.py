"""Read models of the officers' review workspace: dossiers by state, the queue of components, one component.

An officer sees only their centre's dossiers: a dossier's centre is its own (``dossiers.centre_id``),
else its station's (``api_clients.centre_id``), else the default centre (made from the settings, for
dossiers received before centres existed). Anything else answers as if it did not exist.

What the digitizer read is kept with the component's digitize step (the document row exists only
once the copy is stored); officers' corrections (``dossiers.corrections``) are laid over it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.orm import Session

from digitizer.review import describe, type_name
from dossiers.review_errors import ComponentNotFound
from dossiers.signer_keys import DEFAULT_CENTRE_CODE
from storage.catalogue.models import (
    ApiClient,
    Centre,
    Component,
    ComponentState,
    Correction,
    Document,
    Dossier,
    JobStep,
    StepState,
)

PAGE_SIZE = 50
# Components read for one queue page, oldest first (sorted in memory: needs_review lives in the step output);
# past this many in one state, the newest wait for the oldest to be worked off.
QUEUE_LIMIT = 2000
DOSSIER_STATES = ("awaiting", "processing", "done", "partial", "failed")
COMPONENT_STATES = tuple(s.value for s in ComponentState)


def _effective_centre() -> ColumnElement[Any]:
    default = select(Centre.id).where(Centre.code == DEFAULT_CENTRE_CODE).scalar_subquery()
    return func.coalesce(Dossier.centre_id, ApiClient.centre_id, default)


def effective_centre_id(session: Session, dossier: Dossier) -> int | None:
    """The centre a dossier belongs to, as ``scoped`` decides it: its own, else its station's, else the
    default centre (dossiers from before centres). What an audit entry about the dossier records."""
    if dossier.centre_id is not None:
        return dossier.centre_id
    if dossier.station_id is not None:
        station_centre = session.scalar(select(ApiClient.centre_id).where(ApiClient.id == dossier.station_id))
        if station_centre is not None:
            return station_centre
    return session.scalar(select(Centre.id).where(Centre.code == DEFAULT_CENTRE_CODE))


def scoped(stmt: Any, centre_id: int) -> Any:
    """``stmt`` (which selects from dossiers) limited to the dossiers of this centre."""
    return stmt.outerjoin(ApiClient, ApiClient.id == Dossier.station_id).where(_effective_centre() == centre_id)


def load_component(session: Session, component_id: int, centre_id: int) -> Component:
    """The component if it belongs to one of the centre's dossiers; ComponentNotFound otherwise (no IDOR)."""
    comp = session.scalar(
        scoped(select(Component).join(Dossier, Dossier.id == Component.dossier_id), centre_id).where(
            Component.id == component_id
        )
    )
    if comp is None:
        raise ComponentNotFound(str(component_id))
    return comp


def digitize_output(session: Session, component_id: int) -> dict[str, Any] | None:
    """The component's digitize step output (type, fields, parties, warnings, pages, text), None before."""
    output = session.scalar(
        select(JobStep.output).where(
            JobStep.kind == "digitize", JobStep.state == StepState.DONE, JobStep.component_id == component_id
        )
    )
    return dict(output) if output else None


def corrections_of(session: Session, component_id: int) -> list[Correction]:
    return list(
        session.scalars(select(Correction).where(Correction.component_id == component_id).order_by(Correction.id))
    )


# -- dossiers -----------------------------------------------------------------------------------


def _counts() -> Any:
    """Per dossier: how many of its components are in each state."""

    def count(*states: ComponentState) -> ColumnElement[Any]:
        return func.sum(case((Component.state.in_([s.value for s in states]), 1), else_=0))

    return (
        select(
            Component.dossier_id.label("dossier_id"),
            func.count(Component.id).label("total"),
            count(ComponentState.AWAITING).label("awaiting"),
            count(ComponentState.PENDING, ComponentState.PROCESSING).label("active"),
            count(ComponentState.DONE).label("done"),
            count(ComponentState.FAILED).label("failed"),
        )
        .group_by(Component.dossier_id)
        .subquery()
    )


def list_dossiers(
    session: Session, centre_id: int, *, state: str | None = None, q: str | None = None, page: int = 1
) -> dict[str, Any]:
    """One page (``PAGE_SIZE``) of the centre's dossiers, newest first, with their state and counts."""
    counts = _counts()
    # Awaiting an officer first (it is what they act on), then still processing, then how it ended.
    state_col = case(
        (counts.c.awaiting > 0, "awaiting"),
        (counts.c.active > 0, "processing"),
        (counts.c.failed == 0, "done"),
        (counts.c.done == 0, "failed"),
        else_="partial",
    ).label("state")
    stmt = scoped(
        select(
            Dossier,
            state_col,
            counts.c.total,
            counts.c.awaiting,
            counts.c.done,
            counts.c.failed,
        ).join(counts, counts.c.dossier_id == Dossier.id),
        centre_id,
    )
    if state:
        stmt = stmt.where(state_col == state)
    if q:
        term = q.strip()[:100]
        stmt = stmt.where(
            or_(
                *(
                    col.icontains(term, autoescape=True)
                    for col in (Dossier.code, Dossier.applicant_name, Dossier.applicant_id)
                )
            )
        )
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = max(1, page)
    rows = session.execute(
        stmt.order_by(Dossier.created_at.desc(), Dossier.id.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    items = [
        {
            "code": d.code,
            "procedure_code": d.procedure_code,
            "applicant_name": d.applicant_name,
            "applicant_id": d.applicant_id,
            "received_at": d.created_at.isoformat(),
            "state": st,
            "components": {"total": int(n), "awaiting": int(aw or 0), "done": int(dn or 0), "failed": int(fl or 0)},
        }
        for d, st, n, aw, dn, fl in rows
    ]
    return {"page": page, "page_size": PAGE_SIZE, "total": int(total), "items": items}


# -- the queue ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueItem:
    component_id: int
    ref: str
    name: str
    state: str
    dossier_code: str
    applicant_name: str
    received_at: datetime
    doc_type: str | None
    confidence: float | None
    needs_review: bool
    reasons: list[dict[str, str]]
    corrected: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.component_id,
            "ref": self.ref,
            "name": self.name,
            "state": self.state,
            "dossier_code": self.dossier_code,
            "applicant_name": self.applicant_name,
            "received_at": self.received_at.isoformat(),
            "type": self.doc_type,
            "type_name": type_name(self.doc_type) if self.doc_type else None,
            "confidence": self.confidence,
            "needs_review": self.needs_review,
            "reasons": self.reasons,
            "corrected": self.corrected,
            "url": f"/api/v1/workspace/components/{self.component_id}",
        }


def _needs_review(comp: Component, doc_needs: bool | None, step_needs: Any) -> bool:
    if comp.confirmed_at is not None:
        return False
    if doc_needs is not None:
        return bool(doc_needs)
    return bool(step_needs)


def queue(
    session: Session, centre_id: int, *, state: str | None = "awaiting", needs_review: bool | None = None, page: int = 1
) -> dict[str, Any]:
    """The centre's components, those needing review first, then the oldest; with why each needs it."""
    stmt = scoped(
        select(Component, Dossier.code, Dossier.applicant_name, Dossier.created_at, Document.needs_review).join(
            Dossier, Dossier.id == Component.dossier_id
        ),
        centre_id,
    ).outerjoin(Document, Document.component_id == Component.id)
    if state:
        stmt = stmt.where(Component.state == state)
    rows = session.execute(stmt.order_by(Dossier.created_at, Component.id).limit(QUEUE_LIMIT)).all()
    ids = [r[0].id for r in rows]
    outputs: dict[int, tuple[Any, ...]] = {}
    corrected: set[int] = set()
    type_fixes: dict[int, Any] = {}
    if ids:
        for cid, *small in session.execute(
            select(
                JobStep.component_id,
                JobStep.output["type"],
                JobStep.output["confidence"],
                JobStep.output["needs_review"],
                JobStep.output["warnings"],
            ).where(JobStep.kind == "digitize", JobStep.state == StepState.DONE, JobStep.component_id.in_(ids))
        ):
            outputs[cid] = tuple(small)
        corrected = set(
            session.scalars(select(Correction.component_id).where(Correction.component_id.in_(ids)).distinct())
        )
        type_fixes = dict(
            session.execute(
                select(Correction.component_id, Correction.after)
                .where(Correction.component_id.in_(ids), Correction.path == "type")
                .order_by(Correction.id)
            ).all()
        )
    items = []
    for comp, code, applicant_name, received, doc_needs in rows:
        doc_type, confidence, step_needs, warnings = outputs.get(comp.id, (None, None, None, None))
        review = _needs_review(comp, doc_needs, step_needs)
        if needs_review is not None and review != needs_review:
            continue
        items.append(
            QueueItem(
                comp.id,
                comp.ref,
                comp.name,
                comp.state,
                code,
                applicant_name,
                received,
                type_fixes.get(comp.id, doc_type),
                round(float(confidence), 3) if confidence is not None else None,
                review,
                describe(warnings or []) if review else [],
                comp.id in corrected,
            )
        )
    items.sort(key=lambda i: (not i.needs_review, i.received_at, i.component_id))
    page = max(1, page)
    chosen = items[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return {"page": page, "page_size": PAGE_SIZE, "total": len(items), "items": [i.as_dict() for i in chosen]}


# -- one component ------------------------------------------------------------------------------


def component_view(session: Session, component_id: int, centre_id: int) -> dict[str, Any]:
    """Everything the workspace shows of a component: OCR text per page, type, guess, fields, parties,
    why it needs review, page image URLs, and the corrections made so far (already laid over)."""
    from dossiers.corrections import effective

    comp = load_component(session, component_id, centre_id)
    dossier = comp.dossier
    output = digitize_output(session, comp.id)
    doc = session.scalar(select(Document).where(Document.component_id == comp.id))
    corrections = corrections_of(session, comp.id)
    base = f"/api/v1/workspace/components/{comp.id}"
    view: dict[str, Any] = {
        "id": comp.id,
        "ref": comp.ref,
        "name": comp.name,
        "declared_type": comp.declared_type,
        "state": comp.state,
        "dossier": {
            "code": dossier.code,
            "procedure_code": dossier.procedure_code,
            "applicant_name": dossier.applicant_name,
            "applicant_id": dossier.applicant_id,
            "received_at": dossier.created_at.isoformat(),
        },
        "digitised": output is not None,
        "confirmed_by": comp.confirmed_by,
        "confirmed_at": comp.confirmed_at.isoformat() if comp.confirmed_at else None,
        "document_id": doc.id if doc else None,
        "corrections": [
            {
                "path": c.path,
                "before": c.before,
                "after": c.after,
                "officer_id": c.officer_id,
                "at": c.at.isoformat(),
            }
            for c in corrections
        ],
    }
    if output is None:
        return view | {"pages": [], "type": None, "needs_review": False, "reasons": []}
    current = effective(output, corrections)
    texts = str(output.get("text") or "").split("\f")
    pages = output.get("pages") or [{} for _ in texts]
    review = _needs_review(comp, doc.needs_review if doc else None, output.get("needs_review"))
    return view | {
        "type": current["type"],
        "type_name": type_name(current["type"]),
        "confidence": output.get("confidence"),
        "guess": output.get("guess") or {"type": output.get("type"), "confidence": output.get("confidence")},
        "needs_review": review,
        "reasons": describe(output.get("warnings") or []),
        "fields": current["fields"],
        "parties": current["parties"],
        "pages": [
            {
                "number": n,
                "text": texts[n - 1] if n - 1 < len(texts) else "",
                "confidence": (pages[n - 1] or {}).get("confidence") if n - 1 < len(pages) else None,
                "image_url": f"{base}/pages/{n}.png",
            }
            for n in range(1, max(len(pages), len(texts)) + 1)
        ],
    }


# -- one dossier ----------------------------------------------------------------------------------


def dossier_view(session: Session, code: str, centre_id: int) -> dict[str, Any]:
    """A dossier of the centre as its detail page shows it: each component's state, error and why it needs
    review, the stored document or the document it reuses, and the results issued. NOT_FOUND for another
    centre's dossier, as for none (no IDOR)."""
    from dossiers.completion import reused_view
    from sohoa.errors import NotFound
    from storage.catalogue.models import EResult

    dossier = session.scalar(scoped(select(Dossier), centre_id).where(Dossier.code == code))
    if dossier is None:
        raise NotFound(f"dossier {code}")
    comps = list(
        session.scalars(select(Component).where(Component.dossier_id == dossier.id).order_by(Component.position))
    )
    ids = [c.id for c in comps]
    warnings: dict[int, Any] = dict(
        session.execute(
            select(JobStep.component_id, JobStep.output["warnings"]).where(
                JobStep.kind == "digitize", JobStep.state == StepState.DONE, JobStep.component_id.in_(ids or [-1])
            )
        ).all()
    )
    docs = dict(
        session.execute(select(Document.component_id, Document.id).where(Document.component_id.in_(ids or [-1]))).all()
    )
    components = [
        {
            "id": c.id,
            "ref": c.ref,
            "name": c.name,
            "declared_type": c.declared_type,
            "state": str(c.state),
            "error": {"code": c.error_code, "message": c.error_message} if c.error_code else None,
            "reasons": describe(warnings.get(c.id) or []),
            "document_id": docs.get(c.id),
            "reused_from": reused_view(session, c.id),
            "pages": c.page_count,
        }
        for c in comps
    ]
    results = [
        {
            "code": r.code,
            "title": r.title,
            "state": str(r.state),
            "signed_at": r.signed_at.isoformat() if r.signed_at else None,
        }
        for r in session.scalars(select(EResult).where(EResult.dossier_id == dossier.id).order_by(EResult.seq))
    ]
    return {
        "id": dossier.id,
        "code": dossier.code,
        "procedure_code": dossier.procedure_code,
        "applicant_name": dossier.applicant_name,
        "applicant_id": dossier.applicant_id,
        "received_at": dossier.created_at.isoformat(),
        "station_id": dossier.station_id,
        "components": components,
        "results": results,
    }
