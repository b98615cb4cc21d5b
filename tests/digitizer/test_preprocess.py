from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from bench.corpus import templates
from bench.corpus.render import CARD_MM, Degradation, render_page
from digitizer.preprocess import (
    canvas_size,
    deskew,
    detect_geometry,
    estimate_skew,
    flatten_light,
    ink_mask,
    rotate_quarter,
    straighten_gray,
)


@pytest.fixture(scope="module")
def upright_page() -> Image.Image:
    return render_page(templates.birth_certificate(), dpi=200).image


@pytest.mark.parametrize("angle", [-6.0, -1.7, 0.0, 2.3, 8.5])
def test_deskew_recovers_known_angle_within_0_3_degrees(angle: float) -> None:
    page = render_page(
        templates.application_form(), dpi=200, degradation=Degradation(skew_deg=angle, noise=6, blur=0.5), seed=3
    )
    assert estimate_skew(ink_mask(page.image)) == pytest.approx(angle, abs=0.3)


def test_deskewed_image_measures_straight_and_keeps_scale(upright_page: Image.Image) -> None:
    skewed = upright_page.rotate(2.0, resample=Image.Resampling.BICUBIC, fillcolor="white")
    fixed = deskew(skewed, estimate_skew(ink_mask(skewed)))
    assert abs(estimate_skew(ink_mask(fixed))) <= 0.3
    # Expanded canvas, 100% scale: at least as large as the scan, never shrunk.
    assert fixed.width >= skewed.width and fixed.height >= skewed.height
    assert fixed.getpixel((0, 0)) == (255, 255, 255)


@pytest.mark.parametrize("turned", [0, 90, 180, 270])
def test_quarter_turns_are_detected(upright_page: Image.Image, turned: int) -> None:
    scan = rotate_quarter(upright_page.rotate(1.2, fillcolor="white"), turned)
    geometry = detect_geometry(scan)
    assert geometry.rotation == (360 - turned) % 360
    assert geometry.skew_deg == pytest.approx(1.2, abs=0.3)


def test_card_sized_scan_orientation() -> None:
    card = render_page(
        templates.citizen_id_front(), font="sans", dpi=300, size_mm=CARD_MM, margin_mm=4, font_pt=6.5
    ).image
    assert detect_geometry(rotate_quarter(card, 180)).rotation == 180


def test_blank_mask_has_no_skew() -> None:
    assert estimate_skew(ink_mask(Image.new("RGB", (800, 1000), "white"))) == 0.0


@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_straighten_gray_deskews_and_scales_in_one_pass(upright_page: Image.Image, scale: float) -> None:
    skewed = upright_page.rotate(2.0, resample=Image.Resampling.BICUBIC, fillcolor="white")
    geometry = detect_geometry(skewed)
    out = straighten_gray(skewed.convert("L"), geometry, scale)
    assert out.size == canvas_size(skewed.size, geometry.skew_deg, scale)
    assert abs(estimate_skew(ink_mask(out))) <= 0.3
    # Same result as PIL's own rotation, up to resampling: compare coarse ink profiles.
    reference = deskew(skewed.convert("RGB"), geometry.skew_deg).convert("L").resize(out.size)
    rows = np.asarray(out, np.float32).mean(axis=1)
    ref_rows = np.asarray(reference, np.float32).mean(axis=1)
    assert np.corrcoef(rows, ref_rows)[0, 1] > 0.9


def test_flatten_light_evens_uneven_paper_and_leaves_even_paper_alone(upright_page: Image.Image) -> None:
    gray = upright_page.convert("L")
    assert flatten_light(gray) is gray
    dark = render_page(templates.birth_certificate(), dpi=200, degradation=Degradation(uneven_light=0.4)).image
    flat = flatten_light(dark.convert("L"))
    paper = np.asarray(flat, np.float32)[np.asarray(flat) > 128]
    before = np.asarray(dark.convert("L"), np.float32)[np.asarray(dark.convert("L")) > 100]
    assert paper.std() < before.std() / 2
    assert np.asarray(flat).min() < 80  # text keeps its contrast
