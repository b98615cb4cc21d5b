"""Phone photos of a page on a desk: found, corrected and read whole; scans and ID cards left alone."""

from __future__ import annotations

import io
import random
from pathlib import Path

import numpy as np
import pikepdf
import pytest
from PIL import Image

from bench.corpus import generate, photos
from bench.corpus.render import Degradation, render_page
from digitizer import DigitizeOptions, digitize_files, photo
from digitizer.accuracy import cer
from digitizer.preprocess import find_card


@pytest.mark.parametrize("seed", [3, 11, 12, 17, 23, 31])
def test_the_sheet_is_found_at_its_corners(seed: int) -> None:
    shot = photos.make_page_photo(seed)
    found = photo.find_page(shot.image)
    assert found is not None, shot.params
    diagonal = float(np.hypot(*shot.image.size))
    errors = [float(np.hypot(fx - tx, fy - ty)) for (fx, fy), (tx, ty) in zip(found.corners, shot.corners, strict=True)]
    assert max(errors) < 0.01 * diagonal, (errors, shot.params)
    width, height = found.size()
    assert abs(height / width - 2**0.5) < 0.02  # an A4 sheet, upright


def test_a_corner_cut_off_by_a_shadow_is_restored_from_the_two_long_edges() -> None:
    # A 300 x 400 sheet whose bottom-right corner is missing from the mask (a triangle 60 px deep).
    sheet = np.zeros((500, 400), dtype=bool)
    sheet[50:450, 50:350] = True
    yy, xx = np.mgrid[0:500, 0:400]
    sheet[(xx - 350) + (yy - 450) > -60] = False
    rows = np.nonzero(sheet.any(axis=1))[0]
    left, right = sheet[rows].argmax(axis=1), 400 - sheet[rows, ::-1].argmax(axis=1)
    points = np.concatenate([np.stack([x, y], 1) for x in (left, right) for y in (rows, rows + 1)])
    quad = photo._quad(photo._hull(points))
    assert quad is not None
    corners = sorted((round(x), round(y)) for x, y in photo._order(quad))
    assert corners == sorted([(50, 50), (350, 50), (350, 450), (50, 450)])


def test_a_second_sheet_on_the_desk_makes_the_find_uncertain_so_nothing_is_cropped() -> None:
    shot = photos.make_page_photo(7)
    assert photo.find_page(shot.image) is not None
    image = shot.image.copy()
    w, h = image.size
    left = min(x for x, _ in shot.corners)  # a receipt lying beside the page, at its left edge
    image.paste((238, 232, 215), (round(0.01 * w), round(0.3 * h), round(left - 0.01 * w), round(0.6 * h)))
    assert photo.find_page(image) is None


def test_light_is_flattened_and_the_warm_cast_removed() -> None:
    shot = photos.make_page_photo(5)
    found = photo.find_page(shot.image)
    assert found is not None
    page = np.asarray(photo.correct_page(shot.image, found), dtype=np.float32)
    # The paper (pixels away from ink) in every tenth of the page, shadow band included, is near white
    # and neutral: no channel is more than a few levels below the others (the photo: 30+ levels).
    h, w, _ = page.shape
    for y in range(0, h - h // 10, h // 10):
        block = page[y : y + h // 10, w // 10 : -w // 10].reshape(-1, 3)
        paper = block[block.min(axis=1) > np.percentile(block.min(axis=1), 50)]
        levels = np.median(paper, axis=0)
        assert levels.min() > 235 and levels.max() - levels.min() < 10, (y, levels)
    before = np.asarray(shot.image, dtype=np.float32)
    warm = np.median(before[before.mean(axis=2) > 150], axis=0)
    assert warm[0] - warm[2] > 30  # the photo was warm: red well above blue on the paper


@pytest.mark.parametrize(
    ("dpi", "degradation"),
    [
        (200, Degradation()),
        (200, Degradation(skew_deg=2.5, uneven_light=0.3, noise=4.0, jpeg_quality=75)),
        (300, Degradation(skew_deg=-1.5, blur=0.5, uneven_light=0.15)),
        (150, Degradation(noise=6.0, jpeg_quality=60)),
    ],
)
def test_a_flatbed_scan_is_not_a_photo(dpi: int, degradation: Degradation) -> None:
    rng = random.Random(dpi)
    page = render_page(
        photos.full_page_lines(rng, font="serif", font_pt=12.0, dpi=dpi, line_spacing=1.5),
        dpi=dpi,
        degradation=degradation,
        seed=dpi,
    )
    assert photo.find_page(page.image) is None
    short = render_page(generate.templates.other(generate.random_cast(rng)), dpi=dpi, degradation=degradation)
    assert photo.find_page(short.image) is None


@pytest.mark.parametrize("seed", [0, 1, 2, 5])
def test_an_id_card_photo_is_left_to_the_card_path(seed: int) -> None:
    component = generate.render_component("citizen_id_card", random.Random(seed), photo=True)
    for side in component.pages:
        assert photo.find_page(side.image) is None
        assert find_card(side.image) is not None


@pytest.mark.integration
@pytest.mark.parametrize(("seed", "hard_shadow"), [(101, False), (104, False), (107, False), (100, True)])
def test_a_page_photo_is_read_whole_with_cer_under_3_percent(seed: int, hard_shadow: bool, tmp_path: Path) -> None:
    shot = photos.make_page_photo(seed, hard_shadow=hard_shadow)
    path = tmp_path / "photo.jpg"
    shot.image.save(path, "JPEG", quality=92, dpi=(72, 72))  # phones often write 72 dpi
    result = digitize_files([path], DigitizeOptions())
    (page,) = result.pages
    assert cer(shot.text, page.text) <= 0.03, shot.params
    read = page.text.splitlines()
    for line in shot.lines[-2:]:  # the foot of the page is there (read with at most an error or two)
        assert min(cer(line, got) for got in read) <= 0.15, (line, shot.params)
    # The stored page is the corrected sheet, upright A4, and the words lie on it.
    assert abs(page.height_px / page.width_px - 2**0.5) < 0.03
    assert 190 <= page.dpi <= 260 and "LOW_RESOLUTION" not in page.warnings
    assert all(w.box[0] >= 0 and w.box[0] + w.box[2] <= page.width_px for w in page.words)
    assert all(w.box[1] >= 0 and w.box[1] + w.box[3] <= page.height_px for w in page.words)
    with pikepdf.open(io.BytesIO(result.pdf)) as pdf:
        image = pdf.pages[0].Resources.XObject["/Im0"]
        assert abs(image.Width - page.width_px) <= 0.02 * page.width_px
        assert abs(image.Height - page.height_px) <= 0.02 * page.height_px
        drawn = Image.open(io.BytesIO(image.read_raw_bytes()))
        corner = np.asarray(drawn.convert("L").crop((0, 0, 60, 60)), dtype=np.float32)
        assert corner.mean() > 230  # paper, not the desk
