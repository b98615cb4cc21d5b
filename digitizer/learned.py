"""A learned document-type model: naive Bayes over character n-grams of diacritic-folded text.

Why this model: its state is plain counts (how many training documents of each type contain each
n-gram), so staff corrections recorded in the catalogue are added to the shipped counts without the
original corpus, it trains in a second, and it is stored as JSON (no pickle) and scored with numpy.
Posteriors are calibrated by a temperature fitted on held-out texts. The keyword scorer in
``classify`` is combined with it there.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from digitizer.textnorm import fold_words

MODEL_PATH = Path(__file__).resolve().parent / "data" / "classifier.json"
NGRAM_RANGE = (3, 5)
MAX_CHARS = 4000
ALPHA = 0.5
MIN_DOCS = 2


def features(text: str) -> set[str]:
    """Character n-grams (3–5) of the folded words, each word padded with spaces; presence only."""
    folded = fold_words(text[:MAX_CHARS])
    grams: set[str] = set()
    for word in folded.split():
        padded = f" {word} "
        for n in range(NGRAM_RANGE[0], NGRAM_RANGE[1] + 1):
            grams.update(padded[i : i + n] for i in range(max(1, len(padded) - n + 1)))
    return grams


@dataclass
class NgramModel:
    labels: list[str]
    class_docs: list[float]
    counts: dict[str, list[float]] = field(default_factory=dict)
    temperature: float = 1.0
    keyword_weight: float = 0.0
    # The open-set rule of ``classify``: below these a text is ``other`` (see ``classify.open_set_reason``).
    # Chosen on a validation set by ``bench.corpus.train_classifier``; None: the rule is off.
    min_confidence: float | None = None
    min_familiarity: float | None = None

    def _log_tables(self) -> tuple[dict[str, int], np.ndarray]:
        vocab = {gram: i for i, gram in enumerate(self.counts)}
        table = np.array(list(self.counts.values()), dtype=np.float64).reshape(len(vocab), len(self.labels))
        docs = np.array(self.class_docs, dtype=np.float64)
        # P(n-gram present | type), additively smoothed.
        return vocab, np.log((table + ALPHA) / (docs + 2 * ALPHA))

    def log_scores(self, text: str) -> np.ndarray:
        """Mean log-likelihood per known n-gram of the text under each label (zeros without any)."""
        vocab, present = _tables(self)
        rows = [vocab[g] for g in features(text) if g in vocab]
        if not rows:
            return np.zeros(len(self.labels))
        return present[rows].mean(axis=0)

    def probabilities(
        self, text: str, extra_logits: np.ndarray | None = None, log_scores: np.ndarray | None = None
    ) -> np.ndarray:
        logits = (self.log_scores(text) if log_scores is None else log_scores) / self.temperature
        if extra_logits is not None:
            logits = logits + extra_logits
        logits -= logits.max()
        p = np.exp(logits)
        return p / p.sum()

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": 1,
                "labels": self.labels,
                "class_docs": self.class_docs,
                "temperature": self.temperature,
                "keyword_weight": self.keyword_weight,
                "min_confidence": self.min_confidence,
                "min_familiarity": self.min_familiarity,
                "counts": self.counts,
            },
            ensure_ascii=True,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, data: str) -> NgramModel:
        raw = json.loads(data)
        if raw.get("version") != 1:
            raise ValueError(f"unsupported classifier model version {raw.get('version')!r}")
        return cls(
            list(raw["labels"]),
            [float(v) for v in raw["class_docs"]],
            {k: [float(x) for x in v] for k, v in raw["counts"].items()},
            float(raw["temperature"]),
            float(raw.get("keyword_weight", 0.0)),
            _optional_float(raw.get("min_confidence")),
            _optional_float(raw.get("min_familiarity")),
        )

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(self.to_json(), "utf-8")
        tmp.replace(path)


def _optional_float(value: float | str | None) -> float | None:
    return None if value is None else float(value)


_TABLES: dict[int, tuple[int, tuple[dict[str, int], np.ndarray]]] = {}


def _tables(model: NgramModel) -> tuple[dict[str, int], np.ndarray]:
    key = id(model)
    cached = _TABLES.get(key)
    stamp = hash((len(model.counts), tuple(model.class_docs)))
    if cached is None or cached[0] != stamp:
        cached = (stamp, model._log_tables())
        _TABLES[key] = cached
    return cached[1]


def train(
    samples: Iterable[tuple[str, str]],
    *,
    labels: Sequence[str],
    base: NgramModel | None = None,
    weight: float = 1.0,
    calibration: Sequence[tuple[str, str]] = (),
    extra_logits: Callable[[str], np.ndarray] | None = None,
    min_docs: int = MIN_DOCS,
) -> NgramModel:
    """Add ``samples`` ((text, label); e.g. staff corrections, ``weight`` documents each) to ``base``'s
    counts, or start afresh; with ``calibration`` samples, refit the temperature on them."""
    label_index = {label: i for i, label in enumerate(labels)}
    if base is not None and base.labels != list(labels):
        raise ValueError("labels differ from the base model's")
    counts: dict[str, list[float]] = {k: list(v) for k, v in (base.counts if base else {}).items()}
    class_docs = list(base.class_docs) if base else [0.0] * len(labels)
    fresh: Counter[tuple[str, int]] = Counter()
    for text, label in samples:
        if label not in label_index:
            raise ValueError(f"unknown label {label!r}")
        index = label_index[label]
        class_docs[index] += weight
        for gram in features(text):
            fresh[(gram, index)] += 1
    for (gram, index), n in fresh.items():
        counts.setdefault(gram, [0.0] * len(labels))[index] += n * weight
    if base is None:
        counts = {g: row for g, row in counts.items() if sum(row) >= min_docs}
    counts = dict(sorted(counts.items()))  # independent of set order (string hashing is randomised)
    model = NgramModel(
        list(labels),
        class_docs,
        counts,
        base.temperature if base else 1.0,
        base.keyword_weight if base else 0.0,
        base.min_confidence if base else None,
        base.min_familiarity if base else None,
    )
    if calibration:
        model.temperature, model.keyword_weight = calibrate(model, calibration, extra_logits)
    return model


def calibrate(
    model: NgramModel,
    samples: Sequence[tuple[str, str]],
    extra_logits: Callable[[str], np.ndarray] | None = None,
) -> tuple[float, float]:
    """(temperature, weight of ``extra_logits``) minimising the negative log-likelihood of ``samples``."""
    index = {label: i for i, label in enumerate(model.labels)}
    scores = np.array([model.log_scores(text) for text, _ in samples])
    extra = np.array([extra_logits(text) for text, _ in samples]) if extra_logits else np.zeros_like(scores)
    truth = np.array([index[label] for _, label in samples])
    best, best_nll = (1.0, 0.0), math.inf
    weights = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1.2, 2.0) if extra_logits else (0.0,)
    for t in np.exp(np.linspace(math.log(0.0005), math.log(20.0), 120)):
        for w in weights:
            logits = scores / t + w * extra
            logits -= logits.max(axis=1, keepdims=True)
            log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
            nll = -float(log_p[np.arange(len(truth)), truth].mean())
            if nll < best_nll:
                best, best_nll = (round(float(t), 6), w), nll
    return best


@lru_cache(maxsize=1)
def default_model() -> NgramModel | None:
    """The model shipped in the package (trained on the synthetic corpus), or None when absent."""
    try:
        return NgramModel.from_json(MODEL_PATH.read_text("utf-8"))
    except FileNotFoundError:
        return None
