"""digitize_files with a fake engine: page order, warnings, review rules and the result shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from bench.corpus import templates
from bench.corpus.render import render_page, save_scan
from digitizer import DOCUMENT_TYPES, DigitizedComponent, DigitizeOptions, OcrEngine, digitize_files, get_engine, review
from sohoa.errors import SohoaError

CCCD_TEXT = templates.plain_text(templates.citizen_id_front())
BIRTH_TEXT = templates.plain_text(templates.birth_certificate())


@pytest.fixture(scope="module")
def scans(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("scans")
    paths = []
    for i, dpi in enumerate((200, 150)):
        page = render_page(templates.other(), dpi=dpi)
        save_scan(page, folder / f"p{i}.jpg")
        paths.append(folder / f"p{i}.jpg")
    return paths


def test_public_interface() -> None:
    assert len(DOCUMENT_TYPES) == 10
    assert isinstance(get_engine("tesseract"), OcrEngine)
    with pytest.raises(SohoaError, match="OCR_ENGINE_UNAVAILABLE"):
        get_engine("nonexistent")


def test_pages_in_order_low_resolution_flagged_and_json_shape(scans: list[Path], fake_engine) -> None:
    engine = fake_engine([CCCD_TEXT, "Nơi cấp: Bộ Công an"])
    result = digitize_files(scans, DigitizeOptions(engine=engine, declared_type="citizen_id_card"))
    assert isinstance(result, DigitizedComponent)
    assert engine.calls == 2 and len(result.pages) == 2
    assert [p.index for p in result.pages] == [0, 1]
    assert result.pages[0].dpi == 200 and result.pages[0].warnings == []
    assert result.pages[1].dpi == 150 and result.pages[1].warnings == ["LOW_RESOLUTION"]
    assert result.doc_type == "citizen_id_card" and not result.needs_review
    assert result.warnings == ["LOW_RESOLUTION"]
    assert result.fields["issuing_place"].page == 1
    data = json.loads(json.dumps(result.to_dict()))
    assert set(data) == {
        "type",
        "confidence",
        "needs_review",
        "pages",
        "fields",
        "parties",
        "warnings",
        "reasons",
        "guess",
    }
    assert data["reasons"] == [{"code": "LOW_RESOLUTION", "message": review.message("LOW_RESOLUTION")}]
    assert data["guess"] == {"type": "citizen_id_card", "confidence": data["confidence"]}
    assert set(data["pages"][0]) == {
        "text",
        "confidence",
        "width_px",
        "height_px",
        "dpi",
        "rotation",
        "skew_deg",
        "warnings",
    }
    assert set(data["fields"]["so_dinh_danh"]) == {"value", "page", "box", "confidence"}
    assert "words" in result.to_dict(include_words=True)["pages"][0]
    assert result.pdf.startswith(b"%PDF-1.7")


def test_confident_disagreement_with_declared_type(scans: list[Path], fake_engine) -> None:
    result = digitize_files(
        scans[:1], DigitizeOptions(engine=fake_engine([BIRTH_TEXT]), declared_type="marriage_certificate")
    )
    assert result.doc_type == "birth_certificate"
    assert "TYPE_MISMATCH" in result.warnings
    assert result.needs_review


def test_unsure_classification_needs_review_and_keeps_declared_type(scans: list[Path], fake_engine) -> None:
    result = digitize_files(
        scans[:1], DigitizeOptions(engine=fake_engine(["có bên a và bên b"]), declared_type="contract")
    )
    assert result.confidence < DigitizeOptions().review_threshold
    assert result.doc_type == "contract" and result.needs_review
    assert result.guess == "contract" and {"UNFAMILIAR_TEXT", "TYPE_UNCERTAIN"} & set(result.warnings)
    unknown = digitize_files(scans[:1], DigitizeOptions(engine=fake_engine(["@@@ ###"])))
    assert unknown.doc_type == "other" and unknown.needs_review and unknown.warnings == ["TYPE_UNCERTAIN"]
    declared_other = digitize_files(scans[:1], DigitizeOptions(engine=fake_engine(["@@@ ###"]), declared_type="other"))
    assert declared_other.doc_type == "other" and not declared_other.needs_review


ANNOUNCEMENT = """ỦY BAN NHÂN DÂN PHƯỜNG LINH TRUNG
CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
THÔNG BÁO
Về việc tạm dừng tiếp nhận hồ sơ trực tuyến để nâng cấp hệ thống
Kính gửi: Các tổ chức, cá nhân có nhu cầu giải quyết thủ tục hành chính
Từ 18 giờ thứ Sáu đến 7 giờ thứ Hai tuần sau, Cổng dịch vụ công của phường tạm dừng để nâng cấp máy chủ.
Trong thời gian này, đề nghị người dân nộp trực tiếp tại Bộ phận một cửa. Xin cảm ơn sự hợp tác của nhân dân."""


def test_unfamiliar_text_is_other_needs_review_and_keeps_the_guess(scans: list[Path], fake_engine) -> None:
    result = digitize_files(scans[:1], DigitizeOptions(engine=fake_engine([ANNOUNCEMENT])))
    assert result.doc_type == "other" and result.needs_review
    reason = [code for code in result.warnings if code in ("UNFAMILIAR_TEXT", "TYPE_UNCERTAIN")]
    assert len(reason) == 1
    assert result.guess in DOCUMENT_TYPES and result.guess != "other"
    data = result.to_dict()
    assert data["guess"]["type"] == result.guess and data["guess"]["confidence"] == result.confidence
    assert {"code": reason[0], "message": review.message(reason[0])} in data["reasons"]
    # A declared type stands in for the rejected guess; the officer still confirms it.
    declared = digitize_files(scans[:1], DigitizeOptions(engine=fake_engine([ANNOUNCEMENT]), declared_type="contract"))
    assert declared.doc_type == "contract" and declared.needs_review and reason[0] in declared.warnings
    assert "TYPE_MISMATCH" not in declared.warnings
    # Declared as "other" by the station, unfamiliar text is what was expected: no review for the type.
    other = digitize_files(scans[:1], DigitizeOptions(engine=fake_engine([ANNOUNCEMENT]), declared_type="other"))
    assert other.doc_type == "other" and not other.needs_review and other.warnings == []


def test_confident_known_type_is_unchanged(scans: list[Path], fake_engine) -> None:
    result = digitize_files(scans[:1], DigitizeOptions(engine=fake_engine([BIRTH_TEXT])))
    assert result.doc_type == result.guess == "birth_certificate"
    assert not result.needs_review and result.warnings == []


def test_page_without_text_needs_review(scans: list[Path], fake_engine) -> None:
    result = digitize_files(scans[:1], DigitizeOptions(engine=fake_engine([""])))
    assert result.pages[0].warnings == ["NO_TEXT"] and result.needs_review


def test_engine_crash_becomes_ocr_failed(scans: list[Path], crashing_engine) -> None:
    with pytest.raises(SohoaError) as info:
        digitize_files(scans[:1], DigitizeOptions(engine=crashing_engine))
    assert info.value.code == "OCR_FAILED" and info.value.retryable


def test_tesseract_timeout_becomes_ocr_failed(tmp_path: Path, scans: list[Path]) -> None:
    slow = tmp_path / "slow-tesseract"
    slow.write_text("#!/bin/sh\nsleep 5\n")
    slow.chmod(0o755)
    engine = get_engine("tesseract", binary=str(slow), timeout_s=0.3)
    with pytest.raises(SohoaError, match="OCR_FAILED"):
        engine.recognize(Image.open(scans[0]), languages="vie")


def test_missing_tesseract_binary_is_unavailable(scans: list[Path]) -> None:
    engine = get_engine("tesseract", binary="/nonexistent/tesseract")
    with pytest.raises(SohoaError, match="OCR_ENGINE_UNAVAILABLE"):
        engine.recognize(Image.open(scans[0]), languages="vie")


def test_empty_component_is_refused() -> None:
    with pytest.raises(SohoaError, match="IMAGE_EMPTY"):
        digitize_files([], DigitizeOptions())


def test_easyocr_without_its_model_directory_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(SohoaError, match="OCR_ENGINE_UNAVAILABLE"):
        get_engine("easyocr", model_dir=tmp_path / "missing")


def test_tesseract_modes() -> None:
    from digitizer.engines.tesseract import TesseractEngine
    from digitizer.engines.tesseract_api import TesseractApiEngine

    assert isinstance(get_engine("tesseract"), TesseractApiEngine)
    assert isinstance(get_engine("tesseract", mode="api", workers=3), TesseractApiEngine)
    assert isinstance(get_engine("tesseract", mode="cli"), TesseractEngine)
    with pytest.raises(SohoaError, match="OCR_ENGINE_UNAVAILABLE"):
        get_engine("tesseract", mode="gpu")


def test_the_ocr_copy_of_a_low_resolution_page_is_upsampled_toward_300_dpi() -> None:
    from digitizer.pipeline import _ocr_scale

    assert _ocr_scale(150, None, 200) == 2.0
    assert _ocr_scale(180, None, 200) == pytest.approx(300 / 180)
    assert _ocr_scale(100, None, 200) == 2.0  # at most twice: a poorer page is not made up
    assert _ocr_scale(200, None, 200) == 1.0  # a page at the minimum is read as it is
    assert _ocr_scale(600, 300, 200) == 0.5
    assert _ocr_scale(150, 300, 200) == 2.0
