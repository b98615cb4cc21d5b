"""Real in-process Tesseract through digitize_batch: accuracy on skewed scans and a photographed card."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from bench.corpus import generate
from bench.corpus.render import Degradation, render_page, save_scan
from digitizer import DigitizeOptions, digitize_batch, get_engine
from digitizer.accuracy import cer
from digitizer.preprocess import find_card

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[generate.Component]]:
    folder = tmp_path_factory.mktemp("ocr")
    rng = random.Random(31)
    components = [
        generate.render_component("birth_certificate", rng, dpi=300, max_skew=3.0),
        generate.render_component("residence_confirmation", rng, dpi=200, max_skew=3.0),
        generate.render_component("citizen_id_card", rng, photo=True),
    ]
    for i, component in enumerate(components):
        for j, page in enumerate(component.pages):
            save_scan(page, folder / f"c{i}_p{j}.jpg", quality=85)
    return folder, components


def test_skewed_scans_and_card_photo_are_read_classified_and_their_ids_found(batch) -> None:
    folder, components = batch
    specs = [(f"c{i}", [f"c{i}_p{j}.jpg" for j in range(len(c.pages))]) for i, c in enumerate(components)]
    engine = get_engine("tesseract", workers=2)
    results = digitize_batch(specs, DigitizeOptions(engine=engine), workers=2, root=folder)
    assert all(r.ok for r in results), [r.error for r in results]
    for result, component in zip(results, components, strict=True):
        digitized = result.result
        assert digitized is not None
        assert digitized.doc_type == component.doc_type and not digitized.needs_review
        assert digitized.fields["so_dinh_danh"].value == component.expected_id
    for result, component in zip(results[:2], components[:2], strict=True):
        (page,) = result.result.pages
        assert cer(component.pages[0].text, page.text) <= 0.01
        assert abs(page.skew_deg) <= 3.2
    back = results[2].result.pages[1]
    assert cer(components[2].pages[1].text, back.text) <= 0.02
    assert len(engine._created) == 1 and engine._created["vie"] <= 2  # handles reused, never one per page


def test_card_photo_is_found_with_its_tilt() -> None:
    card = generate.render_component("citizen_id_card", random.Random(5), photo=True).pages[0].image
    found = find_card(card)
    assert found is not None
    left, top, right, bottom = found[1]
    assert 0.1 < left < 0.35 and 0.1 < top < 0.35 and 0.65 < right < 0.9 and 0.65 < bottom < 0.9
    a4 = render_page(generate.templates.other(), dpi=100, degradation=Degradation(uneven_light=0.3)).image
    assert find_card(a4) is None
