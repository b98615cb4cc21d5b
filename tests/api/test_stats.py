"""``GET /api/v1/stats`` and the page ``/can-bo/thong-ke`` over HTTP (SQLite and PostgreSQL): an officer
reads their centre's figures only, a deployment-wide officer key every centre's; CSV and XLSX read back."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from api.app import create_app
from storage.catalogue.clients import create_client
from storage.catalogue.models import ClientRole, OfficerRole
from tests.api.conftest import Api, api_settings
from tests.conftest import make_settings
from tests.officer_accounts import make_officer, sign_in
from tests.stats_data import EXPECTED, EXPECTED_BD_MONTH, PERIOD, as_tuple, seed

QUERY = {"from": PERIOD[0], "to": PERIOD[1]}


@pytest.fixture(params=["sqlite", "postgresql"])
def db_api(request: pytest.FixtureRequest, tmp_path: Path, shared_pki_dir: Path) -> Iterator[Api]:
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    settings = api_settings(make_settings(tmp_path / "var", shared_pki_dir, database_url=url))
    with TestClient(create_app(settings, start_workers=False)) as client:
        yield Api(client, client.app.state.services, {}, {})  # type: ignore[attr-defined]


def _signed_in(api: Api, username: str, centre: str, role: OfficerRole = OfficerRole.RECEIVING) -> TestClient:
    client = TestClient(api.client.app)
    sign_in(client, make_officer(api.services, username, centre=centre, role=role))
    return client


def test_an_officer_reads_their_centre_only(db_api: Api) -> None:
    seed(db_api.services.catalogue)
    lan = _signed_in(db_api, "lan.nt", "BD")
    r = lan.get("/api/v1/stats", params={**QUERY, "by": "month"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["centre"] == {"code": "BD", "name": "UBND phường Ba Đình"}
    assert {row["key"]: as_tuple(row) for row in body["rows"]} == EXPECTED_BD_MONTH
    assert body["total"]["intake_digitisation"] == {
        "numerator": 5, "denominator": 8, "rate": 0.625, "percent": 62.5, "text": "5/8 = 62,50 %",
    }  # fmt: skip
    assert lan.get("/api/v1/stats", params={**QUERY, "centre": "HK"}).status_code == 404
    assert lan.get("/api/v1/stats", params={**QUERY, "centre": "BD"}).status_code == 200

    # Another centre's officer (a result officer, by personal API key) sees HK's figures, none of BD's.
    hoa = make_officer(db_api.services, "hoa.pt", centre="HK", role=OfficerRole.RESULT)
    key = create_client(db_api.services.catalogue, "hoa", ClientRole.OFFICER, officer_id=hoa.id)
    headers = {"Authorization": f"Bearer {key}"}
    hk = db_api.client.get("/api/v1/stats", params={**QUERY, "by": "centre"}, headers=headers).json()
    assert {row["key"]: as_tuple(row) for row in hk["rows"]} == {"HK": EXPECTED["centre"]["HK"]}
    assert as_tuple(hk["total"]) == EXPECTED["centre"]["HK"]
    assert db_api.client.get("/api/v1/stats", params={"centre": "BD"}, headers=headers).status_code == 404

    # A deployment-wide officer key (no account): every centre, or one.
    wide = {"Authorization": f"Bearer {create_client(db_api.services.catalogue, 'ops', ClientRole.OFFICER)}"}
    every = db_api.client.get("/api/v1/stats", params={**QUERY, "by": "centre"}, headers=wide).json()
    assert every["centre"] is None and as_tuple(every["total"]) == EXPECTED["total"][""]
    assert {row["key"]: as_tuple(row) for row in every["rows"]} == EXPECTED["centre"]
    one = db_api.client.get("/api/v1/stats", params={**QUERY, "centre": "HK"}, headers=wide).json()
    assert as_tuple(one["total"]) == EXPECTED["centre"]["HK"]
    assert db_api.client.get("/api/v1/stats", params={"centre": "XX"}, headers=wide).status_code == 404

    station = {"Authorization": f"Bearer {create_client(db_api.services.catalogue, 'st', ClientRole.STATION)}"}
    assert db_api.client.get("/api/v1/stats", headers=station).status_code == 403
    assert TestClient(db_api.client.app).get("/api/v1/stats").status_code == 401
    bad = lan.get("/api/v1/stats", params={"from": "2026-02-01", "to": "2026-01-01"})
    assert bad.status_code == 422, bad.text
    assert bad.json()["detail"]["code"] == "STATS_PERIOD_INVALID"
    assert lan.get("/api/v1/stats", params={"by": "week"}).status_code == 422


def test_csv_and_xlsx_downloads(db_api: Api) -> None:
    seed(db_api.services.catalogue)
    wide = {"Authorization": f"Bearer {create_client(db_api.services.catalogue, 'ops', ClientRole.OFFICER)}"}
    r = db_api.client.get("/api/v1/stats", params={**QUERY, "by": "procedure", "format": "csv"}, headers=wide)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert 'filename="thong-ke-toan-he-thong-20260101-20260228.csv"' in r.headers["content-disposition"]
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == ["BÁO CÁO KẾT QUẢ SỐ HÓA HỒ SƠ, KẾT QUẢ GIẢI QUYẾT TTHC"]
    assert rows[1] == ["Đơn vị: Toàn hệ thống"] and rows[2] == ["Kỳ báo cáo: từ ngày 01/01/2026 đến ngày 28/02/2026"]
    table = [dict(zip(rows[4], row, strict=True)) for row in rows[5:]]
    assert [t["Thủ tục"] for t in table] == ["1.001193", "2.000001", "Tổng cộng"]
    b = table[1]
    assert (b["Số hồ sơ có kết quả giải quyết"], b["Số hồ sơ có kết quả điện tử đã ký số"]) == ("1", "0")
    assert b["Tỷ lệ số hóa kết quả giải quyết (%)"] == "0.00"
    assert (b["Số thành phần tái sử dụng từ kho dữ liệu"], b["Tỷ lệ tái sử dụng (%)"]) == ("1", "33.33")
    assert b["Thời gian trung vị từ tiếp nhận đến ký số (phút)"] == "31.00"  # 1 860 s
    total = table[2]
    assert (total["Tổng số bản sao và kết quả"], total["Số bản được ký số"], total["Tỷ lệ ký số (%)"]) == (
        "16", "11", "68.75",
    )  # fmt: skip
    assert (total["Số thành phần cần kiểm tra lại"], total["Số thành phần được cán bộ sửa"]) == ("2", "3")

    lan = _signed_in(db_api, "lan.nt", "BD")
    x = lan.get("/api/v1/stats", params={**QUERY, "by": "month", "format": "xlsx"})
    assert x.status_code == 200 and x.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(x.content)).active
    assert sheet is not None
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert cells[0][0] == "BÁO CÁO KẾT QUẢ SỐ HÓA HỒ SƠ, KẾT QUẢ GIẢI QUYẾT TTHC"
    assert cells[1][0] == "Đơn vị: UBND phường Ba Đình (BD)"
    assert cells[4][:4] == ["Tháng", "Tổng số thành phần hồ sơ tiếp nhận", "Số thành phần đã số hóa",
                            "Tỷ lệ số hóa thành phần hồ sơ khi tiếp nhận (%)"]  # fmt: skip
    assert cells[5][:4] == ["Tháng 01/2026", 5, 4, 0.8]
    assert cells[6][:4] == ["Tháng 02/2026", 3, 1, 0.3333]
    assert cells[7][:4] == ["Tổng cộng", 8, 5, 0.625]
    assert sheet.cell(row=6, column=4).number_format == "0.00%"


def test_the_page_for_officers(db_api: Api) -> None:
    seed(db_api.services.catalogue)
    lan = _signed_in(db_api, "lan.nt", "BD", OfficerRole.RESULT)
    r = lan.get("/can-bo/thong-ke", params={**QUERY, "by": "month"})
    assert r.status_code == 200, r.text
    html = r.text
    assert 'id="nav-thong-ke" aria-current="page"' in html
    assert "Tháng 01/2026" in html and "4/5 = 80,00 %" in html and "5/8 = 62,50 %" in html
    assert html.count("<svg") == 3 and '<title id="bieu-do-tiep-nhan-tieu-de">' in html
    assert "/api/v1/stats?from=2026-01-01&amp;to=2026-02-28&amp;by=month&amp;format=xlsx" in html
    assert "UBND phường Hoàn Kiếm" not in html
    wrong = lan.get("/can-bo/thong-ke", params={"from": "2026-13-01"})
    assert wrong.status_code == 422 and "Ngày không hợp lệ" in wrong.text
    assert TestClient(db_api.client.app, follow_redirects=False).get("/can-bo/thong-ke").status_code in (303, 401)
