"""``python -m bench.store.stats [--dossiers N] [--only sqlite|postgresql]``: the centres' statistics
(``dossiers.statistics.report``) over N dossiers (default 30,000: one every 30 minutes from January 2025,
three components each, 95 % digitised, one e-result each) in ten centres, on SQLite and PostgreSQL.

Times one month (every grouping, every centre and one centre) and the whole span by month, in ms.
The last line is JSON.
"""

from __future__ import annotations

import json
import os
import platform
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

from bench.store.__main__ import PgSchema
from dossiers.statistics import GroupBy, Period, report
from storage.catalogue.db import Catalogue, migrate
from storage.catalogue.models import Component, Document, Dossier, EResult, JobStep
from storage.catalogue.officers import create_centre

START = datetime(2025, 1, 1, tzinfo=UTC)


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def load(catalogue: Catalogue, n: int) -> list[int]:
    """N dossiers, their components, documents, digitize steps and e-results (bulk inserts); the centres."""
    centres = [create_centre(catalogue, f"C{i}", f"Trung tâm {i}") for i in range(10)]
    rnd = random.Random(1)
    dossiers = [
        {
            "id": i + 1, "code": f"D{i}", "procedure_code": f"1.{rnd.randrange(50):06d}",
            "applicant_id": "001203004567", "centre_id": rnd.choice(centres), "batch_sha256": "0" * 64,
            "created_at": START + timedelta(minutes=30 * i), "receiving_centre": "", "applicant_name": "",
        }
        for i in range(n)
    ]  # fmt: skip
    comps: list[dict[str, Any]] = []
    docs: list[dict[str, Any]] = []
    steps: list[dict[str, Any]] = []
    for d in dossiers:
        for pos in range(3):
            cid = len(comps) + 1
            done = rnd.random() < 0.95
            comps.append({"id": cid, "dossier_id": d["id"], "ref": f"c{pos}", "position": pos, "name": "",
                          "page_count": 1, "state": "done" if done else "failed"})  # fmt: skip
            if not done:
                continue
            signed = d["created_at"] + timedelta(seconds=rnd.randrange(60, 7200))
            docs.append({
                "component_id": cid, "owner_id": d["applicant_id"], "doc_type": "other", "type_confidence": 0.9,
                "needs_review": False, "fields": {}, "text": "", "page_count": 1, "sha256": "0" * 64, "size": 1,
                "object_key": "k", "signed_by": "bench", "signed_at": signed, "signature_level": "B-T",
                "dossier_code": d["code"], "procedure_code": d["procedure_code"], "folded_text": "",
                "created_at": signed,
            })  # fmt: skip
            steps.append({
                "kind": "digitize", "queue": "ocr", "component_id": cid, "state": "done", "attempts": 1,
                "output": {"needs_review": rnd.random() < 0.1}, "created_at": signed, "updated_at": signed,
            })  # fmt: skip
    results = [
        {
            "dossier_id": d["id"], "seq": 1, "code": f"{d['code']}-KQ1", "title": "", "level": "B-LT", "state": "done",
            "source_sha256": "0" * 64, "source_key": "k", "signed_at": d["created_at"] + timedelta(hours=2),
            "created_at": d["created_at"] + timedelta(hours=2),
        }
        for d in dossiers
    ]  # fmt: skip
    with catalogue.engine.begin() as conn:
        for model, rows in ((Dossier, dossiers), (Component, comps), (Document, docs), (JobStep, steps),
                            (EResult, results)):  # fmt: skip
            conn.execute(insert(model), rows)
    with catalogue.engine.begin() as conn:  # the planner's statistics, as autovacuum keeps them in use
        conn.execute(text("ANALYZE"))
    return centres


def run_dialect(name: str, url: str, n: int) -> dict[str, Any]:
    migrate(url)
    catalogue = Catalogue(url)
    try:
        t = time.perf_counter()
        centres = load(catalogue, n)
        out: dict[str, Any] = {"dossiers": n, "components": 3 * n, "load_s": round(time.perf_counter() - t, 1)}
        month = Period(date(2025, 3, 1), date(2025, 3, 31))
        last = (START + timedelta(minutes=30 * n)).date()
        span = Period(START.date(), last)
        cases = [(f"month_{by.value}", month, by) for by in GroupBy] + [("span_by_month", span, GroupBy.MONTH)]
        for label, period, by in cases:
            for scope_name, scope in (("all", None), ("centre", (centres[0], "C0", "Trung tâm 0"))):
                t = time.perf_counter()
                got = report(catalogue, period, by, scope)
                out[f"{label}_{scope_name}_ms"] = round((time.perf_counter() - t) * 1000, 1)
                out.setdefault(f"{label}_{scope_name}_components", got.total.components_received)
        log(f"stats {name}: {out}")
        return out
    finally:
        catalogue.dispose()


def main(argv: list[str]) -> int:
    args = dict(zip(argv[::2], argv[1::2], strict=False))
    n = int(float(args.get("--dossiers", "30000")))
    only = args.get("--only")
    result: dict[str, Any] = {
        "bench": "store.stats",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    if only in (None, "sqlite"):
        with tempfile.TemporaryDirectory(prefix="bench-stats-") as tmp:
            result["sqlite"] = run_dialect("sqlite", f"sqlite:///{Path(tmp) / 'stats.sqlite3'}", n)
    if only in (None, "postgresql"):
        pg = PgSchema()
        try:
            result["postgresql"] = run_dialect("postgresql", pg.url, n)
        finally:
            pg.drop()
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
