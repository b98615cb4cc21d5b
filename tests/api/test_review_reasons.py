"""Why a component needs review reaches the station: GET /dossiers/{code} and the CLI's ``sohoa ingest`` lines.

Real pages (rendered, then read by Tesseract through the real digitize step): a plain announcement is
``other`` with needs_review and UNFAMILIAR_TEXT/TYPE_UNCERTAIN with its Vietnamese sentence; a birth
certificate keeps its type and carries no warning.
"""

from __future__ import annotations

import io
from pathlib import Path

from click.testing import CliRunner

from bench.corpus import templates
from bench.corpus.render import Line, render_page
from digitizer import review
from testkit.batches import make_zip, manifest
from testkit.scheduling import run_steps
from tests.api.conftest import Api

CODE = "000.00.12.H26-261121-0731"
ANNOUNCEMENT = [
    Line("ỦY BAN NHÂN DÂN PHƯỜNG HÀNG BẠC", bold=True),
    Line("THÔNG BÁO", "center", bold=True, scale=1.2),
    Line("Về việc lịch cắt điện để bảo dưỡng trạm biến áp", "center"),
    Line("Điện lực quận thông báo tạm ngừng cung cấp điện từ 7 giờ đến 12 giờ"),
    Line("Chủ nhật tuần này tại các tổ dân phố số 2, 3 và 4 của phường."),
    Line("Đề nghị các hộ kinh doanh chủ động sắp xếp công việc trong thời gian mất điện."),
    Line("Mọi thông tin chi tiết xin liên hệ tổng đài chăm sóc khách hàng của Điện lực."),
]


def _jpeg(lines: list[Line]) -> bytes:
    buf = io.BytesIO()
    render_page(lines, dpi=200).image.save(buf, "JPEG", quality=85, dpi=(200, 200))
    return buf.getvalue()


def _digitised_status(api: Api) -> dict:
    m = manifest(
        [
            {"id": "tb", "name": "Thông báo", "files": ["tb.jpg"]},
            {"id": "ks", "declared_type": "birth_certificate", "name": "Giấy khai sinh", "files": ["ks.jpg"]},
        ],
        code=CODE,
    )
    files = {"tb.jpg": _jpeg(ANNOUNCEMENT), "ks.jpg": _jpeg(templates.birth_certificate())}
    r = api.client.post(
        "/api/v1/batches", content=make_zip(m, files), headers=api.station | {"Content-Type": "application/zip"}
    )
    assert r.status_code == 202, r.text
    run_steps(api.services, ("ingest", "ocr", "sign", "store"))
    r = api.client.get(f"/api/v1/dossiers/{CODE}", headers=api.station)
    assert r.status_code == 200
    return r.json()


def test_status_carries_review_reasons_in_vietnamese(api: Api) -> None:
    status = _digitised_status(api)
    assert status["state"] == "done"
    comps = {c["ref"]: c for c in status["components"]}
    notice = comps["tb"]
    assert notice["document"]["type"] == "other" and notice["document"]["needs_review"] is True
    assert notice["review"]["needs_review"] is True
    codes = [w["code"] for w in notice["review"]["warnings"]]
    assert {"UNFAMILIAR_TEXT", "TYPE_UNCERTAIN"} & set(codes)
    for warning in notice["review"]["warnings"]:
        assert warning["message"] == review.message(warning["code"]) and warning["message"] != ""
    guess = notice["review"]["guess"]
    assert guess["type"] != "other" and 0 < guess["confidence"] < 1
    assert abs(guess["confidence"] - notice["document"]["confidence"]) < 1e-3

    birth = comps["ks"]
    assert birth["document"]["type"] == "birth_certificate" and birth["document"]["needs_review"] is False
    assert birth["review"] == {
        "needs_review": False,
        "warnings": [],
        "guess": {"type": "birth_certificate", "confidence": birth["review"]["guess"]["confidence"]},
    }
    assert birth["review"]["guess"]["confidence"] >= 0.8


def test_ingest_command_prints_the_reasons(api: Api, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from cli import main as cli_main

    status = _digitised_status(api)
    monkeypatch.setattr("cli.station_client.push_and_follow", lambda *_args, **_kw: status)
    batch = Path(__file__)  # any existing path: the push itself is replaced by the status above
    result = CliRunner().invoke(cli_main.main, ["ingest", str(batch), "--key", "k", "--url", "http://x"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip().startswith("tb "))
    assert "other" in lines[at] and "cần cán bộ kiểm tra" in lines[at + 1]
    notice = next(c for c in status["components"] if c["ref"] == "tb")
    for offset, warning in enumerate(notice["review"]["warnings"], start=2):
        assert f"[{warning['code']}] {warning['message']}" in lines[at + offset]
    ks = next(i for i, line in enumerate(lines) if line.strip().startswith("ks "))
    assert "birth_certificate" in lines[ks]
    assert not any("cần cán bộ kiểm tra" in line for line in lines[ks:])
