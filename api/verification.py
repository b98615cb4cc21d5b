"""Signature verification for the portal and the agency API, cached by the file's SHA-256.

Stored documents and results never change (content-addressed, signed once), so a report is
computed once per process and reused; the cache is bounded. Uploaded files are anyone's: they
are verified afresh, in a child process under time and memory limits (``signing.validation.sandbox``).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Request

from api.citizen import client_of
from api.errors import retry_seconds
from api.verify_admission import budget_refusal, checked
from signing.errors import PdfInvalid, PdfTooComplex, PdfTooCostly
from signing.validation import VerificationReport, VerifySandbox, message, verify_pdf
from sohoa.errors import SohoaError

CACHE_SIZE = 2048

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportView:
    """What a page shows: the verdict, one block of Vietnamese lines per signature, and the data."""

    valid: bool
    verdict: str
    problems: list[str]
    signatures: list[list[str]]
    data: dict[str, Any]
    sha256: str
    notices: list[str] = field(default_factory=list)  # warnings about the whole file (active content)


def view_of(report: VerificationReport, sha256: str) -> ReportView:
    verdict = message("document_valid" if report.valid else "document_invalid", "vi")
    return ReportView(
        valid=report.valid,
        verdict=verdict,
        problems=[message(code, "vi") for code in report.problems],
        signatures=[sig.render_lines(n, "vi") for n, sig in enumerate(report.signatures, start=1)],
        data=report.to_dict(),
        sha256=sha256,
        notices=[line for line in (report.active_content_line("vi"),) if line],
    )


def invalid_view(sha256: str, why: type[SohoaError] = PdfInvalid) -> ReportView:
    """The view of a file that could not be verified at all: ``why``'s code as the problem, its sentence."""
    problems = [why.code.lower()]
    data = {"valid": False, "signature_count": 0, "problems": problems, "warnings": [], "signatures": []}
    return ReportView(False, message("document_invalid", "vi"), [why.message_vi], [], data, sha256)


def summary(view: ReportView) -> dict[str, Any]:
    """The short status an API response carries per document."""
    sigs = view.data["signatures"]
    return {
        "valid": view.valid,
        "signature_count": view.data["signature_count"],
        "levels": [s["level"] for s in sigs],
        "signers": [s["signer_name"] for s in sigs],
        "problems": view.data["problems"] + sorted({p for s in sigs for p in s["problems"]}),
        "warnings": view.data["warnings"],
    }


class Verifier:
    def __init__(self, trust_roots: Callable[[], list[Path]], sandbox: VerifySandbox):
        self._roots = trust_roots
        self._sandbox = sandbox
        self._cache: OrderedDict[str, ReportView] = OrderedDict()
        self._lock = threading.Lock()

    def verify_upload(self, pdf: bytes) -> ReportView:
        """Verify a PDF someone uploaded, in the sandbox (blocking: call from a worker thread).

        Raises VerifyBusy when every sandbox process stayed busy.
        """
        sha = hashlib.sha256(pdf).hexdigest()
        try:
            return view_of(self._sandbox.verify(pdf, self._roots()), sha)
        except (PdfInvalid, PdfTooComplex) as exc:
            return invalid_view(sha, type(exc))

    def etsi_upload(self, pdf: bytes) -> str:
        """The ETSI TS 119 102-2 XML report of an uploaded PDF, made in the sandbox (blocking).

        Raises VerifyBusy, PdfInvalid / PdfTooComplex (the file), or the file's coded refusal.
        """
        return self._sandbox.etsi(pdf, self._roots())

    def close(self) -> None:
        self._sandbox.close()

    def verify(self, pdf: bytes, *, cache: bool = False) -> ReportView:
        """Verify a stored document or result, in this process (blocking: call from a worker thread)."""
        sha = hashlib.sha256(pdf).hexdigest()
        if cache:
            with self._lock:
                hit = self._cache.get(sha)
                if hit is not None:
                    self._cache.move_to_end(sha)
                    return hit
        try:
            view = view_of(verify_pdf(pdf, self._roots()), sha)
        except PdfInvalid:
            view = invalid_view(sha)
        if cache:
            with self._lock:
                self._cache[sha] = view
                while len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
        return view

    def cached(self, sha256: str) -> ReportView | None:
        with self._lock:
            return self._cache.get(sha256)


async def check_upload(request: Request, data: bytes) -> ReportView:
    """Verify an uploaded PDF in the sandbox, admitted by ``api.verify_admission``; VerifyBusy when no
    process came free for this client in time.

    A file refused by its declared size (PDF_TOO_COSTLY) is reported as a file that could not be
    verified, as one that overran the sandbox is; nothing was spent on it.
    """
    try:
        return await checked(request, request.app.state.verifier.verify_upload, data)
    except PdfTooCostly as exc:
        log.warning("uploaded PDF refused before verification: %s", exc.detail)
        return invalid_view(hashlib.sha256(data).hexdigest(), PdfTooCostly)


async def etsi_upload(request: Request, data: bytes) -> str:
    """As :func:`check_upload`, for the ETSI XML report; PDF_TOO_COSTLY is raised (a coded 422)."""
    return await checked(request, request.app.state.verifier.etsi_upload, data)


VERIFY_LIMITED = "Bạn đã kiểm tra quá nhiều tệp trong thời gian ngắn. Vui lòng thử lại sau {seconds} giây."


def verify_quota_wait(request: Request) -> float:
    """Seconds this client must wait before another public signature check (0.0: go ahead).

    Checking a PDF costs real CPU and the endpoints are public, so each client address has a
    token bucket; the address is kept only as a keyed hash.
    """
    state = request.app.state
    client = client_of(request)
    wait = state.limits.verify_ip.take(client)
    if wait > 0:
        state.api_metrics.rate_limited.labels("verify").inc()
        log.warning("public verification rate-limited for client %s; retry in %.0f s", client, wait)
    return wait


def verify_refusal(request: Request) -> tuple[float, str] | None:
    """(Retry-After seconds, the Vietnamese sentence) when this client may not check a file now, else None.

    Both limits, before the upload is read: the number of checks (:func:`verify_quota_wait`) and
    the sandbox seconds its recent checks used (``api.verify_admission``). Blocking: call on a thread.
    """
    wait = verify_quota_wait(request)
    if wait > 0:
        return wait, VERIFY_LIMITED.format(seconds=retry_seconds(wait))
    return budget_refusal(request)
