"""Bench: our digitizer against ``ocrmypdf -l vie --deskew`` on the same pages and the same cores.

    .venv/bin/python -m bench.digitize [--pages N] [--quick] [--repeat R] [--jobs J]
    .venv/bin/python -m bench.digitize --categories [...]   (the same as ``-m bench.digitize.categories``)

Generates a deterministic corpus (mixed types, 200/300 dpi, skew up to 3°), runs both as whole
processes (start-up included) ``--repeat`` times in alternation, and prints pages/s (best and median
run), their ratio, character error rate (NFC, whitespace folded) of each, classification accuracy
and macro-F1, số định danh exact-match, peak RSS of the largest OCR process and PDF sizes. The last
line is one JSON object with every figure printed.

OCRmyPDF reads one PDF of all pages (img2pdf, lossless: its best case, one start-up, ``-j`` across
pages); ours reads the same JPEG scans, one component per document, ``-j`` components at a time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.corpus.generate import DOC_TYPES, text_samples
from bench.digitize import corpus as bench_corpus
from bench.digitize.runner import (
    Run,
    child_env,
    corpus_cer,
    measure,
    ocrmypdf_command,
    ours_command,
    pdftotext_pages,
)
from digitizer.accuracy import accuracy, calibration_error, macro_f1
from digitizer.classify import classify_pages


def _summary(runs: list[Run], pages: int) -> dict[str, float]:
    walls = [r.wall_s for r in runs]
    return {
        "pages_per_s": round(pages / min(walls), 4),
        "pages_per_s_median": round(pages / statistics.median(walls), 4),
        "wall_s_best": round(min(walls), 3),
        "cpu_s_per_page": round(min(r.cpu_s for r in runs) / pages, 3),
        "peak_rss_mib": round(max(r.peak_rss_mib for r in runs), 1),
    }


def _ours_quality(run: Run, corpus: bench_corpus.BenchCorpus, out_dir: Path) -> dict[str, Any]:
    lines = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    if len(lines) != len(corpus.components) or not all(line["ok"] for line in lines):
        failed = [line.get("error") for line in lines if not line.get("ok")]
        raise SystemExit(f"our digitizer failed on some components: {failed}")
    page_texts = [page["text"] for line in lines for page in line["pages"]]
    pdf_texts = [text for line in lines for text in pdftotext_pages(Path(line["pdf"]))]
    truth = [c.doc_type for c in corpus.components]
    predicted = [line["type"] for line in lines]
    with_id = [
        (c.expected_id, line["fields"].get("so_dinh_danh", {}).get("value"))
        for c, line in zip(corpus.components, lines, strict=True)
        if c.expected_id
    ]
    pdf_bytes = sum(Path(line["pdf"]).stat().st_size for line in lines)
    return {
        "cer": round(corpus_cer(corpus.page_texts, page_texts), 5),
        "cer_pdf_text_layer": round(corpus_cer(corpus.page_texts, pdf_texts), 5),
        "class_accuracy": round(accuracy(truth, predicted), 4),
        "class_macro_f1": round(macro_f1(truth, predicted, sorted(set(truth))), 4),
        "needs_review": sum(line["needs_review"] for line in lines),
        "id_exact_match": round(sum(e == g for e, g in with_id) / max(1, len(with_id)), 4),
        "id_components": len(with_id),
        "pdf_kib_per_page": round(pdf_bytes / 1024 / corpus.page_count, 1),
    }


def _text_classification(per_type: int, seed: int) -> dict[str, Any]:
    """Held-out synthetic texts (noisy OCR, some without diacritics): accuracy, macro-F1, calibration."""
    samples = text_samples(per_type, seed=seed)
    truth = [label for _, label in samples]
    predicted = [classify_pages([text]).doc_type for text, _ in samples]
    # Calibration is judged on a mix where 30% of texts keep only 1-4 lines (little evidence).
    mixed = text_samples(per_type, seed=seed + 1, hard_share=0.3)
    results = [classify_pages([text]) for text, _ in mixed]
    correct = [r.doc_type == label for r, (_, label) in zip(results, mixed, strict=True)]
    return {
        "text_samples": len(samples),
        "text_class_accuracy": round(accuracy(truth, predicted), 4),
        "text_class_macro_f1": round(macro_f1(truth, predicted, list(DOC_TYPES)), 4),
        "text_mixed_accuracy": round(sum(correct) / len(correct), 4),
        "text_mixed_ece": round(calibration_error([r.confidence for r in results], correct), 4),
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--categories"]:
        from bench.digitize import categories

        return categories.main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m bench.digitize", description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--ocr-dpi", type=int, default=None, help="passed to our digitizer")
    parser.add_argument("--text-samples", type=int, default=60, help="held-out texts per type")
    parser.add_argument("--quick", action="store_true", help="4 pages, one run each, fewer text samples")
    parser.add_argument("--keep", type=Path, help="keep the corpus and outputs in this folder")
    args = parser.parse_args(argv)
    if args.quick:
        args.pages, args.repeat, args.text_samples = 4, 1, 20

    with tempfile.TemporaryDirectory(prefix="bench-digitize-") as tmp:
        work = args.keep or Path(tmp)
        corpus = bench_corpus.build(work / "corpus", args.pages, args.seed)
        pages = corpus.page_count
        print(f"corpus: {len(corpus.components)} components, {pages} pages, skew <= 3 deg, seed {args.seed}")
        env = child_env(args.ocr_dpi)
        ours_runs: list[Run] = []
        theirs_runs: list[Run] = []
        for i in range(args.repeat):
            out_dir = work / f"ours-{i}"
            ours_cmd = ours_command([c.files for c in corpus.components], args.jobs, out_dir)
            theirs_cmd = ocrmypdf_command(
                corpus.all_pages_pdf, args.jobs, work / f"ocrmypdf-{i}.pdf", work / f"ocrmypdf-{i}.txt"
            )
            order = [("ours", ours_cmd, ours_runs), ("ocrmypdf", theirs_cmd, theirs_runs)]
            for name, cmd, runs in order if i % 2 == 0 else reversed(order):
                run = measure(cmd, env=env)
                if name == "ocrmypdf" and run.returncode != 0:
                    raise SystemExit(f"ocrmypdf exited {run.returncode}")
                runs.append(run)
                print(
                    f"run {i + 1}/{args.repeat} {name}: {run.wall_s:.2f} s wall, {run.cpu_s:.2f} s cpu, "
                    f"{run.peak_rss_mib:.0f} MiB peak RSS",
                    flush=True,
                )
        ours = _summary(ours_runs, pages)
        theirs = _summary(theirs_runs, pages)
        ours |= _ours_quality(ours_runs[0], corpus, work / "ours-0")
        sidecar = (work / "ocrmypdf-0.txt").read_text("utf-8").split("\f")[:pages]
        theirs["cer"] = round(corpus_cer(corpus.page_texts, sidecar), 5)
        theirs["pdf_kib_per_page"] = round((work / "ocrmypdf-0.pdf").stat().st_size / 1024 / pages, 1)
        text_figures = _text_classification(args.text_samples, args.seed + 1)

    ratio = round(ours["pages_per_s"] / theirs["pages_per_s"], 3)
    ratio_median = round(ours["pages_per_s_median"] / theirs["pages_per_s_median"], 3)
    print(
        f"ours:     {ours['pages_per_s']:.3f} pages/s (median {ours['pages_per_s_median']:.3f}), "
        f"CER {ours['cer']:.4%} (PDF text layer {ours['cer_pdf_text_layer']:.4%}), "
        f"peak RSS {ours['peak_rss_mib']:.0f} MiB, {ours['pdf_kib_per_page']:.0f} KiB/page"
    )
    print(
        f"ocrmypdf: {theirs['pages_per_s']:.3f} pages/s (median {theirs['pages_per_s_median']:.3f}), "
        f"CER {theirs['cer']:.4%}, peak RSS {theirs['peak_rss_mib']:.0f} MiB, "
        f"{theirs['pdf_kib_per_page']:.0f} KiB/page"
    )
    print(f"speed ratio ours/ocrmypdf: {ratio:.2f}x (median runs {ratio_median:.2f}x)")
    print(
        f"classification on OCR'd components: accuracy {ours['class_accuracy']:.2%}, "
        f"macro-F1 {ours['class_macro_f1']:.4f}, needs review {ours['needs_review']}"
    )
    print(
        f"classification on {text_figures['text_samples']} held-out noisy texts: accuracy "
        f"{text_figures['text_class_accuracy']:.2%}, macro-F1 {text_figures['text_class_macro_f1']:.4f}; "
        f"with 30% fragments: accuracy {text_figures['text_mixed_accuracy']:.2%}, "
        f"calibration error {text_figures['text_mixed_ece']:.4f}"
    )
    print(f"so dinh danh exact match: {ours['id_exact_match']:.2%} of {ours['id_components']} components")
    figures = {
        "pages": pages,
        "jobs": args.jobs,
        "repeat": args.repeat,
        "seed": args.seed,
        "ratio": ratio,
        "ratio_median": ratio_median,
        "ours": ours,
        "ocrmypdf": theirs,
        **text_figures,
    }
    print(json.dumps(figures, ensure_ascii=False, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
