"""Bench by category: sohoa against OCRmyPDF 17 on pages shaped like what counters receive.

    .venv/bin/python -m bench.digitize.categories [--per-category N] [--clean-pages N] [--repeat R] [--quick]

Generates ``bench.corpus.categories`` samples (ground truth kept in ``manifest.json``), then prints:

- CER per category for sohoa (``sohoa digitize --json``, one process for every component) and for
  ``ocrmypdf -l vie --deskew --rotate-pages -j J`` (one run on a PDF of every component's pages:
  images wrapped losslessly, image-only PDFs as they are), its text layer read back with
  ``pdftotext -raw`` (the order OCRmyPDF wrote it: Tesseract's reading order);
- sohoa's page orientation against the truth (pages fed sideways / upside down, and upright ones);
- speed on clean pages (200 dpi A4 prose, 1–2° skew), whole processes with start-up, ``--repeat`` runs in
  alternating order: sohoa, OCRmyPDF and Tesseract alone (``tesseract LIST OUT -l vie``, one process per
  job), with the ratios sohoa/OCRmyPDF and sohoa/Tesseract;
- số định danh recall over every party of every document (and, where sohoa reports roles, role agreement);
- classification accuracy and macro-F1 over the typed components, ``other`` included;
- peak RSS of the largest process of each tool.

The last line is one JSON object with every figure printed. CER is total edits over total reference
characters (NFC, whitespace folded) over all pages of a category.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pikepdf

from bench.corpus import categories as gen
from bench.digitize.runner import (
    Run,
    child_env,
    corpus_cer,
    measure,
    ocrmypdf_command,
    ours_command,
    pdftotext_pages,
    tesseract_command,
)
from digitizer.accuracy import accuracy, macro_f1

QUICK_PER_CATEGORY = 1
QUICK_CLEAN_PAGES = 4


@dataclass(eq=False)
class Item:
    """A written sample: its files and ground truth, and what each tool returned for it."""

    sample: gen.Sample
    files: list[Path]
    ours: dict[str, Any] = field(default_factory=dict)
    ocrmypdf_pages: list[str] = field(default_factory=list)

    @property
    def truth_pages(self) -> list[str]:
        return [p.text for p in self.sample.pages]

    @property
    def ours_pages(self) -> list[str]:
        pages = [p.get("text", "") for p in self.ours.get("pages", [])]
        return (pages + [""] * len(self.truth_pages))[: len(self.truth_pages)]


def build(folder: Path, categories: list[str], per_category: int, clean_pages: int, seed: int) -> list[Item]:
    items = []
    manifest = []
    for category in categories:
        count = max(per_category, clean_pages) if category == "clean" else per_category
        for index, sample in enumerate(gen.samples(category, count, seed)):
            files = gen.write(sample, folder / category, f"{category}-{index:02d}")
            items.append(Item(sample, files))
            manifest.append(gen.ground_truth(sample, files) | {"folder": category})
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), "utf-8")
    return items


def merged_pdf(items: list[Item], out: Path) -> Path:
    """One PDF of every page of ``items``, in order (what OCRmyPDF reads)."""
    with pikepdf.new() as merged:
        for item in items:
            part = out.with_suffix(f".part{len(merged.pages)}.pdf")
            part.write_bytes(gen.as_pdf(item.files))
            with pikepdf.open(part) as src:
                merged.pages.extend(src.pages)
        merged.save(out)
    return out


def _parse_ours(run: Run, items: list[Item]) -> None:
    lines = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    if len(lines) != len(items):
        raise SystemExit(f"sohoa digitize printed {len(lines)} results for {len(items)} components")
    for item, line in zip(items, lines, strict=True):
        item.ours = line


def _walk(value: Any, within: tuple[dict[str, Any], ...] = ()) -> Iterator[tuple[tuple[dict[str, Any], ...], str]]:
    """Every string in a JSON value, with the objects that hold it, innermost last (a party's number
    may sit in a field object inside the party)."""
    if isinstance(value, dict):
        inner = (*within, value)
        for v in value.values():
            if isinstance(v, str):
                yield inner, v
            else:
                yield from _walk(v, inner)
    elif isinstance(value, list):
        for v in value:
            yield from ([(within, v)] if isinstance(v, str) else _walk(v, within))


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in text.lower() if ch.isalnum() and not unicodedata.combining(ch))


ROLE_SYNONYMS = {
    "chong": {"chong", "husband"},
    "vo": {"vo", "wife"},
    "benuyquyen": {"benuyquyen", "uyquyen", "principal", "grantor"},
    "benduocuyquyen": {"benduocuyquyen", "duocuyquyen", "agent", "attorney", "proxy"},
    "bena": {"bena", "a", "partya"},
    "benb": {"benb", "b", "partyb"},
    "benban": {"benban", "seller"},
    "benmua": {"benmua", "buyer"},
    "benchothue": {"benchothue", "lessor"},
    "benthue": {"benthue", "lessee", "tenant"},
    "benchuyennhuong": {"benchuyennhuong", "transferor"},
    "bennhanchuyennhuong": {"bennhanchuyennhuong", "transferee"},
}


def _role_matches(expected: str, reported: str) -> bool:
    """``expected`` may name a side two ways ("bên bán|bên A"): either counts."""
    got = _fold(reported)
    return any(got in ROLE_SYNONYMS.get(want, {want}) or got.endswith(want) for want in map(_fold, expected.split("|")))


def id_figures(items: list[Item]) -> dict[str, Any]:
    """Recall of every party's số định danh anywhere in sohoa's extracted fields (not the page text), and
    agreement of the role sohoa gives it when it gives one (any key with "role" in its name)."""
    wanted = found = with_role = role_ok = 0
    missed: list[str] = []
    for item in items:
        extracted = {k: v for k, v in item.ours.items() if k not in ("pages", "file", "pdf", "component")}
        holders: dict[str, list[tuple[dict[str, Any], ...]]] = {}
        for holder, text in _walk(extracted):
            for number in gen.ID_PATTERN.findall(text):
                holders.setdefault(number, []).append(holder)
        for party in item.sample.parties:
            wanted += 1
            if party.id not in holders:
                missed.append(f"{item.sample.category}:{party.role or '-'}")
                continue
            found += 1
            roles = [
                str(v)
                for chain in holders[party.id]
                for h in chain
                for k, v in h.items()
                if "role" in k.lower() and isinstance(v, str)
            ]
            if party.role and roles:
                with_role += 1
                role_ok += any(_role_matches(party.role, r) for r in roles)
    return {
        "id_parties": wanted,
        "id_recall": round(found / max(1, wanted), 4),
        "id_missed": missed,
        "role_reported": with_role,
        "role_agreement": round(role_ok / with_role, 4) if with_role else None,
    }


def class_figures(items: list[Item]) -> dict[str, Any]:
    typed = [i for i in items if i.sample.doc_type is not None]
    truth = [i.sample.doc_type or "" for i in typed]
    predicted = [str(i.ours.get("type", "error")) for i in typed]
    labels = sorted({*truth, "other"})
    others = [p for t, p in zip(truth, predicted, strict=True) if t == "other"]
    confusions = sorted({f"{t}->{p}" for t, p in zip(truth, predicted, strict=True) if t != p})
    return {
        "class_components": len(typed),
        "class_accuracy": round(accuracy(truth, predicted), 4),
        "class_macro_f1": round(macro_f1(truth, predicted, labels), 4),
        "other_recall": round(others.count("other") / len(others), 4) if others else None,
        "class_confusions": confusions,
        "needs_review": sum(bool(i.ours.get("needs_review")) for i in items),
    }


def orientation(items: list[Item]) -> tuple[int, int]:
    """(pages sohoa turned as the truth says, pages with a reported rotation)."""
    right = total = 0
    for item in items:
        for truth, page in zip(item.sample.pages, item.ours.get("pages", []), strict=False):
            if "rotation" in page:
                total += 1
                right += int(page["rotation"]) % 360 == truth.upright_turn_cw
    return right, total


def category_table(items: list[Item], categories: list[str]) -> dict[str, dict[str, Any]]:
    table: dict[str, dict[str, Any]] = {}
    for category in categories:
        group = [i for i in items if i.sample.category == category]
        truth = [t for i in group for t in i.truth_pages]
        right, total = orientation(group)
        table[category] = {
            "components": len(group),
            "pages": len(truth),
            "sohoa_cer": round(corpus_cer(truth, [t for i in group for t in i.ours_pages]), 5),
            "ocrmypdf_cer": round(corpus_cer(truth, [t for i in group for t in i.ocrmypdf_pages]), 5)
            if all(len(i.ocrmypdf_pages) == len(i.truth_pages) for i in group)
            else None,
            "orientation_ok": f"{right}/{total}",
            "failed": sum(not i.ours.get("ok", False) for i in group),
        }
    return table


def run_ocrmypdf(items: list[Item], work: Path, jobs: int, env: dict[str, str]) -> Run:
    """One OCRmyPDF run over every page of every category (pages are OCR'd independently, so this is
    the per-category figure without a start-up per category); its text layer is split back by page."""
    source = merged_pdf(items, work / "ocrmypdf-in.pdf")
    out = work / "ocrmypdf-out.pdf"
    run = measure(ocrmypdf_command(source, jobs, out, rotate_pages=True), env=env)
    if run.returncode != 0 or not out.exists():
        raise SystemExit(f"ocrmypdf exited {run.returncode}")
    pages = pdftotext_pages(out, raw=True)
    for item in items:
        count = len(item.truth_pages)
        item.ocrmypdf_pages, pages = pages[:count], pages[count:]
    print(f"ocrmypdf: {run.wall_s:.1f} s, {run.peak_rss_mib:.0f} MiB peak RSS", flush=True)
    return run


def speed(clean: list[Item], work: Path, jobs: int, repeat: int, env: dict[str, str]) -> dict[str, Any]:
    """pages/s on clean pages for the three tools, whole processes, in alternating order."""
    files = [f for i in clean for f in i.files]
    pages = len(files)
    pdf = merged_pdf(clean, work / "speed-in.pdf")
    lists, outs = [], []
    for j in range(jobs):
        lst = work / f"speed-list-{j}.txt"
        lst.write_text("".join(f"{f}\n" for f in files[j::jobs]), "utf-8")
        lists.append(lst)
        outs.append(work / f"speed-tess-{j}")
    commands = {
        "sohoa": lambda i: ours_command([i_.files for i_ in clean], jobs, work / f"speed-ours-{i}"),
        "ocrmypdf": lambda i: ocrmypdf_command(pdf, jobs, work / f"speed-ocrmypdf-{i}.pdf", rotate_pages=True),
        "tesseract": lambda i: tesseract_command(lists, outs),
    }
    runs: dict[str, list[Run]] = {name: [] for name in commands}
    names = list(commands)
    for i in range(repeat):
        order = names[i % len(names) :] + names[: i % len(names)]
        for name in order:
            run = measure(commands[name](i), env=env)
            if run.returncode not in (0,) and name != "sohoa":
                raise SystemExit(f"{name} exited {run.returncode} in the speed runs")
            runs[name].append(run)
            print(f"speed run {i + 1}/{repeat} {name}: {run.wall_s:.2f} s, {run.peak_rss_mib:.0f} MiB", flush=True)
    out: dict[str, Any] = {"pages": pages, "jobs": jobs, "repeat": repeat}
    for name, rs in runs.items():
        walls = [r.wall_s for r in rs]
        out[name] = {
            "pages_per_s": round(pages / min(walls), 4),
            "pages_per_s_median": round(pages / statistics.median(walls), 4),
            "cpu_s_per_page": round(min(r.cpu_s for r in rs) / pages, 3),
            "peak_rss_mib": round(max(r.peak_rss_mib for r in rs), 1),
        }
    # The first runs' text is the clean category's result for both tools (no second OCR of these pages).
    _parse_ours(runs["sohoa"][0], clean)
    theirs = pdftotext_pages(work / "speed-ocrmypdf-0.pdf", raw=True)
    for item in clean:
        count = len(item.truth_pages)
        item.ocrmypdf_pages, theirs = theirs[:count], theirs[count:]
    truth = [t for i in clean for t in i.truth_pages]
    out["sohoa"]["cer"] = round(corpus_cer(truth, [t for i in clean for t in i.ours_pages]), 5)
    tess = [out_base.with_suffix(".txt").read_text("utf-8").split("\f") for out_base in outs]
    tess_pages = {f: t for j in range(jobs) for f, t in zip(files[j::jobs], tess[j], strict=False)}
    out["tesseract"]["cer"] = round(corpus_cer(truth, [tess_pages.get(f, "") for f in files]), 5)
    ratio = out["sohoa"]["pages_per_s"] / out["ocrmypdf"]["pages_per_s"]
    out["ratio_vs_ocrmypdf"] = round(ratio, 3)
    out["ratio_vs_ocrmypdf_median"] = round(
        out["sohoa"]["pages_per_s_median"] / out["ocrmypdf"]["pages_per_s_median"], 3
    )
    # Time ratio sohoa/Tesseract: the target is <= 1.3 (sohoa costs at most 30 % more than Tesseract alone).
    out["time_vs_tesseract"] = round(out["tesseract"]["pages_per_s"] / out["sohoa"]["pages_per_s"], 3)
    out["time_vs_tesseract_median"] = round(
        out["tesseract"]["pages_per_s_median"] / out["sohoa"]["pages_per_s_median"], 3
    )
    return out


def _pct(value: float | None) -> str:
    return "   n/a" if value is None else f"{value:7.2%}"


def main(argv: list[str] | None = None) -> int:
    doc = __doc__ or ""
    parser = argparse.ArgumentParser(prog="python -m bench.digitize.categories", description=doc.splitlines()[0])
    parser.add_argument("--per-category", type=int, default=4, help="components per category")
    parser.add_argument("--clean-pages", type=int, default=12, help="clean pages for the speed runs")
    parser.add_argument("--repeat", type=int, default=3, help="speed runs per tool")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--only", default=",".join(gen.CATEGORIES), help="comma-separated categories")
    parser.add_argument("--no-ocrmypdf", action="store_true", help="sohoa only (no OCRmyPDF CER, no speed runs)")
    parser.add_argument("--no-speed", action="store_true", help="skip the clean-page speed runs")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_PER_CATEGORY} component per category, {QUICK_CLEAN_PAGES} clean pages, one run",
    )
    parser.add_argument("--keep", type=Path, help="keep the corpus and outputs in this folder")
    args = parser.parse_args(argv)
    if args.quick:
        args.per_category, args.clean_pages, args.repeat = QUICK_PER_CATEGORY, QUICK_CLEAN_PAGES, 1
    categories = [c for c in args.only.split(",") if c]
    unknown = set(categories) - set(gen.CATEGORIES)
    if unknown:
        parser.error(f"unknown categories: {sorted(unknown)}")

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-categories-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        items = build(work / "corpus", categories, args.per_category, args.clean_pages, args.seed)
        pages = sum(len(i.truth_pages) for i in items)
        print(f"corpus: {len(items)} components, {pages} pages, {len(categories)} categories, seed {args.seed}")
        env = child_env()
        # The clean pages of the speed runs are read there (both tools' first run gives their CER).
        timed = [] if args.no_speed or args.no_ocrmypdf else [i for i in items if i.sample.category == "clean"]
        timed = timed[: args.clean_pages]
        rest = [i for i in items if all(i is not t for t in timed)]
        ours_runs: list[Run] = []
        theirs_runs: list[Run] = []
        if rest:
            ours_run = measure(ours_command([i.files for i in rest], args.jobs, work / "ours"), env=env)
            (work / "sohoa.jsonl").write_text(ours_run.stdout, "utf-8")
            _parse_ours(ours_run, rest)
            ours_runs.append(ours_run)
            count = sum(len(i.truth_pages) for i in rest)
            print(f"sohoa: {ours_run.wall_s:.1f} s for {count} pages, {ours_run.peak_rss_mib:.0f} MiB", flush=True)
            if not args.no_ocrmypdf:
                theirs_runs.append(run_ocrmypdf(rest, work, args.jobs, env))
        speed_figures = speed(timed, work, args.jobs, args.repeat, env) if timed else {}

    table = category_table(items, categories)
    ids = id_figures(items)
    classes = class_figures(items)
    print()
    print(f"{'category':<12} {'pages':>5} {'sohoa CER':>10} {'OCRmyPDF CER':>13} {'orient.':>8} {'failed':>6}")
    for category, row in table.items():
        mark = " <" if row["ocrmypdf_cer"] is not None and row["sohoa_cer"] > row["ocrmypdf_cer"] else ""
        print(
            f"{category:<12} {row['pages']:>5} {_pct(row['sohoa_cer']):>10} {_pct(row['ocrmypdf_cer']):>13} "
            f"{row['orientation_ok']:>8} {row['failed']:>6}{mark}"
        )
    print("(< : sohoa worse than OCRmyPDF; orient.: pages sohoa turned upright as the truth says)")
    if speed_figures:
        s = speed_figures
        print(
            f"clean pages ({s['pages']}, -j {s['jobs']}, best of {s['repeat']}): "
            f"sohoa {s['sohoa']['pages_per_s']:.3f} pages/s, OCRmyPDF {s['ocrmypdf']['pages_per_s']:.3f}, "
            f"Tesseract alone {s['tesseract']['pages_per_s']:.3f}; CPU s/page {s['sohoa']['cpu_s_per_page']:.2f}, "
            f"{s['ocrmypdf']['cpu_s_per_page']:.2f}, {s['tesseract']['cpu_s_per_page']:.2f}"
        )
        print(
            f"  sohoa/OCRmyPDF speed {s['ratio_vs_ocrmypdf']:.2f}x (median {s['ratio_vs_ocrmypdf_median']:.2f}x); "
            f"sohoa time / Tesseract time {s['time_vs_tesseract']:.2f}x (median {s['time_vs_tesseract_median']:.2f}x); "
            f"CER sohoa {s['sohoa']['cer']:.3%}, Tesseract {s['tesseract']['cer']:.3%}"
        )
    role = "n/a (no roles reported)" if ids["role_agreement"] is None else f"{ids['role_agreement']:.2%}"
    print(
        f"số định danh recall: {ids['id_recall']:.2%} of {ids['id_parties']} parties "
        f"(missed: {', '.join(ids['id_missed']) or 'none'}); roles agree: {role} of {ids['role_reported']}"
    )
    other = "n/a" if classes["other_recall"] is None else f"{classes['other_recall']:.2%}"
    print(
        f"classification: macro-F1 {classes['class_macro_f1']:.4f} (other included), accuracy "
        f"{classes['class_accuracy']:.2%} over {classes['class_components']} components, other recall {other}, "
        f"needs review {classes['needs_review']}; confusions: {', '.join(classes['class_confusions']) or 'none'}"
    )
    speed_rss = {name: [speed_figures[name]["peak_rss_mib"]] if speed_figures else [] for name in ("sohoa", "ocrmypdf")}
    rss = {
        "sohoa": round(max([r.peak_rss_mib for r in ours_runs] + speed_rss["sohoa"], default=0.0), 1),
        "ocrmypdf": round(max([r.peak_rss_mib for r in theirs_runs] + speed_rss["ocrmypdf"], default=0.0), 1),
    }
    print(f"peak RSS: sohoa {rss['sohoa']:.0f} MiB, OCRmyPDF {rss['ocrmypdf']:.0f} MiB (largest process)")
    figures = {
        "seed": args.seed,
        "jobs": args.jobs,
        "per_category": args.per_category,
        "quick": args.quick,
        "categories": table,
        "speed": speed_figures,
        "ids": ids,
        "classification": classes,
        "peak_rss_mib": rss,
        "sohoa_category_run_s": round(sum(r.wall_s for r in ours_runs), 2),
        "bench_s": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(figures, ensure_ascii=False, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
