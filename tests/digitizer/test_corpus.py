"""The synthetic corpus generator: valid identifiers, every type, scanner degradations, card photos."""

from __future__ import annotations

import random

from bench.corpus import generate
from digitizer.citizen_id import is_valid_citizen_id
from digitizer.classify import classify_pages


def test_people_have_valid_ids_that_agree_with_their_birth_year() -> None:
    rng = random.Random(1)
    for _ in range(50):
        cast = generate.random_cast(rng)
        for person in (cast.father, cast.mother, cast.child):
            assert is_valid_citizen_id(person["id"], birth_year=int(person["dob"][-4:])), person


def test_every_type_renders_text_its_classifier_recognises() -> None:
    rng = random.Random(3)
    for doc_type in generate.DOC_TYPES:
        lines = [line.text for line in generate.templates.TEMPLATES[doc_type](generate.random_cast(rng))]
        assert classify_pages(["\n".join(lines)]).doc_type == doc_type


def test_corpus_pages_are_degraded_scans_at_200_or_300_dpi() -> None:
    (component,) = generate.corpus(1, seed=4)
    (page,) = component.pages
    assert component.doc_type != "citizen_id_card" and page.dpi in (200, 300)
    assert page.image.size == (round(210 / 25.4 * page.dpi), round(297 / 25.4 * page.dpi))
    assert len(set(page.image.convert("L").crop((0, 0, 50, 50)).getdata())) > 3  # noise on the paper
    card = generate.render_component("citizen_id_card", random.Random(4))
    assert len(card.pages) == 2 and card.expected_id == card.cast.father["id"]


def test_same_seed_same_corpus_and_card_photos_have_a_desk_around_the_card() -> None:
    first = generate.render_component("citizen_id_card", random.Random(8), photo=True)
    again = generate.render_component("citizen_id_card", random.Random(8), photo=True)
    assert first.text == again.text
    assert first.pages[0].image.tobytes() == again.pages[0].image.tobytes()
    photo = first.pages[0].image
    assert photo.width > 1.5 * 1011  # the 85.6 mm card at 300 dpi is 1011 px wide
    corner = photo.convert("L").crop((0, 0, 40, 40))
    assert sum(corner.getdata()) / 1600 < 160  # desk, not card


def test_ocr_noise_and_diacritic_stripping() -> None:
    text = "Họ, chữ đệm và tên: Đỗ Thị Hương"
    assert generate.strip_diacritics(text) == "Ho, chu dem va ten: Do Thi Huong"
    noisy = generate.ocr_noise(text, random.Random(2), 0.2)
    assert noisy != text and len(noisy) <= len(text) + 5
    assert generate.ocr_noise(text, random.Random(2), 0.0) == text
