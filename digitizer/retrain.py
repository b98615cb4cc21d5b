"""Retrain the document-type model from officers' corrections, and keep it only if it is no worse.

The model's state is counts (``digitizer.learned``): the shipped corpus is already in the current
model's counts, so a retrain adds the corrected texts to them (each ``CORRECTION_WEIGHT`` documents)
without the original corpus. Corrections are split by a hash of their key: about one in
``HOLDOUT_EVERY`` is held out, never trained on, and joins the shipped held-out corpus
(``data/classifier_heldout.json.gz``: generated texts of every type and hand-written unfamiliar
texts labelled ``other``, written by ``bench.corpus.train_classifier``). Macro-F1 over every type
including ``other`` is measured on that same split with the current model (before) and the new one
(after); a new model that scores lower is refused.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from digitizer import learned
from digitizer.accuracy import accuracy, macro_f1
from digitizer.classify import classify_pages
from digitizer.model import DOCUMENT_TYPES

HELDOUT_PATH = Path(__file__).resolve().parent / "data" / "classifier_heldout.json.gz"
CORRECTION_WEIGHT = 3.0
HOLDOUT_EVERY = 4
TOLERANCE = 1e-9


@dataclass(frozen=True)
class Example:
    """A corrected text: ``key`` identifies it stably (the component), ``label`` is the officer's type."""

    key: str
    text: str
    label: str


@dataclass(frozen=True)
class Figures:
    accuracy: float
    macro_f1: float
    texts: int

    def as_dict(self) -> dict[str, float | int]:
        return {"accuracy": round(self.accuracy, 4), "macro_f1": round(self.macro_f1, 4), "texts": self.texts}


@dataclass(frozen=True)
class Outcome:
    """A retrain's figures and verdict; ``model`` is the new model (kept by the caller only if ``accepted``)."""

    trained: int
    held_out: int
    before: Figures
    after: Figures
    model: learned.NgramModel

    @property
    def accepted(self) -> bool:
        return self.after.macro_f1 + TOLERANCE >= self.before.macro_f1


@lru_cache(maxsize=1)
def shipped_heldout() -> tuple[tuple[str, str], ...]:
    """The held-out corpus shipped with the model: (text, label) pairs never trained on."""
    raw = json.loads(gzip.decompress(HELDOUT_PATH.read_bytes()).decode("utf-8"))
    return tuple((str(text), str(label)) for text, label in raw)


def write_heldout(samples: Sequence[tuple[str, str]], path: Path = HELDOUT_PATH) -> None:
    """Write the held-out corpus (``bench.corpus.train_classifier`` does, with the model it trains)."""
    data = json.dumps([[t, label] for t, label in samples], ensure_ascii=False, separators=(",", ":"))
    path.write_bytes(gzip.compress(data.encode("utf-8"), 9, mtime=0))


def held_out(example: Example) -> bool:
    """Whether this correction is kept for measuring (stable: the same one every run)."""
    return hashlib.sha256(example.key.encode()).digest()[0] % HOLDOUT_EVERY == 0


def split(examples: Sequence[Example]) -> tuple[list[Example], list[Example]]:
    """(training, held out); with two or more corrections, at least one is held out."""
    train = [e for e in examples if not held_out(e)]
    test = [e for e in examples if held_out(e)]
    if not test and len(train) >= 2:
        test, train = train[-1:], train[:-1]
    return train, test


def measure(model: learned.NgramModel | None, samples: Sequence[tuple[str, str]]) -> Figures:
    """Accuracy and macro-F1 (every type, ``other`` included) of ``model`` with its open-set rule."""
    truth = [label for _, label in samples]
    predicted = [classify_pages(text.split("\f"), model).doc_type for text, _ in samples]
    return Figures(accuracy(truth, predicted), macro_f1(truth, predicted, DOCUMENT_TYPES), len(samples))


def retrain(
    current: learned.NgramModel,
    examples: Sequence[Example],
    *,
    base: learned.NgramModel | None = None,
    heldout: Sequence[tuple[str, str]] | None = None,
    progress: Callable[[str], None] = lambda _msg: None,
) -> Outcome:
    """A new model: ``base``'s counts (default ``current``'s) plus the training share of ``examples``, measured
    against ``current`` on the same held-out texts. Pass the shipped model as ``base`` when ``current`` may
    already hold earlier corrections, so that none is counted twice."""
    unknown = sorted({e.label for e in examples} - set(DOCUMENT_TYPES))
    if unknown:
        raise ValueError(f"unknown document types in corrections: {unknown}")
    train, test = split(examples)
    progress(f"{len(train)} corrected texts to train on, {len(test)} held out")
    samples = [*(shipped_heldout() if heldout is None else heldout), *((e.text, e.label) for e in test)]
    progress(f"measuring the current model on {len(samples)} held-out texts")
    before = measure(current, samples)
    progress("training")
    model = learned.train(
        [(e.text, e.label) for e in train], labels=current.labels, base=base or current, weight=CORRECTION_WEIGHT
    )
    progress(f"measuring the new model on the same {len(samples)} texts")
    after = measure(model, samples)
    return Outcome(len(train), len(test), before, after, model)
