from __future__ import annotations

import pytest

from bench.corpus import templates
from digitizer.classify import classify_pages
from digitizer.model import DOCUMENT_TYPES
from digitizer.pipeline import DigitizeOptions
from digitizer.textnorm import fold, fold_words


def test_fold_strips_vietnamese_diacritics() -> None:
    assert fold("Họ, chữ đệm và tên ĐỖ") == "ho, chu dem va ten do"
    assert fold_words("Số / No.: 0010") == "so no 0010"


def test_taxonomy_codes() -> None:
    assert set(DOCUMENT_TYPES) == set(templates.TEMPLATES)
    assert DOCUMENT_TYPES[-1] == "other"


@pytest.mark.parametrize("doc_type", [t for t in DOCUMENT_TYPES if t != "other"])
@pytest.mark.parametrize("variant", ["original", "folded", "upper-folded"])
def test_every_type_is_recognised_with_or_without_diacritics(doc_type: str, variant: str) -> None:
    text = templates.plain_text(templates.TEMPLATES[doc_type]())
    if variant == "folded":
        text = fold(text)
    elif variant == "upper-folded":
        text = fold(text).upper()
    result = classify_pages([text])
    assert result.doc_type == doc_type
    assert result.confidence >= 0.6


def test_receipt_is_learned_as_other_without_any_keyword() -> None:
    result = classify_pages([templates.plain_text(templates.other())])
    assert result.doc_type == "other"
    assert not any(result.scores.values())
    assert result.confidence >= 0.6


def test_text_without_any_evidence_is_other_with_zero_confidence() -> None:
    result = classify_pages(["@@@ ### ---"])
    assert (result.doc_type, result.confidence) == ("other", 0.0)


def test_only_the_national_motto_is_too_little_evidence() -> None:
    result = classify_pages(["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc"])
    assert result.confidence < 0.6


def test_heading_outweighs_a_mention_in_the_body() -> None:
    # An application for a birth registration that mentions "giấy khai sinh" in its body.
    filler = "".join(f"Nội dung dòng {i}\n" for i in range(12))
    text = "TỜ KHAI ĐĂNG KÝ KHAI SINH\nKính gửi: UBND phường\n" + filler + "kèm theo giấy khai sinh"
    result = classify_pages([text])
    assert result.doc_type == "application_form"


def test_weak_evidence_gives_low_confidence() -> None:
    result = classify_pages(["ghi chú: có bên a và bên b"])
    assert result.doc_type == "contract"
    assert result.confidence < DigitizeOptions().review_threshold


def test_card_back_alone_is_a_citizen_id_card() -> None:
    result = classify_pages([templates.plain_text(templates.citizen_id_back())])
    assert result.doc_type == "citizen_id_card"
