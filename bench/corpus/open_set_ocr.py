"""Classification of OCR'd pages with and without the open-set rule: ``python -m bench.corpus.open_set_ocr [N]``.

Renders N components of every known type (fresh casts) and every unfamiliar text of the test split
(``bench.corpus.unfamiliar.TEST``, never used to choose the thresholds) as 200 dpi pages, digitises them
with the real pipeline and prints macro-F1 including ``other`` for the closed-set guess and for the type
the pipeline gives (open set). Kept small: about one second of Tesseract per page.
"""

from __future__ import annotations

import random
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from bench.corpus import templates, unfamiliar
from bench.corpus.generate import DOC_TYPES, random_cast
from bench.corpus.render import Line, render_page, save_scan
from digitizer import DigitizeOptions, digitize_files
from digitizer.accuracy import macro_f1
from digitizer.classify import classify_pages

SEED = 2026
WRAP = 75  # characters per rendered line: the hand-written paragraphs wrap as on paper


def pages(per_type: int, rng: random.Random) -> list[tuple[str, list[Line]]]:
    items = [(t, templates.TEMPLATES[t](random_cast(rng))) for t in DOC_TYPES for _ in range(per_type)]
    for text in unfamiliar.TEST:
        filled = unfamiliar.fill(text, random_cast(rng))
        items.append(("other", [Line(w) for line in filled.splitlines() for w in textwrap.wrap(line, WRAP)]))
    return items


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    per_type = int(args[0]) if args else 2
    rng = random.Random(SEED)
    truth: list[str] = []
    closed: list[str] = []
    opened: list[str] = []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="open-set-") as tmp:
        for i, (label, lines) in enumerate(pages(per_type, rng)):
            page = render_page(lines, dpi=200, font=rng.choice(("serif", "sans")), seed=i)
            path = Path(tmp) / f"{i:03d}.jpg"
            save_scan(page, path, quality=85)
            result = digitize_files([path], DigitizeOptions())
            truth.append(label)
            closed.append(classify_pages([p.text for p in result.pages], open_set=False).doc_type)
            opened.append(result.doc_type)
            if label != result.doc_type:
                guess = f"guess {result.guess}, {result.confidence:.2f}"
                print(f"  {label} -> {result.doc_type} ({guess}) {result.warnings}")
    others = [p for t, p in zip(truth, opened, strict=True) if t == "other"]
    print(f"{len(truth)} OCR'd pages in {time.perf_counter() - start:.0f} s")
    print(
        f"macro-F1 including other: closed set {macro_f1(truth, closed, DOC_TYPES):.4f}, "
        f"open set {macro_f1(truth, opened, DOC_TYPES):.4f}; other recall {others.count('other') / len(others):.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
