"""Real Tesseract on generated two-party pages: every party's số định danh is found, with its role."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from bench.corpus import templates
from bench.corpus.generate import random_cast
from bench.corpus.parties import KINDS, party_page
from bench.corpus.render import Degradation, render_page, save_scan
from digitizer import DigitizeOptions, digitize_files

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_party_of_a_generated_page_is_found_with_its_role(kind: str, tmp_path: Path) -> None:
    generated = party_page(kind, random.Random(f"parties-{kind}"))
    path = tmp_path / "page.jpg"
    save_scan(generated.page, path, quality=85)
    result = digitize_files([path], DigitizeOptions(declared_type=generated.doc_type))
    found = [(p.role, p.id_number) for p in result.parties]
    assert found == [(t.role, t.id) for t in generated.parties]
    first = generated.parties[0]
    assert result.fields["so_dinh_danh"].value == first.id  # the top-level field stays the first person's
    assert result.to_dict()["parties"][1]["so_dinh_danh"]["value"] == generated.parties[1].id
    assert "ID_NUMBER_INVALID" not in result.warnings


def test_marriage_certificate_of_the_classifier_corpus_names_both_spouses(tmp_path: Path) -> None:
    cast = random_cast(random.Random(19))
    page = render_page(templates.marriage_certificate(cast), dpi=200, degradation=Degradation(skew_deg=1.2))
    path = tmp_path / "kh.jpg"
    save_scan(page, path)
    result = digitize_files([path], DigitizeOptions(declared_type="marriage_certificate"))
    assert [(p.role, p.id_number) for p in result.parties] == [
        ("husband", cast.father["id"]),
        ("wife", cast.mother["id"]),
    ]
