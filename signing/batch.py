"""Batch signing: one engine for ``sohoa sign IN.pdf... --out DIR``, the ``sign`` worker pool and the bench.

Keys are loaded once per process, the CMS skeleton and the signature size once per key, and
revocation data once per validity period. Documents can be spread over a process pool (one
loaded key per process); remote time-stamps are requested from several threads at once.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from signing.fastpades import FastPadesSigner
from signing.keys import SigningKey, load_pkcs12_signer
from signing.rawsign import raw_signer
from signing.revocation import RevocationCache, has_revocation_pointers
from signing.tsa_fast import HttpTokenSource, TokenSource
from sohoa.errors import SohoaError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchConfig:
    """Everything a worker process needs to rebuild the signer (picklable; holds no key)."""

    p12: Path
    passphrase: bytes
    level: str = "B-B"
    tsa_url: str | None = None
    prefer_pss: bool = True
    digest: str = "sha256"
    reason: str | None = None
    location: str | None = None
    check_revocation: bool = True

    def __repr__(self) -> str:  # never show the passphrase
        return f"BatchConfig(p12={self.p12.name!r}, level={self.level!r}, tsa_url={self.tsa_url!r})"


@dataclass(frozen=True)
class BatchResult:
    source: str
    ok: bool
    output: str | None = None
    code: str | None = None
    message: str | None = None


def make_signer(
    key: SigningKey,
    *,
    level: str = "B-B",
    tokens: TokenSource | None = None,
    revocation: RevocationCache | None = None,
    digest: str = "sha256",
    check_revocation: bool = True,
) -> FastPadesSigner:
    """A fast signer for ``key``; checks revocation up front when the certificate names a responder."""
    if revocation is None and (level in ("B-LT", "B-LTA") or (check_revocation and has_revocation_pointers(key.cert))):
        revocation = RevocationCache()
    return FastPadesSigner(raw_signer(key, digest), level=level, tokens=tokens, revocation=revocation)


def signer_from_config(config: BatchConfig) -> FastPadesSigner:
    key = load_pkcs12_signer(config.p12, config.passphrase, prefer_pss=config.prefer_pss)
    tokens = HttpTokenSource(config.tsa_url) if config.tsa_url else None
    return make_signer(
        key, level=config.level, tokens=tokens, digest=config.digest, check_revocation=config.check_revocation
    )


_worker_signer: FastPadesSigner | None = None
_worker_config: BatchConfig | None = None


def _init_worker(config: BatchConfig) -> None:
    global _worker_signer, _worker_config
    _worker_config = config
    _worker_signer = signer_from_config(config)


def _sign_bytes_in_worker(pdf: bytes) -> bytes:
    assert _worker_signer is not None and _worker_config is not None
    return _worker_signer.sign(pdf, reason=_worker_config.reason, location=_worker_config.location)


def _sign_file_in_worker(job: tuple[str, str]) -> BatchResult:
    assert _worker_signer is not None and _worker_config is not None
    return _sign_file(_worker_signer, _worker_config, Path(job[0]), Path(job[1]))


def _sign_file(signer: FastPadesSigner, config: BatchConfig, source: Path, out_dir: Path) -> BatchResult:
    target = out_dir / source.name
    try:
        signed = signer.sign(source.read_bytes(), reason=config.reason, location=config.location)
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        tmp.write_bytes(signed)
        os.replace(tmp, target)
    except SohoaError as exc:
        return BatchResult(str(source), False, code=exc.code, message=exc.message_vi)
    except OSError as exc:
        return BatchResult(str(source), False, code="IO_ERROR", message=exc.strerror)
    return BatchResult(str(source), True, output=str(target))


class BatchSigner:
    """Signs many documents with one configuration, in this process or in a process pool."""

    def __init__(self, config: BatchConfig, *, processes: int = 1):
        self.config = config
        self.processes = max(1, processes)
        self._signer = signer_from_config(config)  # fail fast: bad key, revoked, expired, no TSA
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> BatchSigner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.processes, initializer=_init_worker, initargs=(self.config,))
        return self._pool

    def sign_bytes(self, pdfs: Sequence[bytes]) -> list[bytes]:
        """Sign in-memory PDFs, in order."""
        if self.processes == 1:
            return list(self._map_local(pdfs))
        chunk = max(1, len(pdfs) // (self.processes * 4))
        return list(self._executor().map(_sign_bytes_in_worker, pdfs, chunksize=chunk))

    def _map_local(self, pdfs: Iterable[bytes]) -> Iterator[bytes]:
        signer, cfg = self._signer, self.config
        if signer.tokens is not None and isinstance(signer.tokens, HttpTokenSource):
            # Remote time-stamps: overlap the round trips of several documents.
            with ThreadPoolExecutor(max_workers=4) as pool:
                yield from pool.map(lambda pdf: signer.sign(pdf, reason=cfg.reason, location=cfg.location), pdfs)
            return
        for pdf in pdfs:
            yield signer.sign(pdf, reason=cfg.reason, location=cfg.location)

    def sign_files(self, files: Sequence[Path], out_dir: Path) -> Iterator[BatchResult]:
        """Sign files into ``out_dir`` (same names, written atomically); yields one result per file."""
        out_dir.mkdir(parents=True, exist_ok=True)
        if self.processes == 1 or len(files) < 2:
            for source in files:
                yield _sign_file(self._signer, self.config, Path(source), out_dir)
            return
        jobs = [(str(f), str(out_dir)) for f in files]
        yield from self._executor().map(_sign_file_in_worker, jobs, chunksize=max(1, len(jobs) // (self.processes * 4)))
