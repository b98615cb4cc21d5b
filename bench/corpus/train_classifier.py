"""Train the shipped document-type model from the synthetic corpus: ``python -m bench.corpus.train_classifier``.

Deterministic (fixed seeds). Writes ``digitizer/data/classifier.json``; prints held-out accuracy,
macro-F1 and calibration error on texts from another seed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from bench.corpus.generate import DOC_TYPES, text_samples
from digitizer import learned
from digitizer.accuracy import accuracy, calibration_error, macro_f1
from digitizer.classify import classify_pages, keyword_logits

TRAIN_PER_TYPE = 150
CALIBRATION_PER_TYPE = 40
SEEDS = (11, 12, 13)


def build(per_type: int = TRAIN_PER_TYPE, calibration_per_type: int = CALIBRATION_PER_TYPE) -> learned.NgramModel:
    train_seed, calibration_seed, _ = SEEDS
    return learned.train(
        text_samples(per_type, seed=train_seed),
        labels=DOC_TYPES,
        calibration=text_samples(calibration_per_type, seed=calibration_seed, hard_share=0.3),
        extra_logits=keyword_logits,
    )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else learned.MODEL_PATH
    start = time.perf_counter()
    model = build()
    model.save(out)
    took = time.perf_counter() - start
    held_out = text_samples(40, seed=SEEDS[2], hard_share=0.3)
    results = [classify_pages([text], model) for text, _ in held_out]
    truth = [label for _, label in held_out]
    predicted = [r.doc_type for r in results]
    print(
        f"{out}: {out.stat().st_size // 1024} KiB, {len(model.counts)} n-grams, temperature "
        f"{model.temperature}, keyword weight {model.keyword_weight}, trained in {took:.1f} s"
    )
    correct = [t == p for t, p in zip(truth, predicted, strict=True)]
    print(
        f"held-out: accuracy {accuracy(truth, predicted):.4f}, macro-F1 {macro_f1(truth, predicted, DOC_TYPES):.4f}, "
        f"ECE {calibration_error([r.confidence for r in results], correct):.4f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
