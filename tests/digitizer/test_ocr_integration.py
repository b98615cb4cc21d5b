"""Real Tesseract and poppler: OCR accuracy, searchable PDF, the bundled sample batch."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pikepdf
import pytest

from bench.corpus import templates
from bench.corpus.render import Degradation, render_page, save_scan
from digitizer import DigitizedComponent, DigitizeOptions, digitize_files, get_engine
from digitizer.accuracy import cer
from digitizer.preprocess import ocr_copy

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "dossiers" / "samples" / "batch"

pytestmark = pytest.mark.integration


def _pdftotext(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "out.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout


def test_tesseract_reads_rendered_vietnamese_page_with_cer_under_2_percent() -> None:
    page = render_page(templates.residence_confirmation(), dpi=200, font_pt=12)
    image = ocr_copy(page.image)
    image.info["dpi"] = (200, 200)
    words = get_engine("tesseract").recognize(image, languages="vie")
    text = "\n".join(" ".join(w.text for w in words if w.line == line) for line in sorted({w.line for w in words}))
    assert cer(page.text, text) <= 0.02
    assert any(w.text == "CƯ" for w in words)


@pytest.fixture(scope="module")
def sample_batch() -> dict:
    return json.loads((SAMPLES / "manifest.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def birth_certificate(sample_batch: dict) -> DigitizedComponent:
    component = sample_batch["components"][2]
    files = [SAMPLES / name for name in component["files"]]
    return digitize_files(files, DigitizeOptions(declared_type=component["declared_type"]))


def test_sample_birth_certificate_is_rotated_deskewed_read_and_classified(birth_certificate) -> None:
    truth = json.loads((SAMPLES / "groundtruth.json").read_text("utf-8"))
    (page,) = birth_certificate.pages
    assert page.rotation == 90  # EXIF Orientation 6
    assert page.skew_deg == pytest.approx(-1.9, abs=0.3)
    assert page.height_px > page.width_px
    assert cer(truth["c3_p1.jpg"], page.text) <= 0.02
    assert birth_certificate.doc_type == "birth_certificate" and not birth_certificate.needs_review
    assert birth_certificate.fields["so_dinh_danh"].value == templates.CHILD["id"]
    assert birth_certificate.fields["full_name"].value == templates.CHILD["name"].upper()
    assert birth_certificate.fields["issue_date"].value == "2024-09-20"


def test_searchable_pdf_text_layer_size_and_validity(birth_certificate, tmp_path: Path) -> None:
    pdf_bytes = birth_certificate.pdf
    text = _pdftotext(pdf_bytes, tmp_path)
    expected = [
        "GIẤY KHAI SINH",
        "NGUYỄN MINH KHANG",
        "Bệnh viện Phụ sản Hà Nội",
        "Quê quán: xã Phù Đổng, huyện Gia Lâm",
        "Số định danh cá nhân: 001224000123",
    ]
    positions = [text.find(phrase) for phrase in expected]
    assert all(p >= 0 for p in positions), text
    assert positions == sorted(positions)
    subprocess.run(["qpdf", "--check", str(tmp_path / "out.pdf")], check=True, capture_output=True)
    with pikepdf.open(tmp_path / "out.pdf") as pdf:
        assert pdf.pdf_version >= "1.4"
        assert len(pdf.pages) == 1
        page = birth_certificate.pages[0]
        box = [float(v) for v in pdf.pages[0].mediabox]
        assert box[2] == pytest.approx(page.width_px * 72 / page.dpi, abs=0.01)
        assert box[3] == pytest.approx(page.height_px * 72 / page.dpi, abs=0.01)
        assert str(pdf.docinfo["/Producer"]) == "sohoa"


def test_two_page_card_gives_two_pdf_pages_in_order(sample_batch: dict, tmp_path: Path) -> None:
    component = sample_batch["components"][1]
    result = digitize_files([SAMPLES / n for n in component["files"]], DigitizeOptions(languages="vie"))
    assert result.doc_type == "citizen_id_card"
    assert result.fields["so_dinh_danh"].value == "001090012345"
    assert result.fields["date_of_birth"].value == "1990-03-15"
    text = _pdftotext(result.pdf, tmp_path)
    assert text.count("\f") == 2
    front, back = text.split("\f")[:2]
    assert "CĂN CƯỚC CÔNG DÂN" in front and "NGUYỄN VĂN AN" in front
    assert "Đặc điểm nhân dạng" in back


def test_scanned_pdf_input_is_rasterised_at_native_resolution(tmp_path: Path) -> None:
    page = render_page(templates.power_of_attorney(), dpi=200, degradation=Degradation(skew_deg=1.0, jpeg_quality=85))
    save_scan(page, tmp_path / "scan.jpg")
    first = digitize_files([tmp_path / "scan.jpg"], DigitizeOptions(languages="vie"))
    (tmp_path / "scan.pdf").write_bytes(first.pdf)
    again = digitize_files([tmp_path / "scan.pdf"], DigitizeOptions(languages="vie"))
    assert again.pages[0].dpi == pytest.approx(200, abs=1)
    assert again.doc_type == "power_of_attorney"
    assert cer(page.text, again.pages[0].text) <= 0.02
