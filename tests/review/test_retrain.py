"""Retraining the classifier from corrections made through the workspace API: figures before and after on
the same held-out split, the new model made active; a poisoned correction set refused (exit 1), the
active model kept; the scheduled job skipping when nothing is new."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bench.corpus.generate import text_samples
from cli.main import main
from digitizer.classify import classify_pages
from digitizer.model_store import active_model, current_path
from sohoa.settings import get_settings
from storage.catalogue.warehouse_models import AuditEntry
from tests.review.conftest import Workspace, seed_component
from tests.review.texts import residence_notices
from workers.maintenance import retrain_classifier

UNFAMILIAR = {"type": "other", "confidence": 0.5, "needs_review": True, "warnings": ["UNFAMILIAR_TEXT"]}


@pytest.fixture
def cli_env(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The CLI's settings are the workspace's (same var dir, catalogue and PKI)."""
    settings = ws.services.settings
    monkeypatch.setenv("SOHOA_VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("SOHOA_SIGNING__PKI_DIR", str(settings.signing.pki_dir))
    if settings.database_url:
        monkeypatch.setenv("SOHOA_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def correct_all(ws: Workspace, texts: list[str], label: str, prefix: str) -> None:
    """Each text a digitised component, its type corrected by officer A through the API."""
    for n, text in enumerate(texts):
        cid = seed_component(
            ws.services, code=f"{prefix}-{n}", centre_id=ws.centre_a, output=UNFAMILIAR | {"text": text}
        )
        r = ws.client.patch(f"/api/v1/workspace/components/{cid}", json={"doc_type": label}, headers=ws.officer_a)
        assert r.status_code == 200 and r.json()["changed"] == ["type"], r.text


def retrain(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(main, ["classifier", "retrain", "--json", *args])
    print(result.stderr if hasattr(result, "stderr") else "", result.output)
    return result.exit_code, json.loads(result.output.strip().splitlines()[-1])


def test_corrections_retrain_the_classifier_and_a_poisoned_set_is_refused(ws: Workspace, cli_env: None) -> None:
    classifier_dir = ws.services.settings.classifier_dir
    unseen = residence_notices(10, seed=99)  # never corrected: how the active model reads new notices
    assert sum(classify_pages([t]).doc_type == "residence_confirmation" for t in unseen) == 0

    code, report = retrain("--min-corrections", "20")
    assert (code, report["status"]) == (0, "skipped") and not current_path(classifier_dir).exists()

    correct_all(ws, residence_notices(24), "residence_confirmation", "CT")
    code, report = retrain("--min-corrections", "20")
    assert code == 0 and report["status"] == "accepted", report
    before, after = report["before"], report["after"]
    assert before["texts"] == after["texts"] > 430 and report["held_out"] >= 1
    assert report["trained"] + report["held_out"] == 24
    assert after["macro_f1"] > before["macro_f1"]
    assert current_path(classifier_dir).exists() and len(list((classifier_dir / "history").iterdir())) == 1
    model = ws.services.digitize_options().classifier
    assert model is active_model(classifier_dir) and model is not None
    assert sum(classify_pages([t], model).doc_type == "residence_confirmation" for t in unseen) >= 8
    active = current_path(classifier_dir).read_bytes()

    # Poison: officers (or a script with a stolen key) "correct" birth certificates into contracts.
    births = [t for t, label in text_samples(40, seed=77) if label == "birth_certificate"]
    correct_all(ws, births, "contract", "XX")
    code, report = retrain("--min-corrections", "20")
    assert code == 1 and report["status"] == "refused", report
    assert report["after"]["macro_f1"] < report["before"]["macro_f1"]
    assert "kept" in report["reason"]
    assert current_path(classifier_dir).read_bytes() == active  # the active model is kept

    with ws.services.catalogue.reading() as s:
        outcomes = s.scalars(
            select(AuditEntry.outcome).where(AuditEntry.action == "retrain_classifier").order_by(AuditEntry.seq)
        ).all()
    assert outcomes == ["accepted", "refused"]


def test_the_scheduled_job_retrains_only_when_corrections_are_new(ws: Workspace) -> None:
    settings = ws.services.settings
    ws.services.settings = settings.model_copy(
        update={"workers": settings.workers.model_copy(update={"retrain_min_corrections": 5})}
    )
    assert retrain_classifier(ws.services)["status"] == "skipped"
    correct_all(ws, residence_notices(8, seed=3), "residence_confirmation", "SJ")
    first = retrain_classifier(ws.services)
    assert first["status"] == "accepted" and first["after"]["macro_f1"] >= first["before"]["macro_f1"]
    again = retrain_classifier(ws.services)
    assert (again["status"], again["reason"]) == ("skipped", "no new corrections")
    assert os.path.exists(current_path(settings.classifier_dir))
