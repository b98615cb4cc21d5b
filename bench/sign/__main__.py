"""``python -m bench.sign``: naive pyHanko loop vs the batch signer, on the same e-results.

Prints signatures/s for the naive loop (``pyhanko.sign.signers.sign_pdf`` per document, signer
loaded once, as in pyHanko's documentation), for our batch signer in one process and in a
process pool, their ratios, and ``openssl speed rsa2048`` as the physical limit. Each figure is
the median of several timed repeats after a warm-up. A sample of every mode's outputs is checked
with pyHanko (``signing.validation.verify``) and poppler's ``pdfsig``. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from io import BytesIO
from pathlib import Path

from bench.sign.docs import Pdfsig, e_result, scanned_dossier

FIGURES: dict[str, object] = {}


def say(key: str, value: object, text: str) -> None:
    FIGURES[key] = value
    print(text, flush=True)


def rate(
    run: Callable[[Sequence[bytes]], list[bytes]], docs: Sequence[bytes], repeats: int
) -> tuple[float, list[bytes]]:
    """Median documents/s over ``repeats`` timed runs, after one small warm-up run."""
    run(docs[: max(2, len(docs) // 10)])
    rates, out = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = run(docs)
        rates.append(len(docs) / (time.perf_counter() - t0))
    return statistics.median(rates), out


def openssl_rsa2048() -> float:
    proc = subprocess.run(
        ["openssl", "speed", "-seconds", "3", "-mr", "rsa2048"], capture_output=True, text=True, check=True
    )
    match = re.search(r"^\+F2:\d+:2048:([0-9.e+-]+):", proc.stdout, re.M)
    if match is None:
        raise RuntimeError("cannot parse openssl speed output")
    return float(match.group(1))  # the machine-readable line carries sign/s directly


def naive_runner(p12: Path, passphrase: bytes, *, tsa_url: str | None = None, root: Path | None = None):
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.sign.timestamps import HTTPTimeStamper
    from pyhanko_certvalidator import ValidationContext

    from signing.validation import load_trust_roots

    signer = signers.SimpleSigner.load_pkcs12(str(p12), passphrase=passphrase)
    timestamper = HTTPTimeStamper(tsa_url) if tsa_url else None
    meta = signers.PdfSignatureMetadata(field_name="Signature1", subfilter=fields.SigSeedSubFilter.PADES)
    if tsa_url:
        vc = ValidationContext(trust_roots=load_trust_roots([root]), allow_fetching=True)
        meta = signers.PdfSignatureMetadata(
            field_name="Signature1",
            subfilter=fields.SigSeedSubFilter.PADES,
            embed_validation_info=True,
            validation_context=vc,
        )

    def run(docs: Sequence[bytes]) -> list[bytes]:
        out = []
        for pdf in docs:
            w = IncrementalPdfFileWriter(BytesIO(pdf))
            out.append(signers.sign_pdf(w, meta, signer=signer, timestamper=timestamper).getvalue())
        return out

    return run


def check_sample(name: str, outputs: Sequence[bytes], roots: list[Path], pdfsig: Pdfsig, level: str) -> None:
    from signing.validation import verify_pdf

    sample = [outputs[0], outputs[-1]]
    ok = 0
    for pdf in sample:
        report = verify_pdf(pdf, roots)
        sig = report.signatures[0] if report.signatures else None
        valid, found, _ = pdfsig.valid_count(pdf)
        if report.valid and sig is not None and sig.level == level and valid == found == 1:
            ok += 1
    say(f"valid_{name}", f"{ok}/{len(sample)}", f"  validated {name}: {ok}/{len(sample)} (pyHanko {level} + pdfsig)")
    if ok != len(sample):
        raise SystemExit(f"bench/sign: {name} produced a signature that does not validate")


_DEV_PKI_HTTP: list[object] = []


def dev_pki_url() -> str:
    """The development PKI's responders served on a free loopback port for this run: pdfsig asks the
    OCSP responder a certificate names, and trusts nothing it cannot ask."""
    from signing.dev import DevPkiHttp

    if not _DEV_PKI_HTTP:
        _DEV_PKI_HTTP.append(DevPkiHttp())
    server = _DEV_PKI_HTTP[0]
    assert isinstance(server, DevPkiHttp)
    return server.base_url("bench")


def bench_bb(work: Path, repeats: int, processes: int, quick: bool) -> None:
    from signing.dev import ensure_dev_pki
    from signing.signers import BatchConfig, BatchSigner

    pki = ensure_dev_pki(work / "devpki", base_url=dev_pki_url())
    pdfsig = Pdfsig(work / "pdfsig-dev", [pki.root_cert, pki.ca_cert])
    config = BatchConfig(p12=pki.agency_p12, passphrase=pki.passphrase(), level="B-B")
    naive = naive_runner(pki.agency_p12, pki.passphrase())
    for pages in (1, 10):
        docs_n, docs_f = (10, 100) if quick else (30, 400)
        base = e_result(pages, seed=pages)
        naive_rate, naive_out = rate(naive, [base] * docs_n, repeats)
        with BatchSigner(config) as batch:
            fast_rate, fast_out = rate(batch.sign_bytes, [base] * docs_f, repeats)
        with BatchSigner(config, processes=processes) as pool:
            pool_rate, pool_out = rate(pool.sign_bytes, [base] * docs_f * 2, repeats)
        tag = f"bb_{pages}p"
        print(f"B-B RSA-2048, {pages}-page e-result ({len(base)} bytes):")
        say(f"{tag}_naive_per_s", round(naive_rate, 1), f"  naive pyHanko loop (1 process): {naive_rate:8.1f} sig/s")
        say(f"{tag}_batch_per_s", round(fast_rate, 1), f"  batch signer, 1 process:       {fast_rate:8.1f} sig/s")
        say(
            f"{tag}_pool_per_s",
            round(pool_rate, 1),
            f"  batch signer, {processes} processes:     {pool_rate:8.1f} sig/s",
        )
        say(f"{tag}_ratio_1proc", round(fast_rate / naive_rate, 1), f"  ratio 1 process: {fast_rate / naive_rate:.1f}x")
        say(f"{tag}_ratio_pool", round(pool_rate / naive_rate, 1), f"  ratio pool:      {pool_rate / naive_rate:.1f}x")
        check_sample(f"{tag}_naive", naive_out, pki.trust_roots, pdfsig, "B-B")
        check_sample(f"{tag}_batch", fast_out, pki.trust_roots, pdfsig, "B-B")
        check_sample(f"{tag}_pool", pool_out, pki.trust_roots, pdfsig, "B-B")


def bench_blt(work: Path, repeats: int, processes: int, quick: bool) -> None:
    from signing.signers import BatchConfig, BatchSigner
    from testkit.pki import ServedPki
    from testkit.servers import start_owned

    directory = work / "servedpki"
    server = start_owned(
        [sys.executable, "-m", "testkit.pki", str(directory)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert server.stdout is not None
        base_url = server.stdout.readline().decode().strip()
        pki = ServedPki(directory, base_url, "rsa2048")
        pdfsig = Pdfsig(work / "pdfsig-served", [pki.root_cert, pki.ca_cert])
        print(f"B-LT RSA-2048 (test PKI with OCSP/CRL/TSA served on {base_url}, separate process):")
        base = e_result(1, seed=7)
        naive = naive_runner(pki.p12("agency"), pki.passphrase(), tsa_url=pki.tsa_url, root=pki.root_cert)
        naive_rate, naive_out = rate(naive, [base] * (4 if quick else 10), repeats)
        config = BatchConfig(p12=pki.p12("agency"), passphrase=pki.passphrase(), level="B-LT", tsa_url=pki.tsa_url)
        with BatchSigner(config) as batch:
            fast_rate, fast_out = rate(batch.sign_bytes, [base] * (50 if quick else 200), repeats)
        with BatchSigner(config, processes=processes) as pool:
            pool_rate, pool_out = rate(pool.sign_bytes, [base] * (100 if quick else 400), repeats)
        say("blt_1p_naive_per_s", round(naive_rate, 2), f"  naive pyHanko loop (1 process): {naive_rate:8.2f} sig/s")
        say("blt_1p_batch_per_s", round(fast_rate, 1), f"  batch signer, 1 process:       {fast_rate:8.1f} sig/s")
        say(
            "blt_1p_pool_per_s",
            round(pool_rate, 1),
            f"  batch signer, {processes} processes:     {pool_rate:8.1f} sig/s",
        )
        say("blt_1p_ratio_1proc", round(fast_rate / naive_rate, 1), f"  ratio 1 process: {fast_rate / naive_rate:.1f}x")
        say("blt_1p_ratio_pool", round(pool_rate / naive_rate, 1), f"  ratio pool:      {pool_rate / naive_rate:.1f}x")
        check_sample("blt_naive", naive_out, pki.trust_roots, pdfsig, "B-LT")
        check_sample("blt_batch", fast_out, pki.trust_roots, pdfsig, "B-LT")
        check_sample("blt_pool", pool_out, pki.trust_roots, pdfsig, "B-LT")
    finally:
        if server.stdin is not None:
            server.stdin.close()
        server.wait(timeout=30)


def dossier_child(path: Path, engine: str, pki_dir: Path, out: Path) -> None:
    """Sign + validate the big dossier in this (fresh) process; prints one JSON line."""
    from datetime import datetime

    from signing.dev import dev_timestamper, ensure_dev_pki
    from signing.keys import load_pkcs12_signer
    from signing.signers import copy_stamp, make_room, sign_pdf
    from signing.validation import verify_pdf

    pki = ensure_dev_pki(pki_dir)
    key = load_pkcs12_signer(pki.operator_p12, pki.passphrase())
    data = path.read_bytes()
    t0 = time.perf_counter()
    if engine == "pyhanko":
        stamp = copy_stamp(key.subject_name, datetime.now().astimezone())
        data = make_room(data, stamp)
        signed = sign_pdf(data, key, level="B-T", timestamper=dev_timestamper(pki), appearance=stamp)
    else:
        signed = sign_pdf(data, key, level="B-T", timestamper=dev_timestamper(pki), engine="fast")
    sign_s = time.perf_counter() - t0
    del data
    out.write_bytes(signed)
    t0 = time.perf_counter()
    report = verify_pdf(signed, pki.trust_roots)
    verify_s = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sig = report.signatures[0]
    print(
        json.dumps(
            {
                "sign_s": round(sign_s, 2),
                "verify_s": round(verify_s, 2),
                "valid": report.valid and sig.level == "B-T",
                "peak_rss_mb": round(peak_mb),
                "size_mb": round(len(signed) / 1e6, 1),
            }
        )
    )


def bench_dossier(work: Path) -> None:
    from signing.dev import ensure_dev_pki

    path = work / "dossier-200p.pdf"
    t0 = time.perf_counter()
    size = scanned_dossier(path)
    print(f"Scanned dossier: 200 pages, {size / 1e6:.1f} MB (generated in {time.perf_counter() - t0:.0f} s)")
    FIGURES["dossier_mb"] = round(size / 1e6, 1)
    pki = ensure_dev_pki(work / "devpki", base_url=dev_pki_url())
    pdfsig = Pdfsig(work / "pdfsig-dossier", [pki.root_cert, pki.ca_cert])
    for engine in ("fast", "pyhanko"):
        out = work / f"dossier-{engine}.pdf"
        proc = subprocess.run(
            [sys.executable, "-m", "bench.sign", "--dossier-child", str(path), engine, str(work / "devpki"), str(out)],
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        valid, found, _ = pdfsig.valid_count(out)
        ok = result["valid"] and valid == found == 1
        label = "fast path (invisible)" if engine == "fast" else "pyHanko staged path (copy stamp)"
        say(
            f"dossier_{engine}",
            {**result, "pdfsig_valid": valid == found == 1},
            f"  {label}: B-T sign {result['sign_s']} s, verify {result['verify_s']} s, "
            f"peak RSS {result['peak_rss_mb']} MB, valid pyHanko+pdfsig: {ok}",
        )
        out.unlink()
        if not ok:
            raise SystemExit(f"bench/sign: the {engine} dossier signature does not validate")


def bench_thirdparty(work: Path, repeats: int) -> None:
    """B-B over the PDFs of other producers (testkit/thirdparty_corpus): the shapes ``sohoa sign`` meets.

    Both sides sign the same files, those pyHanko's own loop can sign as they are (its strict reader
    refuses some damaged ones, which the batch signer rewrites before their first signature).
    """
    from signing.dev import ensure_dev_pki
    from signing.signers import BatchConfig, BatchSigner
    from signing.validation import verify_pdf
    from testkit.thirdparty_corpus import build_corpus

    pki = ensure_dev_pki(work / "devpki", base_url=dev_pki_url())
    pdfsig = Pdfsig(work / "pdfsig-thirdparty", [pki.root_cert, pki.ca_cert])
    corpus = [f for f in build_corpus(work / "corpus") if f.expect == "sign"]
    naive = naive_runner(pki.agency_p12, pki.passphrase())
    docs: list[bytes] = []
    roots: list[list[Path]] = []
    for item in corpus:
        data = item.path.read_bytes()
        try:
            naive([data])
        except Exception:  # pyHanko's loop cannot sign it as it is: left out of both sides
            continue
        docs.append(data)
        roots.append([*pki.trust_roots, *item.extra_roots])
    print(f"B-B RSA-2048, {len(docs)} of {len(corpus)} third-party PDFs (those pyHanko's loop signs as they are):")
    naive_rate, _ = rate(naive, docs, repeats)
    with BatchSigner(BatchConfig(p12=pki.agency_p12, passphrase=pki.passphrase(), level="B-B")) as batch:
        fast_rate, fast_out = rate(batch.sign_bytes, docs, repeats)
    say("thirdparty_docs", len(docs), f"  documents: {len(docs)} ({sum(map(len, docs)) / 1e6:.1f} MB)")
    say("thirdparty_naive_per_s", round(naive_rate, 1), f"  naive pyHanko loop (1 process): {naive_rate:8.1f} sig/s")
    say("thirdparty_batch_per_s", round(fast_rate, 1), f"  batch signer, 1 process:       {fast_rate:8.1f} sig/s")
    ratio = fast_rate / naive_rate
    say("thirdparty_ratio_1proc", round(ratio, 1), f"  ratio 1 process: {ratio:.1f}x")
    valid = sum(1 for pdf, trusted in zip(fast_out, roots, strict=True) if verify_pdf(pdf, trusted).valid)
    sample = [fast_out[0], fast_out[-1]]  # pdfsig trusts the development root only: ours must be valid
    pdfsig_ok = sum(1 for pdf in sample if pdfsig.valid_count(pdf)[0] >= 1)
    say("valid_thirdparty_batch", f"{valid}/{len(fast_out)}", f"  validated batch: {valid}/{len(fast_out)} (pyHanko)")
    if valid != len(fast_out) or pdfsig_ok != len(sample):
        raise SystemExit("bench/sign: a third-party PDF signed by the batch signer does not validate")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.sign", description=__doc__)
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats per figure (median reported)")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 2, help="batch signer pool size")
    parser.add_argument("--quick", action="store_true", help="fewer documents per run (smoke test)")
    parser.add_argument("--skip-dossier", action="store_true", help="skip the 200-page ~150 MB dossier")
    parser.add_argument("--skip-blt", action="store_true", help="skip the B-LT comparison")
    parser.add_argument("--skip-thirdparty", action="store_true", help="skip the third-party PDF corpus")
    parser.add_argument("--dossier-child", nargs=4, metavar=("PDF", "ENGINE", "PKI", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.dossier_child:
        pdf, engine, pki_dir, out = args.dossier_child
        dossier_child(Path(pdf), engine, Path(pki_dir), Path(out))
        return
    limit = openssl_rsa2048()
    say(
        "cpu_count",
        os.cpu_count(),
        f"CPUs: {os.cpu_count()}; pool size {args.processes}; repeats {args.repeats} (median)",
    )
    say(
        "openssl_rsa2048_sign_per_s",
        round(limit),
        f"openssl speed rsa2048: {limit:.0f} sign/s per core (physical limit)",
    )
    with tempfile.TemporaryDirectory(prefix="bench-sign-") as tmp:
        work = Path(tmp)
        bench_bb(work, args.repeats, args.processes, args.quick)
        if not args.skip_thirdparty:
            bench_thirdparty(work, args.repeats)
        if not args.skip_blt:
            bench_blt(work, args.repeats, args.processes, args.quick)
        if not args.skip_dossier:
            bench_dossier(work)
    print(json.dumps(FIGURES, ensure_ascii=False))


if __name__ == "__main__":
    main()
