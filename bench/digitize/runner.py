"""Run a whole OCR process and measure it: wall time, CPU time and the peak RSS of its largest process."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitizer.textnorm import fold_whitespace, nfc

ROOT = Path(__file__).resolve().parents[2]


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance, one numpy row per character of the longer string (the same figure as
    ``digitizer.accuracy.edit_distance``, some hundred times faster on whole pages). The insertion
    step ``cur[j] = min(cur[j], cur[j-1] + 1)`` is a running minimum of ``cur - j``, plus ``j``."""
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    codes = np.frombuffer(b.encode("utf-32-le"), dtype=np.uint32)
    index = np.arange(len(b) + 1)
    previous = index.copy()
    current = np.empty_like(previous)
    for ch in a:
        current[0] = previous[0] + 1
        np.minimum(previous[1:] + 1, previous[:-1] + (codes != ord(ch)), out=current[1:])
        previous = np.minimum.accumulate(current - index) + index
    return int(previous[-1])


def corpus_cer(references: list[str], hypotheses: list[str]) -> float:
    """Total edits over total reference characters (NFC, whitespace folded), all pages together."""
    edits = chars = 0
    for ref, hyp in zip(references, hypotheses, strict=True):
        r, h = fold_whitespace(nfc(ref)), fold_whitespace(nfc(hyp))
        edits += edit_distance(r, h)
        chars += len(r)
    return edits / max(1, chars)


def pdftotext_pages(pdf: Path, *, raw: bool = False) -> list[str]:
    """The text layer of every page of ``pdf`` (poppler's pdftotext), in page order. ``raw``: in the
    order the text was written (for an OCR layer, the OCR's reading order) rather than poppler's
    physical-layout guess, which interleaves the lines of two columns."""
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", *(["-raw"] if raw else []), str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


@dataclass
class Run:
    wall_s: float
    cpu_s: float
    peak_rss_mib: float
    stdout: str
    returncode: int


def measure(cmd: list[str], *, env: dict[str, str] | None = None, cwd: Path = ROOT) -> Run:
    """Run ``cmd`` to completion under a small wrapper process that reports its rusage.

    The wrapper matters: Linux records the parent's RSS high-water mark in a child at exec, so a
    child forked straight from this (large) bench process would report the bench's RSS. ``ru_maxrss``
    from wait4 is the largest RSS of the command or any of its waited-for descendants (each Tesseract
    child of OCRmyPDF; our single process).
    """
    with tempfile.NamedTemporaryFile("r", suffix=".json") as usage_file:
        wrapper = [sys.executable, "-m", "bench.digitize.rusage", usage_file.name, "--", *cmd]
        start = time.perf_counter()
        proc = subprocess.run(wrapper, capture_output=True, env=env, cwd=cwd)
        wall = time.perf_counter() - start
        usage = json.loads(usage_file.read() or "{}")
    if proc.returncode not in (0, 1):
        sys.stderr.write(proc.stderr.decode("utf-8", "replace")[-3000:])
    return Run(
        wall,
        usage.get("cpu_s", 0.0),
        usage.get("maxrss_kib", 0) / 1024.0,
        proc.stdout.decode("utf-8", "replace"),
        proc.returncode,
    )


def ours_command(files_per_component: list[list[Path]], jobs: int, out_dir: Path) -> list[str]:
    """``sohoa digitize``: the product's own command, one process, ``jobs`` components at a time."""
    cmd = [sys.executable, "-m", "cli.main", "digitize", "--json", "-j", str(jobs), "--out", str(out_dir)]
    return cmd + [",".join(str(f) for f in files) for files in files_per_component]


def ocrmypdf_command(
    pdf: Path, jobs: int, out_pdf: Path, sidecar: Path | None = None, *, rotate_pages: bool = False
) -> list[str]:
    """``ocrmypdf -l vie --deskew [--rotate-pages] -j J``, with a text sidecar when asked."""
    binary = Path(sys.executable).with_name("ocrmypdf")
    cmd = [str(binary), "-l", "vie", "--deskew", *(["--rotate-pages"] if rotate_pages else []), "-j", str(jobs), "-q"]
    return cmd + (["--sidecar", str(sidecar)] if sidecar else []) + [str(pdf), str(out_pdf)]


def tesseract_command(image_lists: list[Path], out_bases: list[Path]) -> list[str]:
    """Tesseract alone: one ``tesseract LIST OUT -l vie`` process per list, all at once (one start-up per
    worker, one OpenMP thread each as our engine runs it), waited for together."""
    binary = shutil.which("tesseract") or "tesseract"
    script = " ".join(
        f"{shlex.quote(binary)} {shlex.quote(str(lst))} {shlex.quote(str(out))} -l vie --psm 3 2>/dev/null &"
        for lst, out in zip(image_lists, out_bases, strict=True)
    )
    return ["sh", "-c", f"export OMP_THREAD_LIMIT=1; {script} wait"]


def child_env(ocr_dpi: int | None = None) -> dict[str, str]:
    env = dict(os.environ)
    if ocr_dpi:
        env["SOHOA_OCR__OCR_DPI"] = str(ocr_dpi)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env
