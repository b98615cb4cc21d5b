"""Tesseract through its command line: one process per page, single-threaded, TSV on stdout."""

from __future__ import annotations

import csv
import io
import logging
import os
import shutil
import subprocess
from pathlib import Path

from PIL import Image

from digitizer.errors import OcrEngineUnavailable, OcrFailed
from digitizer.model import Word
from digitizer.textnorm import nfc

log = logging.getLogger(__name__)

FULL_PAGE_PSM = 3


class TesseractEngine:
    """``tesseract stdin stdout --psm 3 tsv`` with OMP_THREAD_LIMIT=1 (OpenMP oversubscription is 6× slower)."""

    name = "tesseract"

    def __init__(
        self,
        *,
        binary: str = "tesseract",
        psm: int = FULL_PAGE_PSM,
        timeout_s: float = 120,
        tessdata_dir: Path | None = None,
    ) -> None:
        self.binary = binary
        self.psm = psm
        self.timeout_s = timeout_s
        self.tessdata_dir = tessdata_dir

    def _command(self, languages: str, dpi: int | None) -> list[str]:
        path = shutil.which(self.binary)
        if path is None:
            raise OcrEngineUnavailable(f"{self.binary} not found on PATH")
        cmd = [path, "stdin", "stdout", "-l", languages, "--psm", str(self.psm)]
        if self.tessdata_dir is not None:
            cmd += ["--tessdata-dir", str(self.tessdata_dir)]
        if dpi:
            cmd += ["--dpi", str(dpi)]
        return [*cmd, "tsv"]

    def recognize(self, image: Image.Image, *, languages: str) -> list[Word]:
        """OCR one page; the resolution is taken from ``image.info["dpi"]`` when present."""
        dpi = dpi_of(image)
        cmd = self._command(languages, dpi)
        buf = io.BytesIO()
        if dpi:
            image.save(buf, "PNG", compress_level=1, dpi=(dpi, dpi))
        else:
            image.save(buf, "PNG", compress_level=1)
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
        try:
            proc = subprocess.run(cmd, input=buf.getvalue(), capture_output=True, timeout=self.timeout_s, env=env)
        except subprocess.TimeoutExpired as exc:
            raise OcrFailed(f"tesseract timed out after {self.timeout_s} s") from exc
        except OSError as exc:
            raise OcrEngineUnavailable(f"cannot run tesseract: {exc}") from exc
        stderr = proc.stderr.decode("utf-8", errors="replace")
        if proc.returncode != 0:
            if "Failed loading language" in stderr or "Could not initialize tesseract" in stderr:
                raise OcrEngineUnavailable(f"tesseract languages {languages!r}: {stderr.strip()[-300:]}")
            raise OcrFailed(f"tesseract exit {proc.returncode}: {stderr.strip()[-300:]}")
        return parse_tsv(proc.stdout.decode("utf-8", errors="replace"))


def dpi_of(image: Image.Image) -> int | None:
    value = image.info.get("dpi")
    if value is None:
        return None
    try:
        dpi = round(float(value[0] if isinstance(value, tuple | list) else value))
    except (TypeError, ValueError, IndexError):
        return None
    return dpi if dpi > 0 else None


def parse_tsv(tsv: str) -> list[Word]:
    """Words (level 5 rows) in reading order; ``line`` numbers each (block, paragraph, line) in order."""
    words: list[Word] = []
    line_ids: dict[tuple[str, str, str, str], int] = {}
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        if row.get("level") != "5":
            continue
        text = nfc((row.get("text") or "").strip())
        if not text:
            continue
        try:
            box = (int(row["left"]), int(row["top"]), int(row["width"]), int(row["height"]))
            conf = float(row["conf"])
        except (KeyError, TypeError, ValueError):
            continue
        key = (row["page_num"], row["block_num"], row["par_num"], row["line_num"])
        line = line_ids.setdefault(key, len(line_ids))
        words.append(Word(text=text, box=box, confidence=max(0.0, min(1.0, conf / 100.0)), line=line))
    return words
