"""poppler's ``pdfsig`` and ``pdftotext``: tools we did not write, judging the PDFs we did."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def pdfsig(path: Path, nss: str) -> str:
    assert shutil.which("pdfsig"), "poppler-utils is not installed"
    return subprocess.run(["pdfsig", "-nssdir", nss, str(path)], capture_output=True, text=True, check=False).stdout


def pdftotext(path: Path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
