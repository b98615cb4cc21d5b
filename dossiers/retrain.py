"""Retrain the document-type model from officers' type corrections (``sohoa classifier retrain``, maintenance).

Each component whose type an officer corrected is one training text: its OCR text (the digitize
step's) labelled with the last type the officer chose. The new model is the shipped model's counts
plus those texts (``digitizer.retrain``), so retraining twice never counts a correction twice; it is
measured against the active model on the same held-out split and made active (``digitizer.model_store``)
only when it is no worse. Every run that trains is audited (``retrain_classifier``).

``<classifier dir>/state.json`` remembers the last correction a run looked at, so the scheduled job
skips when nothing is new.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from digitizer import model_store
from digitizer.learned import default_model
from digitizer.retrain import Example, retrain
from dossiers.services import Services
from storage.catalogue.models import Correction, Document, JobStep, StepState
from storage.warehouse import audit

log = logging.getLogger(__name__)
STATE = "state.json"


@dataclass
class RetrainReport:
    """What a run did: ``status`` is ``accepted``, ``refused`` or ``skipped`` (with ``reason``)."""

    status: str
    corrections: int = 0
    trained: int = 0
    held_out: int = 0
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    model_path: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "corrections": self.corrections,
            "trained": self.trained,
            "held_out": self.held_out,
            "before": self.before,
            "after": self.after,
            "reason": self.reason,
            "model_path": self.model_path,
        }


def examples(session: Session) -> list[Example]:
    """One example per component whose type was corrected: its OCR text and the last type chosen."""
    labels: dict[int, str] = {}
    for component_id, after in session.execute(
        select(Correction.component_id, Correction.after).where(Correction.path == "type").order_by(Correction.id)
    ):
        if isinstance(after, str):
            labels[component_id] = after
    if not labels:
        return []
    texts: dict[int, str] = dict(
        session.execute(
            select(JobStep.component_id, JobStep.output["text"]).where(
                JobStep.kind == "digitize", JobStep.state == StepState.DONE, JobStep.component_id.in_(labels)
            )
        ).all()
    )
    for component_id, text in session.execute(
        select(Document.component_id, Document.text).where(Document.component_id.in_(labels))
    ):
        texts.setdefault(component_id, text)
    return [
        Example(f"component:{cid}", str(texts[cid]), label)
        for cid, label in sorted(labels.items())
        if isinstance(texts.get(cid), str) and str(texts[cid]).strip()
    ]


def _last_seen(services: Services) -> int:
    try:
        return int(json.loads((services.settings.classifier_dir / STATE).read_text())["last_correction_id"])
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return 0


def _remember(services: Services, last_id: int) -> None:
    path = services.settings.classifier_dir / STATE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"last_correction_id": last_id}))
    tmp.replace(path)


def retrain_from_corrections(
    services: Services,
    *,
    min_corrections: int = 1,
    actor: str = "system:maintenance",
    only_if_new: bool = False,
    progress: Callable[[str], None] = lambda _msg: None,
) -> RetrainReport:
    """Train a model from the corrections; make it active when it is no worse than the active one."""
    with services.catalogue.reading() as s:
        last_id = s.scalar(select(func.max(Correction.id)).where(Correction.path == "type")) or 0
        if only_if_new and last_id <= _last_seen(services):
            return RetrainReport("skipped", reason="no new corrections")
        found = examples(s)
    if len(found) < min_corrections:
        return RetrainReport(
            "skipped", len(found), reason=f"{len(found)} corrected texts, at least {min_corrections} needed"
        )
    base = default_model()
    if base is None:
        return RetrainReport("skipped", len(found), reason="no shipped classifier model to start from")
    directory = services.settings.classifier_dir
    current = model_store.active_model(directory) or base
    progress(f"{len(found)} corrected texts found")
    outcome = retrain(current, found, base=base, progress=progress)
    report = RetrainReport(
        "accepted" if outcome.accepted else "refused",
        len(found),
        outcome.trained,
        outcome.held_out,
        outcome.before.as_dict(),
        outcome.after.as_dict(),
    )
    if outcome.accepted:
        report.model_path = str(model_store.activate(directory, outcome.model))
    else:
        report.reason = (
            f"macro-F1 would fall from {outcome.before.macro_f1:.4f} to {outcome.after.macro_f1:.4f}; "
            "the current model is kept"
        )
    _remember(services, last_id)
    audit.record(
        services.catalogue,
        actor=actor,
        action="retrain_classifier",
        subject="classifier",
        outcome=report.status,
        detail={k: v for k, v in report.as_dict().items() if k != "status"},
    )
    log.info("classifier retrain %s: before %s, after %s", report.status, report.before, report.after)
    return report
