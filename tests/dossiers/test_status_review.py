"""The dossier status read model gives each digitised component its review: on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from digitizer import review
from dossiers.services import Services
from dossiers.status import dossier_status
from storage.catalogue.models import Component, Dossier, JobStep, StepState


def test_review_comes_from_the_digitize_step_output(db_services: Services) -> None:
    with db_services.catalogue.session() as s:
        dossier = Dossier(
            code="000.00.12.H26-261206-0001",
            procedure_code="1.001193",
            applicant_id="001090012345",
            batch_sha256="0" * 64,
        )
        for i, ref in enumerate(("tb", "ks", "cho")):
            dossier.components.append(Component(ref=ref, position=i, declared_type=None))
        s.add(dossier)
        s.flush()
        ids = {c.ref: c.id for c in dossier.components}
        outputs = {
            "tb": {
                "type": "other",
                "confidence": 0.61,
                "needs_review": True,
                "warnings": ["LOW_RESOLUTION", "UNFAMILIAR_TEXT"],
                "guess": {"type": "application_form", "confidence": 0.61},
                "text": "THÔNG BÁO " * 2000,
            },
            # A step output written before guesses were recorded: the type stands for the guess.
            "ks": {"type": "birth_certificate", "confidence": 0.97, "needs_review": False, "warnings": []},
        }
        for ref, output in outputs.items():
            s.add(JobStep(kind="digitize", queue="ocr", component_id=ids[ref], state=StepState.DONE, output=output))
        s.add(JobStep(kind="digitize", queue="ocr", component_id=ids["cho"], state=StepState.PENDING, output={}))
    with db_services.catalogue.session() as s:
        dossier = s.scalars(select(Dossier)).one()
        comps = {c["ref"]: c for c in dossier_status(s, dossier)["components"]}
    assert comps["tb"]["review"] == {
        "needs_review": True,
        "warnings": [
            {"code": "LOW_RESOLUTION", "message": review.MESSAGES["LOW_RESOLUTION"]},
            {"code": "UNFAMILIAR_TEXT", "message": review.MESSAGES["UNFAMILIAR_TEXT"]},
        ],
        "guess": {"type": "application_form", "confidence": 0.61},
    }
    assert comps["ks"]["review"] == {
        "needs_review": False,
        "warnings": [],
        "guess": {"type": "birth_certificate", "confidence": 0.97},
    }
    assert comps["cho"]["review"] is None  # not digitised yet


def test_every_code_the_digitizer_emits_has_a_vietnamese_sentence() -> None:
    from digitizer import pipeline

    for code in [*pipeline.REVIEW_WARNINGS, "LOW_RESOLUTION", "DPI_ESTIMATED", "UNKNOWN_DECLARED_TYPE"]:
        assert code in review.MESSAGES and review.message(code) == review.MESSAGES[code]
    assert "NEW_CODE" in review.message("NEW_CODE")  # an unknown code still gets a sentence naming it
    assert [d["code"] for d in review.describe(["A", "B", "A"])] == ["A", "B"]
