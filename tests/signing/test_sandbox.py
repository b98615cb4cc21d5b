"""Uploaded PDFs are verified in killable child processes: an overrun costs that file, never the service."""

from __future__ import annotations

import os
import resource
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from signing.dev import DevPki
from signing.errors import PdfInvalid, PdfTooComplex, VerifyBusy
from signing.keys import SigningKey
from signing.signers import sign_pdf
from signing.validation import SandboxFault, VerifySandbox


@pytest.fixture(scope="module")
def signed(operator_key: SigningKey, pdf_1page: bytes) -> bytes:
    return sign_pdf(pdf_1page, operator_key)


@pytest.fixture
def sandbox() -> Iterator[VerifySandbox]:
    box = VerifySandbox(processes=1, timeout_s=60, memory_mb=512)
    yield box
    box.close()


def _child_pids(box: VerifySandbox) -> list[int]:
    return [child.process.pid for child in box._idle if child.process.pid is not None]


def test_reports_come_back_from_a_child_process_with_its_limits(
    sandbox: VerifySandbox, signed: bytes, pki: DevPki
) -> None:
    report = sandbox.verify(signed, [pki.root_cert])
    assert report.valid and report.signatures[0].signer_name
    (pid,) = _child_pids(sandbox)
    assert pid != os.getpid()
    limits = Path(f"/proc/{pid}/limits").read_text()
    soft = next(line for line in limits.splitlines() if line.startswith("Max address space")).split()[3]
    assert soft != "unlimited" and int(soft) > 512 * 1024 * 1024  # its idle size plus the allowance
    assert resource.getrlimit(resource.RLIMIT_AS)[0] == resource.RLIM_INFINITY  # not this process's
    assert sandbox.verify(signed, [pki.root_cert]).valid and _child_pids(sandbox) == [pid]  # the child is reused
    with pytest.raises(PdfInvalid):
        sandbox.verify(b"%PDF-1.7\nnot really", [pki.root_cert])


def test_an_overrun_is_killed_reported_and_the_next_file_still_verified(
    sandbox: VerifySandbox, signed: bytes, pki: DevPki
) -> None:
    assert sandbox.verify(signed, [pki.root_cert]).valid
    (pid,) = _child_pids(sandbox)
    sandbox.timeout_s = 0.001  # no verification finishes in a millisecond: as a file that loops would
    with pytest.raises(PdfTooComplex) as info:
        sandbox.verify(signed, [pki.root_cert])
    assert info.value.code == "PDF_TOO_COMPLEX"
    assert not Path(f"/proc/{pid}").exists()  # killed and reaped
    sandbox.timeout_s = 60
    assert sandbox.verify(signed, [pki.root_cert]).valid
    assert _child_pids(sandbox) != [pid]  # a fresh child


def test_a_child_that_died_while_idle_is_replaced_without_blaming_the_next_file(
    sandbox: VerifySandbox, signed: bytes, pki: DevPki
) -> None:
    assert sandbox.verify(signed, [pki.root_cert]).valid
    (pid,) = _child_pids(sandbox)
    os.kill(pid, signal.SIGKILL)  # as the kernel's OOM killer would
    sandbox._idle[0].process.join(5)
    assert sandbox.verify(signed, [pki.root_cert]).valid


def test_when_every_child_stays_busy_the_caller_is_told_to_come_back(signed: bytes, pki: DevPki) -> None:
    box = VerifySandbox(processes=1, timeout_s=0.2)
    try:
        assert box._slots.acquire(timeout=1)  # the one slot, held by a verification that runs on
        with pytest.raises(VerifyBusy) as info:
            box.verify(signed, [pki.root_cert])
        assert info.value.code == "VERIFY_BUSY" and info.value.retryable
    finally:
        box._slots.release()
        box.close()


def test_a_file_beyond_the_memory_allowance_is_too_complex(signed: bytes, pki: DevPki) -> None:
    """The allowance is the child's address-space limit: here the upload alone does not fit in it."""
    box = VerifySandbox(processes=1, timeout_s=60, memory_mb=64)
    try:
        with pytest.raises(PdfTooComplex):
            box.verify(b"%PDF-1.7\n" + bytes(200 * 1024 * 1024), [pki.root_cert])
        assert box.verify(signed, [pki.root_cert]).valid  # a fresh child for the next file
    finally:
        box.close()


def test_a_fault_that_is_not_the_files_is_a_server_error_not_a_verdict(
    sandbox: VerifySandbox, signed: bytes, tmp_path: Path
) -> None:
    broken_root = tmp_path / "root.pem"
    broken_root.write_bytes(b"not a certificate")
    with pytest.raises(SandboxFault, match="TrustRootInvalid"):
        sandbox.verify(signed, [broken_root])
