"""The category corpus generator (bench/corpus/categories.py): every category renders pages whose ground
truth (text, type, parties, orientation, storage) agrees with what was drawn and written. No OCR here;
the bench smoke test at the end runs real Tesseract through ``sohoa digitize``."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pikepdf
import pytest
from PIL import Image, ImageFont

from bench.corpus import categories as gen
from bench.corpus.generate import DOC_TYPES
from digitizer.citizen_id import is_valid_citizen_id

A4_200 = (1654, 2339)


@pytest.fixture(scope="module")
def corpus() -> dict[str, list[gen.Sample]]:
    return {category: gen.samples(category, 1, seed=7) for category in gen.CATEGORIES}


def _upright(page: gen.Page) -> np.ndarray:
    turns = {0: None, 90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_90}
    method = turns[page.upright_turn_cw]
    image = page.image if method is None else page.image.transpose(method)
    return np.asarray(image.convert("L"))


def _ink_rows(gray: np.ndarray) -> np.ndarray:
    """Rows holding dark (text) pixels, as a fraction of the page height."""
    rows = np.flatnonzero((gray < 100).sum(axis=1) > 3)
    return rows / gray.shape[0]


def _profile_sharpness(image: Image.Image, angle: float) -> float:
    """Variance of the dark-pixel count per row after turning by ``angle``: high when lines are level."""
    gray = image.convert("L").rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=255)
    return float(((np.asarray(gray) < 128).sum(axis=1)).var())


def test_every_face_draws_vietnamese_letters() -> None:
    # A face without these glyphs draws the same .notdef box for all of them.
    letters = "ỜợữđĂơưẫỹ"
    for face, (regular, bold) in gen.FACES.items():
        for path in (regular, bold):
            font = ImageFont.truetype(str(path), 40)
            masks = {bytes(font.getmask(ch)) for ch in letters}
            assert len(masks) == len(letters), face


def test_every_category_has_consistent_ground_truth(corpus: dict[str, list[gen.Sample]]) -> None:
    for category, samples in corpus.items():
        for sample in samples:
            assert sample.category == category
            assert sample.doc_type is None or sample.doc_type in DOC_TYPES
            assert sample.pages and all(page.text.strip() for page in sample.pages), category
            for page in sample.pages:
                assert page.upright_turn_cw in (0, 90, 180, 270)
                assert len(_ink_rows(_upright(page))) > 20, category  # something is drawn
            ids_in_text = set(gen.ID_PATTERN.findall(sample.text))
            assert {p.id for p in sample.parties} == ids_in_text, category
            for party in sample.parties:
                assert is_valid_citizen_id(party.id), party
                assert party.name in sample.text or party.name.upper() in sample.text


def test_same_seed_same_samples_other_seed_other_text() -> None:
    first, again = gen.samples("unfamiliar", 1, seed=3), gen.samples("unfamiliar", 1, seed=3)
    assert first[0].text == again[0].text
    assert first[0].pages[0].image.tobytes() == again[0].pages[0].image.tobytes()
    assert gen.samples("unfamiliar", 1, seed=4)[0].text != first[0].text


def test_clean_pages_are_200_dpi_a4_prose_skewed_1_to_2_degrees(corpus: dict[str, list[gen.Sample]]) -> None:
    faces = set()
    for sample in gen.samples("clean", 4, seed=11):
        (page,) = sample.pages
        assert sample.doc_type is None and page.dpi == 200 and page.image.size == A4_200
        assert len(page.text) > 1500 and not gen.ID_PATTERN.search(page.text)
        faces.add(sample.tags["face"])
        assert 1.0 <= abs(page.skew_deg) <= 2.0
        # The text lines are tilted by the recorded skew: undone, the rows of ink are sharpest.
        assert _profile_sharpness(page.image, -page.skew_deg) > 1.5 * _profile_sharpness(page.image, 0.0)
    assert len(faces) > 1  # not one font


def test_photo_is_a_page_on_a_desk_in_warm_light(corpus: dict[str, list[gen.Sample]]) -> None:
    for sample in corpus["photo"]:
        (page,) = sample.pages
        rgb = np.asarray(page.image, np.float32)
        assert page.image.width >= 2250 and page.dpi is None
        corner = rgb[:40, :40].mean(axis=(0, 1))
        centre = rgb[rgb.shape[0] // 2 - 50 : rgb.shape[0] // 2 + 50, rgb.shape[1] // 2 - 50 :][:, :100]
        assert corner.mean() < 190  # desk, not paper
        paper = centre.reshape(-1, 3)
        paper = paper[paper.mean(axis=1) > np.percentile(paper.mean(axis=1), 50)].mean(axis=0)
        assert paper[0] > paper[2] + 15  # warm: red above blue on the paper


def test_seal_and_signature_ink_cover_text_lines(corpus: dict[str, list[gen.Sample]]) -> None:
    for sample in corpus["seal"]:
        rgb = np.asarray(sample.pages[0].image, np.int16)
        r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
        red = (r > 150) & (r - g > 80) & (r - b > 60)
        blue = (b > 120) & (b - r > 60)
        assert red.sum() > 2000 and blue.sum() > 300
        red_rows = np.flatnonzero(red.any(axis=1))
        # The seal sits in the lower half and spans rows that also hold black text.
        assert red_rows.mean() > rgb.shape[0] / 2
        black = (rgb.max(axis=2) < 90).sum(axis=1) > 3
        assert black[red_rows.min() : red_rows.max()].sum() > 20


@pytest.mark.parametrize("category", ["table", "top_heavy"])
def test_upright_pages_with_content_in_the_top_part(corpus: dict[str, list[gen.Sample]], category: str) -> None:
    for sample in corpus[category]:
        (page,) = sample.pages
        assert page.upright_turn_cw == 0
        rows = _ink_rows(np.asarray(page.image.convert("L")))
        assert rows.max() < 0.7  # the lower part of the page is blank


def test_table_form_is_ruled() -> None:
    (sample,) = gen.samples("table", 1, seed=5)
    page = sample.pages[0]
    gray = np.asarray(page.image.convert("L").rotate(-page.skew_deg, fillcolor=255))
    long_dark_rows = ((gray < 100).sum(axis=1) > 0.5 * gray.shape[1]).sum()
    assert long_dark_rows >= 5 and sample.doc_type == "application_form"


def test_rotated_pages_are_stored_turned_and_say_how_to_turn_them_back() -> None:
    turns = set()
    for sample in gen.samples("rotated", 4, seed=2):
        (page,) = sample.pages
        stored = int(sample.tags["stored_cw"])
        assert page.upright_turn_cw == (360 - stored) % 360
        assert (page.image.width > page.image.height) == (stored in (90, 270))
        # Upright again, the text block starts near the top (a title or the first paragraph).
        assert _ink_rows(_upright(page)).min() < 0.2
        turns.add(stored)
    assert 180 in turns and turns & {90, 270}  # upside down and sideways


def test_stored_forms(tmp_path: Path, corpus: dict[str, list[gen.Sample]]) -> None:
    (tiff,) = gen.write(corpus["tiff"][0], tmp_path, "t")
    with Image.open(tiff) as image:
        assert image.n_frames == len(corpus["tiff"][0].pages) >= 2
        assert image.info["compression"] == "group4" and image.mode == "1"
    (pdf,) = gen.write(corpus["pdf"][0], tmp_path, "p")
    with pikepdf.open(pdf) as doc:
        assert len(doc.pages) == len(corpus["pdf"][0].pages)
        assert all(not page.get("/Resources", {}).get("/Font") for page in doc.pages)  # image only
    (lowres,) = gen.write(corpus["lowres"][0], tmp_path, "l")
    with Image.open(lowres) as image:
        assert round(image.info["dpi"][0]) == 150 and image.size == (1240, 1754)
        assert lowres.stat().st_size < 250_000  # heavy JPEG
    pdf_bytes = gen.as_pdf([tiff])
    with pikepdf.open(io.BytesIO(pdf_bytes)) as doc:  # what OCRmyPDF reads
        assert len(doc.pages) == len(corpus["tiff"][0].pages)


def test_two_party_documents_name_every_party_with_a_role() -> None:
    layouts = set()
    for sample in gen.samples("two_party", 4, seed=9):
        layouts.add(sample.tags["layout"])
        assert sample.doc_type in ("marriage_certificate", "power_of_attorney", "contract")
        assert len(sample.parties) >= 2 and len({p.id for p in sample.parties}) == len(sample.parties)
        assert len({p.role for p in sample.parties}) == 2 and all(p.role for p in sample.parties)
    assert layouts == set(gen.TWO_PARTY)


def test_unfamiliar_text_is_other_and_manifest_keeps_the_truth(tmp_path: Path) -> None:
    for sample in gen.samples("unfamiliar", 4, seed=1):
        assert sample.doc_type == "other" and not sample.parties
        files = gen.write(sample, tmp_path, "u")
        truth = json.loads(json.dumps(gen.ground_truth(sample, files), ensure_ascii=False))
        assert truth["pages"][0]["text"] == sample.pages[0].text and truth["doc_type"] == "other"
        assert re.search(r"THÔNG BÁO|GIẤY MỜI|THƯ MỜI", sample.text)


@pytest.mark.integration
def test_category_bench_reads_its_corpus_back_with_sohoa(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """One component of three categories through ``sohoa digitize`` (real Tesseract): the ground truth
    lines up with what is on the pages (low CER on plain scans) and every figure reaches the JSON line."""
    from bench.digitize import categories as bench

    argv = ["--per-category", "1", "--only", "unfamiliar,pdf,two_party", "--no-ocrmypdf", "--keep", str(tmp_path)]
    assert bench.main(argv) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    table = figures["categories"]
    assert set(table) == {"unfamiliar", "pdf", "two_party"}
    assert all(row["failed"] == 0 and row["ocrmypdf_cer"] is None for row in table.values())
    assert table["unfamiliar"]["sohoa_cer"] < 0.05 and table["pdf"]["sohoa_cer"] < 0.05
    manifest = json.loads((tmp_path / "corpus" / "manifest.json").read_text("utf-8"))
    assert [m["category"] for m in manifest] == ["unfamiliar", "pdf", "two_party"]
    assert figures["ids"]["id_parties"] == sum(len(m["parties"]) for m in manifest) >= 2
    assert 0.0 <= figures["ids"]["id_recall"] <= 1.0
    assert figures["classification"]["class_components"] == 3


def test_bench_edit_distance_agrees_with_the_digitizers() -> None:
    import random

    from bench.digitize.runner import edit_distance as fast
    from digitizer.accuracy import edit_distance as reference

    rng = random.Random(5)
    alphabet = "aăâđơư ằệ\n"
    for _ in range(300):
        a = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 25)))
        b = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 25)))
        assert fast(a, b) == reference(a, b), (a, b)
