"""How many pages a scan will cost the pipeline, counted while the batch reader hashes it.

The batch reader streams every scan once; ``PageCounter`` rides along: from the first bytes it
knows the kind, and only a kind that can hold several pages (PDF, TIFF) is kept aside to be
counted. Every other scan is one page. A file that cannot be read is one page too: the
``digitize`` step fails it before any OCR, so it costs no more than that.

Counting must not itself be what a small upload makes expensive:

- a TIFF's frames are counted by walking its chain of directories (a few bytes each) up to
  ``MAX_FRAMES``, with loops detected; past that the scan is ``TOO_MANY`` pages;
- a PDF of at most ``IN_PROCESS_PDF_BYTES`` is counted by qpdf in process (well under a second
  even for a file of nothing but empty pages); a larger one by the ``qpdf`` program under a
  time and memory allowance, and one that overruns it is ``TOO_MANY`` pages. A scanned page
  is tens to hundreds of KB, so real PDFs of any size are counted in milliseconds.
"""

from __future__ import annotations

import io
import logging
import shutil
import struct
import subprocess
import tempfile
from typing import IO

import pikepdf

from digitizer.images import TIFF_MAGICS, sniff

log = logging.getLogger(__name__)

_HEAD = 16
MAX_FRAMES = 100_000
TOO_MANY = 10**9  # more pages than any bound: the batch is refused for them
IN_PROCESS_PDF_BYTES = 1024 * 1024
QPDF_TIMEOUT_S = 10.0
QPDF_MEMORY_KIB = 1024 * 1024
# The shell applies the memory allowance to qpdf alone (no preexec_fn in a threaded process).
_QPDF = 'ulimit -v {kib}; exec qpdf --show-npages "$1"'


def _pdf_pages_in_process(stream: IO[bytes]) -> int:
    try:
        with pikepdf.open(stream) as pdf:  # type: ignore[arg-type]  # any binary stream; the stub says BinaryIO
            return len(pdf.pages)
    except (pikepdf.PdfError, OSError, ValueError, RecursionError) as exc:
        log.info("pdf not readable (%s): counted as one page", exc)
        return 1


def _pdf_pages_by_qpdf(path: str) -> int:
    cmd = ["sh", "-c", _QPDF.format(kib=QPDF_MEMORY_KIB), "sh", path]
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=QPDF_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        log.warning("a PDF took qpdf over %.0f s to count: too many pages", QPDF_TIMEOUT_S)
        return TOO_MANY
    out = done.stdout.strip()
    if out.isdigit():  # exit 0, or 3 with warnings: counted
        return int(out)
    if done.returncode == 2 and b"bad_alloc" not in done.stderr:  # qpdf's own verdict: not a readable PDF
        log.info("pdf not readable by qpdf: counted as one page")
        return 1
    log.warning("a PDF overran qpdf's allowance while counting (exit %s): too many pages", done.returncode)
    return TOO_MANY


def _tiff_frames(data: IO[bytes]) -> int:
    """Frames in a (classic) TIFF: the length of its directory chain (``MAX_FRAMES`` at most, loops stop it).

    A BigTIFF is no TIFF to the digitizer (``digitizer.images.TIFF_MAGICS``): it fails there as
    NOT_AN_IMAGE, so intake counts it as one page like any file the pipeline will not read.
    """
    head = data.read(8)
    order = "<" if head[:2] == b"II" else ">"
    count_fmt, entry, link_fmt = "H", 12, "I"
    offset = struct.unpack(order + "I", head[4:8])[0]
    seen: set[int] = set()
    while offset and offset not in seen:
        if len(seen) >= MAX_FRAMES:
            return TOO_MANY
        seen.add(offset)
        data.seek(offset)
        raw = data.read(struct.calcsize(count_fmt))
        if len(raw) < struct.calcsize(count_fmt):
            break
        entries = struct.unpack(order + count_fmt, raw)[0]
        data.seek(offset + len(raw) + entries * entry)
        link = data.read(struct.calcsize(link_fmt))
        if len(link) < struct.calcsize(link_fmt):
            break
        offset = struct.unpack(order + link_fmt, link)[0]
    return len(seen)


class PageCounter:
    """Fed a scan's chunks in order; ``pages()`` once they are all in."""

    def __init__(self) -> None:
        self._head = b""
        self._early: list[bytes | memoryview] = []  # chunks seen before the kind is known
        self._kind: str | None = None
        self._kept: IO[bytes] | None = None  # a PDF or TIFF: in memory, or in a file past IN_PROCESS_PDF_BYTES
        self._size = 0

    def feed(self, chunk: bytes | memoryview) -> None:
        if self._kind is None:
            self._head += bytes(chunk[: _HEAD - len(self._head)])
            self._early.append(chunk)
            if len(self._head) >= _HEAD:
                self._decide()
        elif self._kept is not None:
            self._keep(chunk)

    def _decide(self) -> None:
        self._kind = "tiff" if self._head.startswith(TIFF_MAGICS) else sniff(self._head) or "other"
        if self._kind in ("pdf", "tiff"):
            self._kept = io.BytesIO()
            for chunk in self._early:
                self._keep(chunk)
        self._early = []

    def _keep(self, chunk: bytes | memoryview) -> None:
        assert self._kept is not None
        self._size += len(chunk)
        if isinstance(self._kept, io.BytesIO) and self._size > IN_PROCESS_PDF_BYTES:
            spilled = tempfile.NamedTemporaryFile(prefix="sohoa-count-", suffix=f".{self._kind}")  # noqa: SIM115
            spilled.write(self._kept.getbuffer())
            self._kept = spilled
        self._kept.write(chunk)

    def pages(self, name: str = "") -> int:
        """The scan's pages: a PDF's page count, a TIFF's frames, 1 for anything else (module doc)."""
        if self._kind is None:
            self._decide()  # shorter than a header: whatever it is, at most one page
        kept, self._kept = self._kept, None
        if kept is None:
            return 1
        try:
            kept.flush()
            kept.seek(0)
            if self._kind == "tiff":
                count = _tiff_frames(kept)
            elif isinstance(kept, io.BytesIO) or shutil.which("qpdf") is None:
                count = _pdf_pages_in_process(kept)
            else:
                count = _pdf_pages_by_qpdf(kept.name)
        except (OSError, struct.error) as exc:
            log.info("scan %r: pages not countable (%s); counted as one", name, exc)
            return 1
        finally:
            kept.close()
        return max(count, 1)
