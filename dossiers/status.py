"""Read model of a dossier's progress, shared by the API, its progress events and the CLI."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from digitizer.review import describe
from storage.catalogue.completion_models import ComponentReuse
from storage.catalogue.models import Component, ComponentState, Document, Dossier, JobStep, StepState

TERMINAL = (ComponentState.DONE, ComponentState.FAILED)


def _error(code: str | None, message: str | None) -> dict[str, str] | None:
    return {"code": code, "message": message or ""} if code else None


def _components(session: Session, dossier: Dossier) -> list[Component]:
    """The dossier's components with their documents in two statements (not one more per component),
    the documents without their OCR text, which a status never shows."""
    stmt = (
        select(Component)
        .where(Component.dossier_id == dossier.id)
        .order_by(Component.position)
        .options(selectinload(Component.document).defer(Document.text).defer(Document.folded_text))
    )
    return list(session.scalars(stmt))


def _reviews(session: Session, components: list[Component]) -> dict[int, dict[str, Any]]:
    """What each digitised component's officer must check, from its digitize step's output (kept with the
    step: the document row has no place for it). Only the small keys are read, not the OCR text."""
    ids = [c.id for c in components]
    if not ids:
        return {}
    rows = session.execute(
        select(
            JobStep.component_id,
            JobStep.output["needs_review"],
            JobStep.output["warnings"],
            JobStep.output["guess"],
            JobStep.output["type"],
            JobStep.output["confidence"],
        ).where(JobStep.kind == "digitize", JobStep.state == StepState.DONE, JobStep.component_id.in_(ids))
    )
    out: dict[int, dict[str, Any]] = {}
    for component_id, needs_review, warnings, guess, doc_type, confidence in rows:
        if component_id is None:
            continue
        out[component_id] = {
            "needs_review": bool(needs_review),
            "warnings": describe(warnings or []),
            "guess": guess or {"type": doc_type, "confidence": confidence},
        }
    return out


def _reuses(session: Session, components: list[Component]) -> dict[int, dict[str, Any]]:
    """Components completed by a stored document (``dossiers.completion``): the document and its dossier.
    One statement, only when some component is done without a document of its own."""
    ids = [c.id for c in components if c.state == ComponentState.DONE and c.document is None]
    if not ids:
        return {}
    rows = session.execute(
        select(ComponentReuse.component_id, ComponentReuse.document_id, Document.dossier_code, Document.doc_type)
        .join(Document, Document.id == ComponentReuse.document_id)
        .where(ComponentReuse.component_id.in_(ids))
    )
    return {cid: {"document_id": doc_id, "dossier_code": code, "doc_type": kind} for cid, doc_id, code, kind in rows}


def dossier_status(session: Session, dossier: Dossier, *, sources: bool = True) -> dict[str, Any]:
    """A dossier's progress; each component carries ``review`` (needs_review, its warnings with their
    Vietnamese sentences, the classifier's best guess) once it is digitised, None before, and
    ``reused_from`` (document id, its dossier code and type) when a stored document completed it.

    ``sources``: whether ``reused_from`` names the dossier the document came from (an officer's view;
    a station is never told another centre's dossier code, as at intake, ``dossiers.reuse``)."""
    components = _components(session, dossier)
    reviews = _reviews(session, components)
    reuses = _reuses(session, components)
    if not sources:
        reuses = {cid: {k: v for k, v in view.items() if k != "dossier_code"} for cid, view in reuses.items()}
    comps = []
    for c in components:
        doc = c.document
        comps.append(
            {
                "ref": c.ref,
                "name": c.name,
                "declared_type": c.declared_type,
                "pages": c.page_count,
                "state": c.state,
                "error": _error(c.error_code, c.error_message),
                "review": reviews.get(c.id),
                "reused_from": reuses.get(c.id),
                "document": None
                if doc is None
                else {
                    "id": doc.id,
                    "type": doc.doc_type,
                    "confidence": round(doc.type_confidence, 3),
                    "needs_review": doc.needs_review,
                    "fields": doc.fields,
                    "sha256": doc.sha256,
                    "size": doc.size,
                    "signed_by": doc.signed_by,
                    "signed_at": doc.signed_at.isoformat(),
                    "signature_level": doc.signature_level,
                    "download_url": f"/api/v1/documents/{doc.id}/pdf",
                },
            }
        )
    results = [
        {
            "code": r.code,
            "title": r.title,
            "state": r.state,
            "level": r.level,
            "sha256": r.sha256,
            "error": _error(r.error_code, r.error_message),
            "download_url": f"/api/v1/results/{r.code}/pdf" if r.state == ComponentState.DONE else None,
        }
        for r in dossier.results
    ]
    done = sum(c["state"] == ComponentState.DONE for c in comps)
    failed = sum(c["state"] == ComponentState.FAILED for c in comps)
    total = len(comps)
    finished = done + failed == total and all(r["state"] in TERMINAL for r in results)
    state = "processing" if not finished else ("done" if failed == 0 else ("failed" if done == 0 else "partial"))
    return {
        "dossier_code": dossier.code,
        "procedure_code": dossier.procedure_code,
        "receiving_centre": dossier.receiving_centre,
        "received_at": dossier.created_at.isoformat(),
        "state": state,
        "progress": {"done": done, "failed": failed, "total": total},
        "components": comps,
        "results": results,
    }


def find_dossier(session: Session, code: str) -> Dossier | None:
    return session.scalar(select(Dossier).where(Dossier.code == code))
