"""Batch signing: one engine for ``sohoa sign IN.pdf... --out DIR``, the ``sign`` worker pool and the bench.

Keys are loaded once per process and the CMS skeleton and the signature size once per key.
Documents go through :meth:`FastPadesSigner.sign_many` in chunks, so B-LT/B-LTA fetch status once
per chunk, after the chunk's last time-stamp. Documents can be spread over a process pool (one
loaded key per process); remote time-stamps are requested from several threads at once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from signing.errors import SigningFailed
from signing.keys.keys import load_pkcs12_signer
from signing.signers.fastpades import FastPadesSigner
from signing.timestamps.source import HttpTimestampSource
from sohoa.errors import SohoaError
from sohoa.files import write_atomic

log = logging.getLogger(__name__)
T = TypeVar("T")
CHUNK = 32  # documents whose B-LT/B-LTA status is fetched together


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


def signer_from_config(config: BatchConfig) -> FastPadesSigner:
    key = load_pkcs12_signer(config.p12, config.passphrase, prefer_pss=config.prefer_pss)
    tokens = HttpTimestampSource(config.tsa_url) if config.tsa_url else None
    return FastPadesSigner.for_key(
        key, level=config.level, tokens=tokens, digest=config.digest, check_revocation=config.check_revocation
    )


_worker_signer: FastPadesSigner | None = None
_worker_config: BatchConfig | None = None


def _init_worker(config: BatchConfig) -> None:
    global _worker_signer, _worker_config
    _worker_config = config
    _worker_signer = signer_from_config(config)


def _sign_bytes_in_worker(pdfs: Sequence[bytes]) -> list[bytes]:
    assert _worker_signer is not None and _worker_config is not None
    return _signed_or_raise(_worker_signer, _worker_config, pdfs)


def _signed_or_raise(signer: FastPadesSigner, config: BatchConfig, pdfs: Sequence[bytes]) -> list[bytes]:
    signed: list[bytes] = []
    for item in signer.sign_many(pdfs, reason=config.reason, location=config.location):
        if isinstance(item, SohoaError):
            raise item
        signed.append(item)
    return signed


def _sign_file_in_worker(job: tuple[str, str]) -> BatchResult:
    assert _worker_signer is not None and _worker_config is not None
    return _sign_file(_worker_signer, _worker_config, Path(job[0]), Path(job[1]))


def _sign_file(signer: FastPadesSigner, config: BatchConfig, source: Path, out_dir: Path) -> BatchResult:
    return _sign_chunk(signer, config, [source], out_dir)[0]


def _sign_chunk(
    signer: FastPadesSigner, config: BatchConfig, sources: Sequence[Path], out_dir: Path
) -> list[BatchResult]:
    """Sign files together (one status fetch for B-LT/B-LTA); each gets its own result."""
    results: dict[int, BatchResult] = {}
    data: dict[int, bytes] = {}
    for i, source in enumerate(sources):
        try:
            data[i] = source.read_bytes()
        except OSError as exc:
            results[i] = BatchResult(str(source), False, code="IO_ERROR", message=exc.strerror)
    try:
        signed = signer.sign_many(list(data.values()), reason=config.reason, location=config.location)
    except SohoaError as exc:  # the whole chunk: status unavailable, chain revoked, TSA down
        signed = [exc] * len(data)
    except Exception as exc:  # e.g. the TSA's own errors: reported per file, the next chunk still runs
        log.error("Signing a chunk of %d files failed: %s", len(data), type(exc).__name__, exc_info=exc)
        signed = [SigningFailed(type(exc).__name__)] * len(data)
    for i, out in zip(data, signed, strict=True):
        source = sources[i]
        if isinstance(out, SohoaError):
            results[i] = BatchResult(str(source), False, code=out.code, message=out.message_vi)
            continue
        target = out_dir / source.name
        try:
            write_atomic(target, out)
        except OSError as exc:
            results[i] = BatchResult(str(source), False, code="IO_ERROR", message=exc.strerror)
            continue
        results[i] = BatchResult(str(source), True, output=str(target))
    return [results[i] for i in range(len(sources))]


def _chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


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
        size = max(1, min(CHUNK, len(pdfs) // (self.processes * 4)))
        return [pdf for signed in self._executor().map(_sign_bytes_in_worker, _chunks(pdfs, size)) for pdf in signed]

    def _map_local(self, pdfs: Sequence[bytes]) -> Iterator[bytes]:
        signer, cfg = self._signer, self.config

        def sign_chunk(chunk: Sequence[bytes]) -> list[bytes]:
            return _signed_or_raise(signer, cfg, chunk)

        if signer.tokens is not None and isinstance(signer.tokens, HttpTimestampSource):
            # Remote time-stamps: overlap the round trips of several chunks.
            with ThreadPoolExecutor(max_workers=4) as pool:
                for signed in pool.map(sign_chunk, _chunks(pdfs, max(1, min(CHUNK, len(pdfs) // 4)))):
                    yield from signed
            return
        for chunk in _chunks(pdfs, CHUNK):
            yield from sign_chunk(chunk)

    def sign_files(self, files: Sequence[Path], out_dir: Path) -> Iterator[BatchResult]:
        """Sign files into ``out_dir`` (same names, written atomically); yields one result per file."""
        out_dir.mkdir(parents=True, exist_ok=True)
        if self.processes == 1 or len(files) < 2:
            for chunk in _chunks([Path(f) for f in files], CHUNK):
                yield from _sign_chunk(self._signer, self.config, chunk, out_dir)
            return
        jobs = [(str(f), str(out_dir)) for f in files]
        yield from self._executor().map(_sign_file_in_worker, jobs, chunksize=max(1, len(jobs) // (self.processes * 4)))
