"""An officer confirms a digitised copy against the paper (TT 01/2023); the copy is then signed with their key.

A component whose centre's policy makes it wait (``dossiers.signer_keys.waits_for_officer``) stops
after digitising in ``awaiting``. :func:`confirm_component` records who confirmed it and queues its
``sign`` step, which signs with that officer's own key and prints their name on the stamp.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import select

from dossiers.errors import ComponentConfirmedByOther, ComponentNotAwaiting, ComponentNotFound
from dossiers.services import Services
from dossiers.signer_keys import ensure_default_centre
from dossiers.steps import STEPS
from dossiers.workspace import effective_centre_id
from storage.catalogue.models import Component, ComponentState, JobStep, utcnow
from storage.catalogue.officers import OfficerPrincipal
from storage.warehouse import audit

log = logging.getLogger(__name__)


def confirm_component(
    services: Services,
    component_id: int,
    officer: OfficerPrincipal,
    *,
    wake: Callable[[], None] | None = None,
) -> None:
    """Confirm an awaiting component as ``officer`` and queue its signature with their key.

    Raises COMPONENT_NOT_FOUND (404) when there is no such component at the officer's centre (one of
    another centre is not revealed), COMPONENT_NOT_AWAITING (409) when it is not waiting for a
    confirmation, COMPONENT_ALREADY_CONFIRMED (409) when another officer confirmed it first. Confirming
    again as the same officer changes nothing (no second signature). ``wake``: the embedded worker pool's
    wake-up (``app.state.wake_workers``), so the signature starts at once.
    """
    default_id = ensure_default_centre(services)  # before the write transaction (it may create the row)
    spec = STEPS["sign"]
    with services.catalogue.session(durable=True) as s:
        comp = s.scalar(select(Component).where(Component.id == component_id).with_for_update())
        if comp is None or _centre_of(comp, default_id) != officer.centre_id:
            raise ComponentNotFound(f"component {component_id}")
        if comp.confirmed_by is not None:
            if comp.confirmed_by == officer.id:
                log.info("component %s confirmed again by %s: nothing to do", component_id, officer.username)
                return
            raise ComponentConfirmedByOther(f"component {component_id}")
        if comp.state != ComponentState.AWAITING:
            raise ComponentNotAwaiting(f"component {component_id} is {comp.state}")
        comp.confirmed_by, comp.confirmed_at = officer.id, utcnow()
        comp.state = ComponentState.PROCESSING
        queued = s.scalar(select(JobStep.id).where(JobStep.component_id == comp.id, JobStep.kind == spec.kind))
        if queued is None:
            digitized = s.scalar(
                select(JobStep.output).where(JobStep.component_id == comp.id, JobStep.kind == "digitize")
            )
            s.add(
                JobStep(
                    kind=spec.kind,
                    queue=spec.queue,
                    component_id=comp.id,
                    input_sha256=(digitized or {}).get("pdf_sha256"),
                    created_at=utcnow(),
                )
            )
        audit.append(
            s,
            actor=officer.actor,
            action="confirm_copy",
            subject=f"component:{comp.id}",
            purpose=f"đối chiếu bản sao với bản giấy, hồ sơ {comp.dossier.code}",
            outcome="ok",
            detail={"dossier": comp.dossier.code, "component": comp.ref, "centre": officer.centre_code},
            owner=comp.dossier.applicant_id,
            centre_id=effective_centre_id(s, comp.dossier),
        )
    log.info("component %s confirmed by %s; queued for signing with their key", component_id, officer.username)
    if wake is not None:
        wake()


def _centre_of(comp: Component, default_id: int) -> int:
    """The centre a component belongs to: its dossier's, else the default centre."""
    return comp.dossier.centre_id if comp.dossier.centre_id is not None else default_id
