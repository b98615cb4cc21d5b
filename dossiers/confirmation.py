"""An officer confirms that a digitised copy matches the paper: then it is signed.

Minimal version of the review branch; the ``signers`` branch's (signing with the officer's key)
replaces it with the same signature: ``confirm_component(services, component_id, officer)``.

A component awaiting confirmation is marked confirmed (by whom, when), moves on to ``processing``
and gets its ``sign`` step. A component already stored whose document still needed review is
marked confirmed and its document no longer needs review (its copy was signed already). Audited
as ``confirm_component`` under the officer's actor.
"""

from __future__ import annotations

from sqlalchemy import select

from dossiers.review_errors import NotAwaiting, NotDigitised
from dossiers.services import Services
from dossiers.steps import STEPS
from dossiers.workspace import digitize_output, load_component
from storage.catalogue.models import ComponentState, Document, JobStep, utcnow
from storage.catalogue.officers import OfficerPrincipal
from storage.warehouse import audit


def confirm_component(services: Services, component_id: int, officer: OfficerPrincipal) -> str:
    """Confirm a component of the officer's centre; returns its new state."""
    with services.catalogue.session() as s:
        comp = load_component(s, component_id, officer.centre_id)
        output = digitize_output(s, comp.id)
        if output is None:
            raise NotDigitised(str(component_id))
        doc = s.scalar(select(Document).where(Document.component_id == comp.id))
        now = utcnow()
        if comp.state == ComponentState.AWAITING:
            comp.state = ComponentState.PROCESSING
            has_sign = s.scalar(select(JobStep.id).where(JobStep.kind == "sign", JobStep.component_id == comp.id))
            if has_sign is None:
                spec = STEPS["sign"]
                s.add(
                    JobStep(
                        kind=spec.kind,
                        queue=spec.queue,
                        component_id=comp.id,
                        input_sha256=output.get("pdf_sha256"),
                        created_at=now,
                    )
                )
        elif comp.state == ComponentState.DONE and doc is not None and comp.confirmed_at is None:
            doc.needs_review = False
        else:
            raise NotAwaiting(f"component {component_id} is {comp.state}")
        comp.confirmed_by, comp.confirmed_at = officer.id, now
        audit.append(
            s,
            actor=officer.actor,
            action="confirm_component",
            subject=f"component:{comp.dossier.code}/{comp.ref}",
            outcome="confirmed",
            detail={"component_id": comp.id, "state": comp.state},
        )
        return str(comp.state)
