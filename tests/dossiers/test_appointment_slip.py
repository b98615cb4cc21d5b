"""The giấy hẹn (issue 21, part 5): rendered by poppler, its QR code read by zbar, its text read by pdftotext,
its page exactly A5 or A4; the appointment date counts working days."""

from __future__ import annotations

import subprocess
from datetime import date
from pathlib import Path

import pytest
from pyzbar.pyzbar import ZBarSymbol, decode

from dossiers.appointment_slip import add_working_days, appointment_slip_pdf, mask_id, slip_of
from dossiers.batch_reader import read_batch
from dossiers.intake import ingest
from dossiers.services import Services
from sohoa.errors import NotFound
from sohoa.settings import NoticeSettings
from testkit.batches import make_zip, manifest

CODE = "000.00.12.H26-261204-0101"
APPLICANT_ID = "001090012345"
POINTS = {"A5": (419.53, 595.28), "A4": (595.28, 841.89)}


def _push(services: Services, tmp_path: Path) -> None:
    comps = [
        {"id": "to-khai", "name": "Tờ khai đăng ký kết hôn", "files": ["a.jpg"]},
        {"id": "xac-nhan", "name": "Giấy xác nhận tình trạng hôn nhân", "files": ["b.jpg", "c.jpg"]},
    ]
    m = manifest(comps, code=CODE) | {"applicant_name": "Nguyễn Thị Hoa", "contact_email": "hoa@example.vn"}
    path = tmp_path / "batch.zip"
    path.write_bytes(make_zip(m, {"a.jpg": b"\xff\xd8 a", "b.jpg": b"\xff\xd8 b", "c.jpg": b"\xff\xd8 c"}))
    ingest(services, read_batch(path))


def pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def page_size(pdf: Path) -> tuple[float, float]:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    line = next(x for x in info.splitlines() if x.startswith("Page size:"))
    width, _x, height = line.split(":", 1)[1].split()[:3]
    return float(width), float(height)


def qr_texts(pdf: Path, tmp_path: Path) -> list[str]:
    from PIL import Image

    subprocess.run(["pdftoppm", "-r", "200", "-gray", "-png", str(pdf), str(tmp_path / "page")], check=True)
    (png,) = sorted(tmp_path.glob("page*.png"))
    return [s.data.decode("utf-8") for s in decode(Image.open(png), symbols=[ZBarSymbol.QRCODE])]


def test_working_days_skip_weekends() -> None:
    friday, saturday, wednesday = date(2026, 12, 4), date(2026, 12, 5), date(2026, 12, 2)
    assert add_working_days(friday, 1) == date(2026, 12, 7)  # Monday
    assert add_working_days(wednesday, 5) == date(2026, 12, 9)  # a week later
    assert add_working_days(friday, 10) == date(2026, 12, 18)
    assert add_working_days(saturday, 0) == date(2026, 12, 7)
    assert add_working_days(saturday, 1) == date(2026, 12, 7)
    assert mask_id(APPLICANT_ID) == "*********345"


@pytest.mark.parametrize("size", ["A5", "A4"])
def test_the_slip_reads_right_in_poppler_and_zbar(services: Services, tmp_path: Path, size: str) -> None:
    _push(services, tmp_path)
    slip = slip_of(services, CODE)
    pdf = tmp_path / f"slip-{size}.pdf"
    pdf.write_bytes(appointment_slip_pdf(services, CODE, "A4" if size == "A4" else "A5", actor="operator"))

    assert page_size(pdf) == POINTS[size]
    text = pdf_text(pdf)
    flat = " ".join(text.split())
    for expected in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
        f"Mã hồ sơ: {CODE}",
        "Thủ tục hành chính: 1.001193",
        "Ông/Bà: Nguyễn Thị Hoa",
        "Số định danh cá nhân: *********345",
        "1. Tờ khai đăng ký kết hôn (1 trang)",
        "2. Giấy xác nhận tình trạng hôn nhân (2 trang)",
        f"Thời gian hẹn trả kết quả: ngày {slip.due_on:%d/%m/%Y}",
        f"{services.settings.api.base_url}/tra-cuu",
        f"{CODE}-KQ1",
    ):
        assert expected in flat, expected
    assert APPLICANT_ID not in text and "hoa@example.vn" not in text
    assert qr_texts(pdf, tmp_path) == [f"{services.settings.api.base_url}/tra-cuu?ma={CODE}-KQ1"]
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "Pages:           1" in info


def test_the_appointment_date_follows_the_procedure(services: Services, tmp_path: Path) -> None:
    _push(services, tmp_path)
    received = slip_of(services, CODE).received_at
    settings = services.settings.model_copy(
        update={"notices": NoticeSettings(processing_days=3, procedure_days={"1.001193": 12})}
    )
    other = Services(settings)
    try:
        from signing.vntime import to_vn

        assert slip_of(other, CODE).due_on == add_working_days(to_vn(received).date(), 12)
    finally:
        other.close()
    with pytest.raises(NotFound):
        slip_of(services, "000.00.12.H26-261204-9999")
