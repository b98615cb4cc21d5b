"""The active document-type model: a retrained one replaces the shipped one atomically, with a history;
an unreadable one falls back to the shipped model."""

from __future__ import annotations

from pathlib import Path

from digitizer.learned import default_model, train
from digitizer.model_store import HISTORY, activate, active_model, current_path


def test_without_a_retrained_model_the_shipped_one_is_active(tmp_path: Path) -> None:
    assert active_model(tmp_path / "classifier") is default_model()


def test_activate_replaces_the_current_model_and_keeps_each_in_the_history(tmp_path: Path) -> None:
    shipped = default_model()
    assert shipped is not None
    first = train(
        [("THÔNG BÁO kết quả đăng ký thường trú", "residence_confirmation")], labels=shipped.labels, base=shipped
    )
    second = train([("GIẤY KHAI SINH", "birth_certificate")], labels=shipped.labels, base=shipped)
    activate(tmp_path, first)
    loaded = active_model(tmp_path)
    assert loaded is not None and loaded.class_docs == first.class_docs
    assert active_model(tmp_path) is loaded  # cached while the file is unchanged
    activate(tmp_path, second)
    assert active_model(tmp_path).class_docs == second.class_docs  # type: ignore[union-attr]
    assert len(list((tmp_path / HISTORY).glob("*.json"))) == 2
    assert not list(tmp_path.glob("*.tmp"))


def test_an_unreadable_model_falls_back_to_the_shipped_one(tmp_path: Path) -> None:
    current_path(tmp_path).write_text("{not json")
    assert active_model(tmp_path) is default_model()


def test_the_shipped_held_out_texts_are_the_training_scripts_test_split() -> None:
    from bench.corpus.train_classifier import test_set
    from digitizer.retrain import shipped_heldout

    assert list(shipped_heldout()) == test_set()
