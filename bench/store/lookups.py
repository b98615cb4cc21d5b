"""Catalogue lookups at 10^4, 10^5 and 10^6 documents on SQLite and PostgreSQL, p50/p99.

Rows are bulk-loaded (executemany on SQLite, COPY on PostgreSQL) in the shape the service
writes them (folded text, dossier and procedure codes), growing one database level by level.
Queries go through ``search_documents``, the same path the service uses.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from storage.catalogue.db import Catalogue, migrate
from storage.catalogue.folding import fold
from storage.warehouse.search import SearchQuery, search_documents

HO = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương"]
DEM = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Ngọc", "Thanh", "Quang", "Thu", "Xuân", "Kim", "Bảo", "Gia", "Anh"]
TEN = [
    "An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hiếu", "Hoa", "Hùng", "Hương", "Khánh", "Lan",
    "Linh", "Long", "Mai", "Nam", "Nga", "Ngân", "Phong", "Phúc", "Quân", "Quỳnh", "Sơn", "Tâm", "Thảo", "Thắng",
    "Trang", "Trung", "Tuấn", "Tùng", "Uyên", "Việt", "Vy", "Yến", "Đạt", "Ánh", "Châu", "Diệp",
]  # fmt: skip
PLACES = ["Hà Nội", "Hải Phòng", "Đà Nẵng", "Huế", "Cần Thơ", "Nghệ An", "Thanh Hóa", "Đồng Nai", "Bình Dương"]
TYPES = {
    "birth_certificate": "GIẤY KHAI SINH",
    "citizen_id_card": "CĂN CƯỚC CÔNG DÂN",
    "marriage_certificate": "GIẤY CHỨNG NHẬN KẾT HÔN",
    "land_use_certificate": "GIẤY CHỨNG NHẬN QUYỀN SỬ DỤNG ĐẤT",
    "power_of_attorney": "GIẤY ỦY QUYỀN",
    "diploma": "BẰNG TỐT NGHIỆP",
    "residence_confirmation": "XÁC NHẬN THÔNG TIN VỀ CƯ TRÚ",
    "application_form": "TỜ KHAI",
}
PROCEDURES = ["1.001193", "1.003003", "2.000748", "1.004227", "1.000894"]
LEVELS = (10_000, 100_000, 1_000_000)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _name(rng: random.Random) -> str:
    return f"{rng.choice(HO)} {rng.choice(DEM)} {rng.choice(TEN)}"


def owner_of(i: int, owners: int) -> str:
    return f"{(i % owners) * 7919 % 10**12:012d}"


def generate(start: int, stop: int, owners: int) -> Iterator[tuple[Any, ...]]:
    """Rows (id, owner, type, procedure, dossier code, created, text, folded) for documents start..stop-1."""
    rng = random.Random(start)
    types = list(TYPES)
    for i in range(start, stop):
        doc_type = types[i % len(types)]
        name, place = _name(rng), rng.choice(PLACES)
        text = (
            f"CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM Độc lập - Tự do - Hạnh phúc {TYPES[doc_type]} "
            f"Họ, chữ đệm, tên: {name} Nơi cư trú: {place} Số: {rng.randint(1, 99999)}/{2000 + i % 25}"
        )
        created = T0 + timedelta(seconds=i * 17)
        code = f"000.00.12.H26-{created:%y%m%d}-{i % 10000:04d}x{i}"
        yield (i, owner_of(i, owners), doc_type, PROCEDURES[i % 5], code, created, text, fold(text))


def _sqlite_ts(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d %H:%M:%S.%f")


def load_sqlite(path: str, start: int, stop: int, owners: int) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    batch = 50_000
    for lo in range(start, stop, batch):
        rows = list(generate(lo, min(stop, lo + batch), owners))
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO dossiers (id, code, procedure_code, applicant_id, applicant_name, receiving_centre, "
            "batch_sha256, created_at) VALUES (?, ?, ?, ?, '', '', '', ?)",
            [(r[0], r[4], r[3], r[1], _sqlite_ts(r[5])) for r in rows],
        )
        conn.executemany(
            "INSERT INTO components (id, dossier_id, ref, position, name, declared_type, page_count, state) "
            "VALUES (?, ?, 'c1', 0, '', ?, 1, 'done')",
            [(r[0], r[0], r[2]) for r in rows],
        )
        conn.executemany(
            "INSERT INTO documents (id, component_id, owner_id, doc_type, type_confidence, needs_review, fields, "
            "text, page_count, sha256, size, object_key, signed_by, signed_at, signature_level, created_at, "
            "dossier_code, procedure_code, folded_text) "
            "VALUES (?, ?, ?, ?, 0.9, 0, '{}', ?, 1, ?, 1000, ?, 'bench', ?, 'B-T', ?, ?, ?, ?)",
            [
                (r[0], r[0], r[1], r[2], r[6], f"{r[0]:064x}", f"sha256/{r[0]:064x}", _sqlite_ts(r[5]),
                 _sqlite_ts(r[5]), r[4], r[3], r[7])
                for r in rows
            ],
        )  # fmt: skip
        conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()


def load_postgres(conninfo: str, schema: str, start: int, stop: int, owners: int) -> None:
    import psycopg

    with psycopg.connect(conninfo, options=f"-csearch_path={schema}") as conn:
        conn.execute("SET synchronous_commit = off")
        batch = 100_000
        for lo in range(start, stop, batch):
            rows = list(generate(lo, min(stop, lo + batch), owners))
            with conn.cursor() as cur:
                with cur.copy(
                    "COPY dossiers (id, code, procedure_code, applicant_id, applicant_name, receiving_centre, "
                    "batch_sha256, created_at) FROM STDIN"
                ) as cp:
                    for r in rows:
                        cp.write_row((r[0], r[4], r[3], r[1], "", "", "", r[5]))
                with cur.copy(
                    "COPY components (id, dossier_id, ref, position, name, declared_type, page_count, state) FROM STDIN"
                ) as cp:
                    for r in rows:
                        cp.write_row((r[0], r[0], "c1", 0, "", r[2], 1, "done"))
                with cur.copy(
                    "COPY documents (id, component_id, owner_id, doc_type, type_confidence, needs_review, fields, "
                    "text, page_count, sha256, size, object_key, signed_by, signed_at, signature_level, created_at, "
                    "dossier_code, procedure_code, folded_text) FROM STDIN"
                ) as cp:
                    for r in rows:
                        cp.write_row(
                            (r[0], r[0], r[1], r[2], 0.9, False, "{}", r[6], 1, f"{r[0]:064x}", 1000,
                             f"sha256/{r[0]:064x}", "bench", r[5], "B-T", r[5], r[4], r[3], r[7])
                        )  # fmt: skip
            conn.commit()
        for table in ("dossiers", "components", "documents"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {stop})")
        conn.execute("ANALYZE dossiers, components, documents")
        conn.commit()


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"p50_ms": round(p(0.50) * 1000, 2), "p99_ms": round(p(0.99) * 1000, 2), "n": len(ordered)}


def time_queries(catalogue: Catalogue, queries: list[SearchQuery]) -> dict[str, float]:
    for q in queries[:20]:
        search_documents(catalogue, q)  # warm the cache and the connection pool
    samples = []
    for q in queries:
        t0 = time.perf_counter()
        search_documents(catalogue, q)
        samples.append(time.perf_counter() - t0)
    return percentiles(samples)


def owner_queries(n_docs: int, owners: int, count: int, rng: random.Random) -> list[SearchQuery]:
    return [SearchQuery(owner_id=owner_of(rng.randrange(n_docs), owners)) for _ in range(count)]


def text_queries(n_docs: int, count: int, rng: random.Random) -> list[SearchQuery]:
    """Half: a citizen's name as typed without accents; half: a name plus the document type."""
    out = []
    sample = {i: row for i, row in enumerate(generate(0, min(n_docs, 20_000), max(1, n_docs // 3)))}
    for k in range(count):
        row = sample[rng.randrange(len(sample))]
        name = row[6].split("Họ, chữ đệm, tên: ")[1].split(" Nơi")[0]
        query = fold(name) if k % 2 else f"{fold(TYPES[row[2]])} {fold(name)}"
        out.append(SearchQuery(text=query))
    return out


def run_dialect(
    name: str, url: str, loader: Callable[[int, int, int], None], log: Callable[[str], None], levels: tuple[int, ...]
) -> dict[str, Any]:
    migrate(url)
    catalogue = Catalogue(url)
    owners = levels[-1] // 3  # about three documents per citizen at the top level
    rng = random.Random(7)
    results: dict[str, Any] = {}
    loaded = 0
    try:
        for level in levels:
            t0 = time.perf_counter()
            loader(loaded, level, owners)
            load_s = time.perf_counter() - t0
            loaded = level
            entry: dict[str, Any] = {"load_s": round(load_s, 1)}
            entry["owner_lookup"] = time_queries(catalogue, owner_queries(level, owners, 2000, rng))
            if level <= 100_000:
                entry["full_text"] = time_queries(catalogue, text_queries(level, 400, rng))
            results[str(level)] = entry
            log(f"lookups {name} {level} documents: {entry}")
    finally:
        catalogue.dispose()
    return results
