"""``python -m bench.api.verify_flood``: citizens' checks answered while one client floods public verification.

Issue 17 item 2 as it was met: four connections sending 20 MB PDFs (a 19.6 MB ``/Contents``, half a
minute of a core each) kept both verification processes busy, and 9 of 10 citizens' checks were
answered 503 VERIFY_BUSY for a minute. The scenario, on the real service (``sohoa serve``, default
settings: 2 verification processes, 30 s each, 30 checks a minute per client):

* one client (127.0.0.1) floods ``POST /api/v1/verify`` on ``--connections`` keep-alive connections,
  each sending its next file as soon as the last is answered (after a 429 it pauses half a second,
  only to spare this machine's CPU);
* ``--honest`` citizens (from 127.0.0.2: Linux routes all of 127/8 to loopback) each check a real
  B-LTA e-result on ``/kiem-tra``, one every ``--interval`` seconds, starting ``--lead`` seconds into
  the flood; answered means 200 with the report, whatever the wait.

Two floods: ``huge`` (the issue's file, a 19.6 MB ``/Contents``) and ``costly`` (the costliest file
that passes the declared-size bounds: four signatures sharing the hex-digit bound, with long
``/Reason`` strings; about as slow as the huge one). Each runs against "today" (the code before this
item, ``--baseline`` commit, checked out with ``git worktree`` at ``--baseline-tree`` and run with
PYTHONPATH pointing there) and "now" (this tree), printed side by side. Last line: JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.api.costly_pdf import cms_hex_of, costliest_under_bounds, signature_heavy_pdf
from dossiers.result_render import render_result_pdf
from signing.dev import existing_dev_pki
from testkit.servers import free_port, start_owned, wait_ready

REPO = Path(__file__).resolve().parents[2]
BASELINE = "1ef709c"  # the commit before this item: admission by request count only
GOAL = 0.9  # at least 9 of 10 citizens answered during the flood


def log(line: str) -> None:
    print(line, flush=True)


@dataclass
class Outcome:
    honest: list[str] = field(default_factory=list)  # status of each citizen's check ("200", "503", "timeout")
    honest_s: list[float] = field(default_factory=list)  # time to the answer of each answered check
    flood: Counter[str] = field(default_factory=Counter)

    @property
    def answered(self) -> int:
        return self.honest.count("200")


def _sohoa_env(var: Path, pki: Path, code: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOHOA_")}
    env |= {"SOHOA_VAR_DIR": str(var), "SOHOA_SIGNING__PKI_DIR": str(pki), "PYTHONPATH": str(code)}
    made = existing_dev_pki(pki)
    if made is not None and made.base_url:  # every run keeps the PKI the honest file was signed with
        env["SOHOA_SIGNING__DEV_PKI_URL"] = made.base_url
    return env


def honest_pdf(work: Path) -> bytes:
    """A B-LTA e-result signed by ``sohoa sign`` with the development PKI that every run below trusts."""
    source = work / "ket-qua.pdf"
    source.write_bytes(render_result_pdf(["Giấy xác nhận tình trạng hôn nhân", "Kết quả điện tử"]))
    out = work / "signed"
    cmd = [sys.executable, "-m", "cli.main", "sign", str(source), "--out", str(out), "--level", "B-LTA"]
    done = subprocess.run(cmd, env=_sohoa_env(work / "var-sign", work / "pki", REPO), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"sohoa sign failed: {done.stderr[-2000:]}")
    return next(out.glob("*.pdf")).read_bytes()


@contextmanager
def service(code: Path, work: Path, name: str) -> Iterator[str]:
    """``sohoa serve`` from the tree ``code`` (default settings), on a free port; its base URL."""
    port = free_port()
    var = work / f"var-{name}"
    env = _sohoa_env(var, work / "pki", code) | {
        "SOHOA_API__PORT": str(port),
        "SOHOA_API__PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }
    log_path = work / f"service-{name}.log"
    with open(log_path, "wb") as out:
        proc = start_owned([sys.executable, "-m", "cli.main", "serve"], cwd=code, env=env, stdout=out, stderr=out)
        try:
            wait_ready(f"http://127.0.0.1:{port}/readyz", proc, log_path, timeout=120)
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            proc.wait(30)


def run_flood(base: str, flood_pdf: bytes, honest: bytes, args: argparse.Namespace) -> Outcome:
    outcome = Outcome()
    stop = threading.Event()
    lock = threading.Lock()

    def flooder() -> None:
        with httpx.Client(base_url=base, timeout=300) as client:
            while not stop.is_set():
                try:
                    r = client.post("/api/v1/verify", content=flood_pdf, headers={"Content-Type": "application/pdf"})
                    status = str(r.status_code)
                    if r.status_code == 200 and r.json().get("problems"):
                        status += ":" + ",".join(r.json()["problems"])
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                with lock:
                    outcome.flood[status] += 1
                if status.startswith("429"):
                    stop.wait(0.5)

    def citizen(n: int) -> None:
        transport = httpx.HTTPTransport(local_address="127.0.0.2")
        with httpx.Client(base_url=base, timeout=args.citizen_timeout, transport=transport) as client:
            started = time.monotonic()
            try:
                page = client.post("/kiem-tra", files={"tep": (f"kq-{n}.pdf", honest, "application/pdf")})
                status = str(page.status_code)
                if page.status_code == 200 and "Kết quả kiểm tra" not in page.text and "hợp lệ" not in page.text:
                    status = "200-without-report"
            except httpx.TimeoutException:
                status = "timeout"
            with lock:
                outcome.honest.append(status)
                if status == "200":
                    outcome.honest_s.append(time.monotonic() - started)

    flooders = [threading.Thread(target=flooder, daemon=True) for _ in range(args.connections)]
    for thread in flooders:
        thread.start()
    time.sleep(args.lead)
    citizens = []
    for n in range(args.honest):
        thread = threading.Thread(target=citizen, args=(n,))
        thread.start()
        citizens.append(thread)
        if n < args.honest - 1:
            time.sleep(args.interval)
    for thread in citizens:
        thread.join()
    stop.set()
    for thread in flooders:
        thread.join(300)
    return outcome


def baseline_tree(path: Path, commit: str) -> Path:
    """The code before this item, as a detached ``git worktree`` (made once, reused)."""
    if not (path / "sohoa" / "cli.py").exists():
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(path), commit], check=True)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--honest", type=int, default=10)
    parser.add_argument("--interval", type=float, default=6.0, help="seconds between citizens' checks")
    parser.add_argument("--lead", type=float, default=8.0, help="seconds of flood before the first citizen")
    parser.add_argument("--citizen-timeout", type=float, default=120.0)
    parser.add_argument("--floods", default="huge,costly")
    parser.add_argument("--only", choices=["today", "now", "both"], default="both")
    parser.add_argument("--baseline", default=BASELINE)
    parser.add_argument("--baseline-tree", type=Path, default=Path("/tmp/old-verify"))
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="sohoa-verify-flood-"))
    try:
        honest = honest_pdf(work)
        cms = cms_hex_of(honest)
        files = {
            "huge": signature_heavy_pdf(cms, contents_hex_digits=19_600_000),
            "costly": costliest_under_bounds(cms),
        }
        trees = {"today": baseline_tree(args.baseline_tree, args.baseline), "now": REPO}
        if args.only != "both":
            trees = {args.only: trees[args.only]}
        results: dict[str, dict[str, Outcome]] = {}
        for flood_name in args.floods.split(","):
            for when, code in trees.items():
                log(f"-- flood '{flood_name}' ({len(files[flood_name]) / 1e6:.1f} MB) against {when} ({code})")
                with service(code, work, f"{flood_name}-{when}") as base:
                    outcome = run_flood(base, files[flood_name], honest, args)
                results.setdefault(flood_name, {})[when] = outcome
                answered = f"{outcome.answered}/{args.honest}"
                log(f"   citizens answered {answered}: {outcome.honest}; flood: {dict(outcome.flood)}")
        report(results, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(results: dict[str, dict[str, Outcome]], args: argparse.Namespace) -> None:
    log("")
    log(f"Citizens' checks answered while one client floods ({args.connections} connections), goal >= {GOAL:.0%}")
    log(f"{'flood':<10}{'today':>12}{'now':>12}   median / max wait of answered checks (now)")
    summary: dict[str, dict[str, object]] = {}
    for flood_name, by_when in results.items():
        cells = {when: f"{o.answered}/{len(o.honest)}" for when, o in by_when.items()}
        now = by_when.get("now")
        waits = f"{statistics.median(now.honest_s):.1f} s / {max(now.honest_s):.1f} s" if now and now.honest_s else "-"
        log(f"{flood_name:<10}{cells.get('today', '-'):>12}{cells.get('now', '-'):>12}   {waits}")
        summary[flood_name] = {
            when: {"answered": o.answered, "of": len(o.honest), "honest": o.honest, "flood": dict(o.flood)}
            for when, o in by_when.items()
        }
    print(json.dumps({"bench": "verify_flood", "goal_share": GOAL, "results": summary}, ensure_ascii=False))


if __name__ == "__main__":
    main()
