"""Verify untrusted PDFs in child processes, under a wall-clock and a memory limit.

Anyone may upload a PDF to the public verification endpoints, and pyHanko parses lazily all
the way down: a crafted file can make it loop for minutes or inflate a stream without bound.
In the API process that would hold a request thread for good (threads cannot be stopped) or
take the whole process down. A child process can be killed: each verification gets
``timeout_s`` and an address-space allowance of ``memory_mb`` above what the child holds when
idle; past either, the child is killed and replaced and the file is reported as too complex
(``PdfTooComplex``). Children are forked from a clean forkserver with the verifier already
imported, so a replacement starts in milliseconds, and at most ``processes`` run at once
(``VerifyBusy`` when none comes free within ``timeout_s``).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import resource
import threading
from collections.abc import Sequence
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from signing.errors import PdfInvalid, PdfTooComplex, VerifyBusy
from signing.validation.etsi import etsi_report
from signing.validation.report import VerificationReport
from signing.validation.verify import verify_pdf
from sohoa.errors import SohoaError, error
from sohoa.logging_setup import setup_logging

log = logging.getLogger(__name__)

_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["signing.validation.verify"])


def _address_space() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[0]) * resource.getpagesize()


def _serve(conn: Connection, memory_bytes: int, json_logs: bool) -> None:
    """The child: verify each PDF it is sent; answer ("ok", report), ("invalid" | "memory", None),
    ("refused", (code, detail, vi, en)) for another coded refusal, or ("fault", why).

    A request is (kind, pdf, roots): kind "report" is :func:`verify_pdf`, "etsi" the ETSI
    TS 119 102-2 XML validation report (:func:`signing.validation.etsi.etsi_report`).
    """
    setup_logging(json_lines=json_logs)
    limit = _address_space() + memory_bytes
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    while True:
        try:
            kind, pdf, roots = conn.recv()
        except (EOFError, MemoryError):  # the parent is gone, or the file alone is over the allowance
            return
        try:
            conn.send(("ok", etsi_report(pdf, roots) if kind == "etsi" else verify_pdf(pdf, roots)))
        except PdfInvalid:
            conn.send(("invalid", None))
        except MemoryError:
            conn.send(("memory", None))
        except SohoaError as exc:
            if exc.code.startswith("PDF_"):  # a coded refusal about the file (e.g. hybrid cross-references)
                conn.send(("refused", (exc.code, exc.detail, exc.message_vi, exc.message_en)))
            else:  # about the server (its trust roots): a fault, not a verdict on the file
                conn.send(("fault", f"{type(exc).__name__}: {exc}"))
        except Exception as exc:  # not the file's doing (the trust roots, a fault of ours): the caller's to raise
            conn.send(("fault", f"{type(exc).__name__}: {exc}"))


class SandboxFault(RuntimeError):
    """Verification failed in the child for a reason that is not the file's (a server error, not a verdict)."""


class _Child:
    def __init__(self, memory_bytes: int):
        self.conn, child_end = _CONTEXT.Pipe()
        json_logs = os.environ.get("SOHOA_LOG_JSON", "").lower() in ("1", "true", "yes")
        self.process: BaseProcess = _CONTEXT.Process(
            target=_serve, args=(child_end, memory_bytes, json_logs), daemon=True, name="sohoa-verify"
        )
        self.process.start()
        child_end.close()

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()


class VerifySandbox:
    """At most ``processes`` verifications at once, each in a child that is killed when it overruns."""

    def __init__(self, *, processes: int = 2, timeout_s: float = 30.0, memory_mb: int = 1024):
        self.timeout_s = timeout_s
        self._memory_bytes = memory_mb * 1024 * 1024
        self._slots = threading.BoundedSemaphore(processes)
        self._idle: list[_Child] = []
        self._lock = threading.Lock()
        self._closed = False

    def verify(self, pdf: bytes, trust_roots: Sequence[Path]) -> VerificationReport:
        """``verify_pdf`` in a child. Raises PdfInvalid, PdfTooComplex (the child is then replaced),
        VerifyBusy when no child came free within ``timeout_s``, or SandboxFault."""
        return self._ask("report", pdf, trust_roots)

    def etsi(self, pdf: bytes, trust_roots: Sequence[Path]) -> str:
        """The ETSI TS 119 102-2 validation report (XML) in a child; raises as :meth:`verify` does,
        and the file's own coded refusal (e.g. PDF_HYBRID_XREF)."""
        return self._ask("etsi", pdf, trust_roots)

    def _ask(self, kind: str, pdf: bytes, trust_roots: Sequence[Path]) -> Any:
        if not self._slots.acquire(timeout=self.timeout_s):
            raise VerifyBusy(f"all verification processes busy for {self.timeout_s:g} s")
        try:
            outcome, answer = self._run(kind, pdf, list(trust_roots))
        finally:
            self._slots.release()
        if outcome == "invalid":
            raise PdfInvalid("unreadable PDF")
        if outcome == "refused":
            code, detail, vi, en = answer
            raise error(code, vi, en)(detail)
        if outcome == "fault":
            raise SandboxFault(answer)
        return answer

    def _run(self, kind: str, pdf: bytes, roots: list[Path]) -> tuple[str, Any]:
        child = self._take()
        try:
            child.conn.send((kind, pdf, roots))
        except OSError:  # it stopped reading: the file alone was over its memory allowance
            child.kill()
            log.warning("the process verifying an uploaded PDF (%d bytes) could not take it in", len(pdf))
            raise PdfTooComplex("the file is larger than the verification memory allowance") from None
        if not child.conn.poll(self.timeout_s):
            child.kill()
            log.warning("verification of an uploaded PDF (%d bytes) killed after %g s", len(pdf), self.timeout_s)
            raise PdfTooComplex(f"verification ran past {self.timeout_s:g} s")
        try:
            outcome, report = child.conn.recv()
        except (EOFError, OSError):  # killed by the kernel, or its limit hit outside Python
            child.kill()
            log.warning("the process verifying an uploaded PDF (%d bytes) died", len(pdf))
            raise PdfTooComplex("the verifying process died") from None
        if outcome == "memory":
            child.kill()  # a MemoryError may leave it half-broken: start afresh
            log.warning("verification of an uploaded PDF (%d bytes) ran out of its memory allowance", len(pdf))
            raise PdfTooComplex("verification needed more memory than allowed")
        self._give_back(child)
        return outcome, report

    def _take(self) -> _Child:
        with self._lock:
            if self._closed:
                raise RuntimeError("the verification sandbox is closed")
            child = self._idle.pop() if self._idle else None
        if child is not None and child.process.is_alive():
            return child
        if child is not None:  # died while idle (the kernel's OOM killer, an operator): not this file's fault
            child.kill()
        return _Child(self._memory_bytes)

    def _give_back(self, child: _Child) -> None:
        with self._lock:
            if not self._closed:
                self._idle.append(child)
                return
        child.kill()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for child in idle:
            child.kill()
