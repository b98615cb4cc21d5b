"""``sohoa stats``: the centres' figures from the command line (table, JSON, CSV, XLSX), SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from dossiers.services import Services
from tests.stats_data import EXPECTED, EXPECTED_BD_MONTH, PERIOD, as_tuple, seed

pytestmark = pytest.mark.integration


def run(args: list[str], services: Services) -> subprocess.CompletedProcess[str]:
    settings = services.settings
    env = os.environ | {
        "SOHOA_VAR_DIR": str(settings.var_dir),
        "SOHOA_SIGNING__PKI_DIR": str(settings.signing.pki_dir),
        **({"SOHOA_DATABASE_URL": settings.database_url} if settings.database_url else {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "stats", "--from", PERIOD[0], "--to", PERIOD[1], *args],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_stats_from_the_command_line(db_services: Services, tmp_path: Path) -> None:
    seed(db_services.catalogue)

    table = run(["--by", "month"], db_services)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0] == "BÁO CÁO KẾT QUẢ SỐ HÓA HỒ SƠ, KẾT QUẢ GIẢI QUYẾT TTHC"
    assert "Kỳ báo cáo: từ ngày 01/01/2026 đến ngày 28/02/2026" in lines
    jan = next(line for line in lines if line.startswith("Tháng 01/2026"))
    assert "6/7 = 85,71 %" in jan and "2/2 = 100,00 %" in jan and "00:15:00" in jan
    total = next(line for line in lines if line.startswith("Tổng cộng"))
    assert "8/11 = 72,73 %" in total and "3/4 = 75,00 %" in total and "11/16 = 68,75 %" in total

    as_json = json.loads(run(["--by", "procedure", "--json"], db_services).stdout)
    assert {r["key"]: as_tuple(r) for r in as_json["rows"]} == EXPECTED["procedure"]
    assert as_json["total"]["intake_digitisation"]["text"] == "8/11 = 72,73 %"

    bd = json.loads(run(["--by", "month", "--centre", "BD", "--json"], db_services).stdout)
    assert {r["key"]: as_tuple(r) for r in bd["rows"]} == EXPECTED_BD_MONTH
    assert bd["centre"] == {"code": "BD", "name": "UBND phường Ba Đình"}

    raw = run(["--by", "centre", "--csv"], db_services).stdout
    assert raw.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(raw.removeprefix("\ufeff"))))
    assert rows[0] == ["BÁO CÁO KẾT QUẢ SỐ HÓA HỒ SƠ, KẾT QUẢ GIẢI QUYẾT TTHC"]
    header = rows[4]
    assert header[:4] == ["Trung tâm", "Tổng số thành phần hồ sơ tiếp nhận", "Số thành phần đã số hóa",
                          "Tỷ lệ số hóa thành phần hồ sơ khi tiếp nhận (%)"]  # fmt: skip
    bd_row = dict(zip(header, rows[5], strict=True))
    assert bd_row["Trung tâm"] == "UBND phường Ba Đình (BD)"
    assert (bd_row["Số thành phần đã số hóa"], bd_row["Tổng số thành phần hồ sơ tiếp nhận"]) == ("5", "8")
    assert bd_row["Tỷ lệ số hóa thành phần hồ sơ khi tiếp nhận (%)"] == "62.50"
    assert bd_row["Thời gian trung vị từ tiếp nhận đến ký số (phút)"] == "45.00"
    assert rows[-1][0] == "Tổng cộng" and rows[-1][1:3] == ["11", "8"]

    out = tmp_path / "bao-cao.xlsx"
    written = run(["--by", "day", "--xlsx", str(out)], db_services)
    assert written.returncode == 0, written.stderr
    sheet = load_workbook(out).active
    assert sheet is not None
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert cells[0][0] == "BÁO CÁO KẾT QUẢ SỐ HÓA HỒ SƠ, KẾT QUẢ GIẢI QUYẾT TTHC"
    days = {str(row[0]): row for row in cells[5:] if str(row[0])[:2].isdigit()}
    assert list(days) == ["15/01/2026", "16/01/2026", "20/01/2026", "31/01/2026", "01/02/2026", "03/02/2026",
                          "10/02/2026"]  # fmt: skip
    assert days["01/02/2026"][1:4] == [3, 1, 0.3333]  # 33,33 %

    nowhere = run(["--xlsx", str(tmp_path / "khong-co" / "bao-cao.xlsx")], db_services)
    assert nowhere.returncode == 2 and "Không ghi được tệp" in nowhere.stderr

    wrong = run(["--centre", "XX"], db_services)
    assert wrong.returncode == 2 and "không có trung tâm XX" in wrong.stderr
    backwards = subprocess.run(
        [sys.executable, "-m", "cli.main", "stats", "--from", "2026-02-01", "--to", "2026-01-01"],
        env=os.environ | {"SOHOA_VAR_DIR": str(db_services.settings.var_dir)}, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert backwards.returncode == 2 and "Khoảng thời gian thống kê không hợp lệ" in backwards.stderr
