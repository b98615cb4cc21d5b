"""Read model of a dossier's progress, shared by the API, its progress events and the CLI."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.catalogue.models import ComponentState, Dossier

TERMINAL = (ComponentState.DONE, ComponentState.FAILED)


def _error(code: str | None, message: str | None) -> dict[str, str] | None:
    return {"code": code, "message": message or ""} if code else None


def dossier_status(session: Session, dossier: Dossier) -> dict[str, Any]:
    comps = []
    for c in dossier.components:
        doc = c.document
        comps.append(
            {
                "ref": c.ref,
                "name": c.name,
                "declared_type": c.declared_type,
                "pages": c.page_count,
                "state": c.state,
                "error": _error(c.error_code, c.error_message),
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
