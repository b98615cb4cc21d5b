"""The template e-result through the API and the sign_result step: an NĐ 30/2020 form, A4, QR and code printed."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pikepdf
from PIL import Image
from pyzbar.pyzbar import ZBarSymbol, decode

from signing.validation import verify_pdf
from testkit.poppler import pdftotext
from testkit.scheduling import run_steps
from tests.api.conftest import Api, push_dossier

CODE = "000.00.12.H26-261205-0701"


def test_template_result_carries_number_signer_recipients_code_and_qr(api: Api, tmp_path: Path) -> None:
    push_dossier(api, CODE)
    spec = {
        "title": "Giấy xác nhận tình trạng hôn nhân",
        "body": ["Ông Nguyễn Văn An chưa đăng ký kết hôn với ai tại địa phương."],
        "number": "7",
        "symbol": "XN-UBND",
        "parent_agency": "UBND quận Ba Đình",
        "signer_title": ["KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"],
        "signer_name": "Lê Văn Cường",
        "recipients": ["Ông Nguyễn Văn An;", "Lưu: VT."],
        "validity": "đến 05/06/2027",
        "scope": "Trên toàn quốc",
        "level": "B-B",
    }
    issued = api.client.post(f"/api/v1/dossiers/{CODE}/results/from-template", json=spec, headers=api.officer)
    assert issued.status_code == 202, issued.text
    code = issued.json()["code"]
    run_steps(api.services)
    view = api.client.get(f"/api/v1/results/{code}", headers=api.officer).json()
    assert view["state"] == "done", view
    pdf = api.client.get(view["download_url"], headers=api.officer).content
    assert verify_pdf(pdf, api.services.trust_roots).valid
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        assert len(doc.pages) == 1
        x1, y1, x2, y2 = (float(v) for v in doc.pages[0].mediabox)
        assert abs(x2 - x1 - 595.28) < 0.5 and abs(y2 - y1 - 841.89) < 0.5
    (tmp_path / "kq.pdf").write_bytes(pdf)
    text = " ".join(pdftotext(tmp_path / "kq.pdf").split())
    for expected in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "UBND QUẬN BA ĐÌNH",
        "Số: 7/XN-UBND",
        "Ba Đình, ngày",
        "KT. CHỦ TỊCH",
        "Lê Văn Cường",
        "Nơi nhận:",
        code,
        f"Mã hồ sơ: {CODE}",
    ):
        assert expected in text, expected
    subprocess.run(["pdftoppm", "-r", "300", "-gray", str(tmp_path / "kq.pdf"), str(tmp_path / "p")], check=True)
    [page] = sorted(tmp_path.glob("p*.pgm"))
    [qr] = [d.data.decode("utf-8") for d in decode(Image.open(page), symbols=[ZBarSymbol.QRCODE])]
    assert f"Tra cứu: {api.services.settings.api.base_url}/tra-cuu/ket-qua/{code}" in qr
    assert f"Mã hồ sơ: {CODE}" in qr
    assert "Hiệu lực: đến 05/06/2027" in qr and "Phạm vi: Trên toàn quốc" in qr  # TT 01/2023, results
