"""``python -m bench.api.lookup_attack``: guesses at one citizen's result code, today's limits beside the guard's.

Both sides of issue 17 item 3, measured against real ``sohoa serve`` processes: how many guesses
an attacker who knows a result code gets evaluated per day, and whether the applicant, looking
up meanwhile from a fresh browser (no cookie of the portal), still gets in, and how fast.

Three attacks run at once, each at a result of its own:

* ``many``: an attacker at ``--addresses`` addresses (127.0.0.10 and up: all of 127/8 reaches
  loopback on Linux, so the service sees that many clients); the applicant at 127.0.0.250.
* ``nat``: an attacker behind one address (127.0.0.2, one NAT); the applicant elsewhere (127.0.0.251).
* ``shared``: an attacker and the applicant behind the same address (127.0.0.3: one carrier-grade NAT).

The attacker guesses as fast as the service lets it: after a 429 it waits what Retry-After says,
less a second (the header is rounded up), then asks again every ``POLL`` seconds; when the
service asks for a proof of work it solves it on one core (a process of its own, Python's
hashlib). The applicant tries every ``--applicant-every`` seconds as a browser would: loads the
form (its CSRF cookie and field), asks whether a proof is needed, solves it on a core of its own,
posts.

Two runs per version:

* **a compressed day**: every lookup duration setting divided by ``--scale`` (900: a day lasts
  96 s, today's 15-minute window 1 s), the proof of work at 8 bits so that CPU does not bind:
  evaluated guesses per compressed day are the guesses per day the *limits* allow.
* **live**: the settings as shipped, for ``--live`` seconds: the applicant's success and time to
  get in with the real proof of work, and the difficulty the attack reached.

Guesses per day then = min(the limits' figure, what the attacker's CPU can prove at that
difficulty: measured hashes/s x 86,400 / 2^bits per core); both are printed. "today" is the
code at ``--today`` (default ``/tmp/old-lookup``: ``git worktree add /tmp/old-lookup 1ef709c``),
served with this virtual environment; "now" is this tree. Last line: JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from api import proof_of_work
from sohoa.settings import ApiSettings
from testkit.batches import make_zip, manifest
from testkit.servers import free_port, start_owned, wait_ready

HERE = Path(__file__).resolve().parents[2]
DAY = 86400.0
POLL = 0.5
APPLICANT_ID, BIRTH = "001090012345", "1990-03-15"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
SCENARIOS = {"many": "127.0.0.250", "nat": "127.0.0.251", "shared": "127.0.0.3"}
_CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


def scaled_env(version: str, scale: float) -> dict[str, str]:
    """Every lookup duration divided by ``scale``; a token proof of work (8 bits): the limits alone."""
    env = {"SOHOA_API__LOOKUP_WINDOW_S": str(max(1, round(900 / scale)))}
    if version == "now":
        d = ApiSettings()
        for name in (
            "lookup_backoff_base_s",
            "lookup_backoff_max_s",
            "lookup_attack_backoff_base_s",
            "lookup_attack_backoff_max_s",
            "lookup_failure_memory_s",
        ):
            env[f"SOHOA_API__{name.upper()}"] = str(getattr(d, name) / scale)
        env |= {"SOHOA_API__LOOKUP_POW_MIN_BITS": "8", "SOHOA_API__LOOKUP_POW_MAX_BITS": "8"}
    return env


@contextmanager
def serve(tree: Path, folder: Path, env_extra: dict[str, str]) -> Iterator[dict[str, Any]]:
    """``sohoa serve`` from ``tree`` (PYTHONPATH, and a working folder outside any tree), with its own var."""
    var = folder / "var"
    var.mkdir(parents=True)
    port = free_port()
    env = os.environ | {
        "PYTHONPATH": str(tree),
        "SOHOA_VAR_DIR": str(var),
        "SOHOA_SIGNING__PKI_DIR": str(folder / "pki"),
        "SOHOA_API__PORT": str(port),
        "SOHOA_API__PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "SOHOA_WORKERS__POLL_INTERVAL_S": "0.1",
        **env_extra,
    }
    log_path = folder / "service.log"
    with open(log_path, "wb") as log:
        proc = start_owned([sys.executable, "-m", "cli.main", "serve"], env=env, cwd=folder, stdout=log, stderr=log)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_ready(f"{base}/readyz", proc, log_path, timeout=180)
            creds = json.loads((var / "dev-credentials.json").read_text())
            yield {"base": base, "log": log_path, **creds}
        finally:
            proc.terminate()
            proc.wait(30)


def signed_results(svc: dict[str, Any], count: int) -> list[str]:
    """``count`` dossiers pushed by the station, each with a signed e-result; their result codes."""
    station = {"Authorization": f"Bearer {svc['station_key']}", "Content-Type": "application/zip"}
    officer = httpx.Client(base_url=svc["base"], headers={"Authorization": f"Bearer {svc['officer_key']}"}, timeout=30)
    codes = []
    for n in range(count):
        dossier = f"000.00.12.H26-261121-07{n:02d}"
        m = manifest([{"id": "hong", "files": ["hong.jpg"]}], code=dossier) | {"applicant_birth_date": BIRTH}
        r = httpx.post(f"{svc['base']}/api/v1/batches", content=make_zip(m, {"hong.jpg": b"\xff\xd8"}), headers=station)
        assert r.status_code in (200, 202), r.text
        spec = {"title": "Giấy xác nhận tình trạng hôn nhân", "body": ["Chưa đăng ký kết hôn."], "level": "B-T"}
        issued = officer.post(f"/api/v1/dossiers/{dossier}/results/from-template", json=spec)
        assert issued.status_code == 202, issued.text
        codes.append(issued.json()["code"])
    deadline = time.monotonic() + 120
    while not all(officer.get(f"/api/v1/results/{c}").json()["state"] == "done" for c in codes):
        if time.monotonic() > deadline:
            raise RuntimeError("the e-results were not signed in time")
        time.sleep(0.3)
    return codes


@dataclass
class Tally:
    evaluated: int = 0  # wrong guesses the service checked (403 "không khớp")
    waits: int = 0  # answered 429
    errors: int = 0
    bits: int = 0  # the highest proof-of-work difficulty asked
    tries: int = 0  # applicant: attempts, successes and their times
    passed: int = 0
    seconds: list[float] = field(default_factory=list)


async def _lookup(
    client: httpx.AsyncClient, code: str, form: dict[str, str], pool: ProcessPoolExecutor, tally: Tally, **headers: str
) -> httpx.Response:
    """One guess: with the proof of work the service asks for, when it asks (today's service never does)."""
    asked = await client.get("/tra-cuu/thu-thach", params={"ma": code})
    if asked.status_code == 200 and asked.json().get("required"):
        answer = asked.json()
        tally.bits = max(tally.bits, answer["bits"])
        nonce = await asyncio.get_running_loop().run_in_executor(pool, proof_of_work.solve, answer["challenge"])
        form = form | {"pow_challenge": answer["challenge"], "pow_nonce": nonce}
    return await client.post("/tra-cuu", data={"ma_ket_qua": code} | form, headers=headers)


async def attacker(
    base: str, address: str, code: str, stop: float, pool: ProcessPoolExecutor, tally: Tally, offset: int
) -> None:
    transport = httpx.AsyncHTTPTransport(local_address=address)
    async with httpx.AsyncClient(base_url=base, transport=transport, timeout=60) as client:
        n = 0
        while time.monotonic() < stop:
            n += 1
            form = {"so_dinh_danh": f"{(offset * 10_000 + n) % 1_000_000:06d}", "ngay_sinh": "01/01/1900"}
            try:
                r = await _lookup(client, code, form, pool, tally)
            except httpx.HTTPError:
                tally.errors += 1
                await asyncio.sleep(1)
                continue
            if r.status_code == 403 and "không khớp" in r.text:
                tally.evaluated += 1
            elif r.status_code == 429:
                tally.waits += 1
                retry_after = float(r.headers.get("retry-after", "1"))
                await asyncio.sleep(min(max(POLL, retry_after - 1), max(0.0, stop - time.monotonic())))
            else:
                tally.errors += 1
                await asyncio.sleep(1)


async def applicant(
    base: str, address: str, code: str, stop: float, every: float, pool: ProcessPoolExecutor, tally: Tally
) -> None:
    """A fresh browser every ``every`` seconds: the form page (CSRF cookie and field), the proof if asked, the post."""
    await asyncio.sleep(every / 2)  # the attack starts first
    while time.monotonic() < stop:
        started = time.perf_counter()
        transport = httpx.AsyncHTTPTransport(local_address=address)
        async with httpx.AsyncClient(
            base_url=base, transport=transport, timeout=120, headers={"User-Agent": BROWSER}
        ) as client:
            tally.tries += 1
            try:
                page = await client.get("/tra-cuu")
                form = {"so_dinh_danh": APPLICANT_ID[-6:], "ngay_sinh": "15/03/1990"}
                if token := _CSRF.search(page.text):
                    form["csrf"] = token.group(1)
                r = await _lookup(client, code, form, pool, tally, **{"Sec-Fetch-Site": "same-origin"})
            except httpx.HTTPError:
                tally.errors += 1
                r = None
        if r is not None and r.status_code == 303:
            tally.passed += 1
            tally.seconds.append(time.perf_counter() - started)
        await asyncio.sleep(max(0.0, every - (time.perf_counter() - started)))


async def attack(
    base: str, codes: dict[str, str], seconds: float, addresses: int, every: float
) -> dict[str, tuple[Tally, Tally]]:
    """The three scenarios at once for ``seconds``: per scenario the attacker's and the applicant's tallies."""
    stop = time.monotonic() + seconds
    tallies = {name: (Tally(), Tally()) for name in SCENARIOS}
    with ProcessPoolExecutor(1) as attacker_cpu, ProcessPoolExecutor(1) as applicant_cpu:
        jobs = []
        for k in range(addresses):
            jobs.append(attacker(base, f"127.0.0.{10 + k}", codes["many"], stop, attacker_cpu, tallies["many"][0], k))
        jobs.append(attacker(base, "127.0.0.2", codes["nat"], stop, attacker_cpu, tallies["nat"][0], 500))
        jobs.append(attacker(base, "127.0.0.3", codes["shared"], stop, attacker_cpu, tallies["shared"][0], 600))
        for name, address in SCENARIOS.items():
            jobs.append(applicant(base, address, codes[name], stop, every, applicant_cpu, tallies[name][1]))
        await asyncio.gather(*jobs)
    return tallies


def hash_rates() -> dict[str, float]:
    """Hashes per second on one core: the attacker's Python loop, and OpenSSL's (native code) on 64-byte inputs."""
    prefix = hashlib.sha256(b"1." + b"0" * 16 + b".0.20.9999999999." + b"0" * 32 + b":")
    tries, started = 400_000, time.perf_counter()
    for n in range(tries):
        h = prefix.copy()
        h.update(str(n).encode())
        h.digest()
    rates = {"python": tries / (time.perf_counter() - started)}
    if shutil.which("openssl"):
        out = subprocess.run(
            ["openssl", "speed", "-seconds", "2", "-bytes", "96", "sha256"], capture_output=True, text=True
        ).stdout
        found = re.search(r"^sha256\s+([0-9.]+)k", out, re.M)
        if found:
            rates["openssl"] = float(found.group(1)) * 1000 / 96
    return rates


def day_figures(tallies: dict[str, tuple[Tally, Tally]], days: float) -> dict[str, Any]:
    return {
        name: {
            "attacker_guesses_per_day": round(att.evaluated / days),
            "applicant": f"{app.passed}/{app.tries}",
        }
        for name, (att, app) in tallies.items()
    }


def live_figures(tallies: dict[str, tuple[Tally, Tally]], seconds: float) -> dict[str, Any]:
    out = {}
    for name, (att, app) in tallies.items():
        out[name] = {
            "attacker_guesses": att.evaluated,
            "attacker_refused": att.waits,
            "max_bits": att.bits,
            "applicant_in": f"{app.passed}/{app.tries}",
            "applicant_success": round(app.passed / app.tries, 2) if app.tries else None,
            "applicant_median_s": round(statistics.median(app.seconds), 2) if app.seconds else None,
            "applicant_max_s": round(max(app.seconds), 2) if app.seconds else None,
            "errors": att.errors + app.errors,
        }
    return out


def run_version(name: str, tree: Path, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    result: dict[str, Any] = {"tree": str(tree)}
    day_s = DAY / args.scale
    for run, env, seconds in (
        ("day", scaled_env(name, args.scale), args.days * day_s),
        ("live", {}, args.live),
    ):
        folder = work / f"{name}-{run}"
        folder.mkdir()
        print(f"[{name}] starting the service ({run} run) ...", flush=True)
        with serve(tree, folder, env) as svc:
            codes = dict(zip(SCENARIOS, signed_results(svc, len(SCENARIOS)), strict=True))
            print(f"[{name}] {run} run: {seconds:.0f} s of attack", flush=True)
            tallies = asyncio.run(attack(svc["base"], codes, seconds, args.addresses, args.applicant_every))
        if run == "day":
            result["limits"] = day_figures(tallies, args.days)
        else:
            result["live"] = live_figures(tallies, seconds)
    return result


def table(results: dict[str, dict[str, Any]], rates: dict[str, float], addresses: int) -> str:
    lines = [
        f"{'scenario':<8} {'version':<6} {'guesses/day (limits)':>21} {'live: guesses':>14} {'bits':>5} "
        f"{'applicant in':>13} {'median s':>9} {'max s':>7}"
    ]
    for scenario in SCENARIOS:
        for version, res in results.items():
            day, live = res["limits"][scenario], res["live"][scenario]
            lines.append(
                f"{scenario:<8} {version:<6} {day['attacker_guesses_per_day']:>21} {live['attacker_guesses']:>14} "
                f"{live['max_bits']:>5} {live['applicant_in']:>13} {live['applicant_median_s'] or '-':>9} "
                f"{live['applicant_max_s'] or '-':>7}"
            )
    lines.append(f"('many': {addresses} attacker addresses; 'shared': the applicant behind the attacker's address)")
    for engine, rate in rates.items():
        per_core = {bits: round(rate * DAY / 2**bits) for bits in (16, 22)}
        lines.append(
            f"CPU bound, {engine}: {rate / 1e6:.2f} M hashes/s per core -> proofs per day per core: "
            f"{per_core[16]} at 16 bits, {per_core[22]} at 22 bits"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--today", type=Path, default=Path("/tmp/old-lookup"), help="a worktree of today's code")
    parser.add_argument("--scale", type=float, default=900.0, help="compressed-day factor (today's window: 900 s)")
    parser.add_argument("--days", type=float, default=2.0, help="compressed days to measure")
    parser.add_argument("--live", type=float, default=40.0, help="seconds of the live run")
    parser.add_argument("--addresses", type=int, default=40, help="attacker addresses in the 'many' scenario")
    parser.add_argument("--applicant-every", type=float, default=4.0, help="seconds between the applicant's tries")
    args = parser.parse_args()
    if not (args.today / "api" / "routes_portal.py").exists():
        raise SystemExit(f"no tree at {args.today}: git worktree add {args.today} 1ef709c")
    rates = hash_rates()
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="lookup-attack-") as tmp:
        for name, tree in (("today", args.today.resolve()), ("now", HERE)):
            results[name] = run_version(name, tree, args, Path(tmp))
    print(table(results, rates, args.addresses))
    print(json.dumps({"bench": "lookup_attack", "scale": args.scale, "rates": rates, "results": results}))


if __name__ == "__main__":
    main()
