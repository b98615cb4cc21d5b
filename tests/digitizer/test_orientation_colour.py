"""Counter pages through real Tesseract: top-heavy and ruled upright pages stay upright, turned pages are
turned back, and red seals and blue signatures no longer hide the lines under them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench.corpus import counter_pages
from bench.corpus.render import Degradation, degrade
from digitizer import inkcolour, orientation
from digitizer.pipeline import DigitizeOptions, digitize_files
from digitizer.preprocess import (
    UPSIDE_DOWN_RATIO,
    _long_runs,
    detect_geometry,
    ink_mask,
    rotate_quarter,
    upside_down_ratio,
    without_rules,
)
from digitizer.textnorm import fold_whitespace, nfc
from tests.digitizer.conftest import needs_tesseract


def _scan(page: counter_pages.CounterPage, seed: int, skew: float) -> Image.Image:
    return degrade(page.image, Degradation(skew_deg=skew, noise=4, blur=0.5, jpeg_quality=85), seed=seed)


def _fuzzy_find(needle: str, haystack: str) -> int:
    """Fewest edits turning ``needle`` into some substring of ``haystack`` (semi-global alignment)."""
    previous = [0] * (len(haystack) + 1)
    for i, a in enumerate(needle, 1):
        current = [i]
        for j, b in enumerate(haystack, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b)))
        previous = current
    return min(previous)


def _line_cer(probe: list[str], text: str) -> float:
    """CER of the probe lines, each against the stretch of the OCR text closest to it, weighted by length."""
    flat = fold_whitespace(nfc(text))
    lines = [fold_whitespace(nfc(p)) for p in probe]
    return sum(_fuzzy_find(line, flat) for line in lines) / sum(len(line) for line in lines)


def _digitize(image: Image.Image, tmp_path: Path, name: str) -> tuple[str, int]:
    path = tmp_path / f"{name}.png"
    image.save(path, dpi=(200, 200))
    result = digitize_files([path], DigitizeOptions())
    return result.pages[0].text, result.pages[0].rotation


@needs_tesseract
@pytest.mark.parametrize(
    ("kind", "seed", "skew"),
    [("notice", 11, 0.0), ("notice", 12, -1.4), ("table_form", 13, 0.8), ("table_form", 14, -1.9), ("prose", 15, 1.2)],
)
def test_upright_pages_stay_upright_and_read(kind: str, seed: int, skew: float, tmp_path: Path) -> None:
    page = getattr(counter_pages, kind)(seed)
    scan = _scan(page, seed, skew)
    assert detect_geometry(scan).rotation == 0
    text, rotation = _digitize(scan, tmp_path, kind)
    assert rotation == 0
    assert _line_cer(page.probe, text) <= 0.03


@needs_tesseract
@pytest.mark.parametrize("turned", [90, 180, 270])
@pytest.mark.parametrize(("kind", "seed"), [("notice", 21), ("table_form", 22), ("prose", 23)])
def test_turned_pages_are_turned_back_and_read(kind: str, seed: int, turned: int, tmp_path: Path) -> None:
    page = getattr(counter_pages, kind)(seed)
    scan = rotate_quarter(_scan(page, seed, 1.1), turned)
    text, rotation = _digitize(scan, tmp_path, f"{kind}-{turned}")
    assert rotation == (360 - turned) % 360
    assert _line_cer(page.probe, text) <= 0.03


def test_table_borders_are_left_out_of_the_up_down_test() -> None:
    mask = ink_mask(counter_pages.table_form(31).image)
    text = without_rules(mask)
    removed = mask & ~text
    # The borders are gone (whole rows of ink taken away), the glyphs are not.
    assert removed.sum() > 0.1 * mask.sum()
    assert removed.sum(axis=1).max() > 0.6 * mask.shape[1]
    assert text.sum() > 0.5 * mask.sum()
    assert upside_down_ratio(text) < 1.0 / UPSIDE_DOWN_RATIO
    assert upside_down_ratio(np.rot90(text, 2)) > 1.0


@pytest.mark.parametrize(
    ("heuristic", "clear", "osd", "expected"),
    [
        (180, True, orientation.Osd(0, 9.0), 0),  # OSD says upright: a disagreement never turns the page
        (180, True, orientation.Osd(180, 1.0), 0),  # OSD cannot tell: nor does the page turn
        (180, True, orientation.Osd(180, 6.0), 180),  # agreement
        (0, False, orientation.Osd(180, 8.0), 0),  # weak heuristics and OSD short of its own threshold
        (0, False, orientation.Osd(180, 20.0), 180),  # OSD sure on its own
        (90, True, orientation.Osd(270, 5.0), 270),  # both see it sideways; OSD knows which way
        (180, False, None, 0),  # no OSD: weak heuristics alone never turn a page
        (180, True, None, 180),
    ],
)
def test_a_page_turns_only_on_clear_evidence(
    heuristic: int, clear: bool, osd: orientation.Osd | None, expected: int
) -> None:
    assert orientation.decide(heuristic, clear, osd) == expected


def test_clean_pages_skip_colour_separation() -> None:
    gray_scan = counter_pages.prose(41).image
    assert inkcolour.coloured_share(gray_scan) == 0.0
    assert np.array_equal(np.asarray(inkcolour.ocr_gray(gray_scan)), np.asarray(gray_scan.convert("L")))


def test_seal_and_signature_turn_white_and_print_under_them_stays_dark() -> None:
    page = counter_pages.signed_page(42)
    gray = np.asarray(inkcolour.ocr_gray(page.image))
    rgb = np.asarray(page.image).astype(np.int16)
    chroma = rgb.max(axis=-1) - rgb.min(axis=-1)
    ink = chroma >= 120  # bare seal or pen ink
    under = (rgb.max(axis=-1) < 60) & (chroma < 30)  # print, under ink or not
    assert ink.sum() > 1000
    assert np.median(gray[ink]) >= 230
    assert np.median(gray[under]) <= 60


@needs_tesseract
@pytest.mark.parametrize(
    ("seed", "blend", "seal_over"),
    [(51, "multiply", "block"), (52, "multiply", "body"), (53, "over", "block"), (54, "over", "body")],
)
def test_lines_under_seal_and_signature_are_read(seed: int, blend: str, seal_over: str, tmp_path: Path) -> None:
    page = counter_pages.signed_page(seed, blend=blend, opacity=0.8, seal_over=seal_over)
    text, _ = _digitize(_scan(page, seed, 0.6), tmp_path, f"signed-{seed}")
    assert _line_cer(page.probe, text) <= 0.05


def test_long_runs_match_a_plain_scan_of_each_row() -> None:
    rng = np.random.default_rng(7)
    mask = rng.random((40, 300)) < 0.9
    length = 12
    expected = np.zeros_like(mask)
    for y, row in enumerate(mask):
        x = 0
        while x < row.size:
            end = x
            while end < row.size and row[end]:
                end += 1
            if end - x >= length:
                expected[y, x:end] = True
            x = max(end, x + 1)
    assert np.array_equal(_long_runs(mask, length), expected)


@needs_tesseract
def test_fooled_heuristics_cannot_turn_an_upright_page_over(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever fools the ink profile (the held-out ruled form did), OSD must confirm a half turn."""
    import digitizer.preprocess as preprocess

    scan = _scan(counter_pages.table_form(61), 61, 1.0)
    monkeypatch.setattr(preprocess, "upside_down_ratio", lambda mask: 3.0)
    assert preprocess.detect_geometry(scan).rotation == 0
    # The same fooled heuristics on a page that really is upside down: OSD agrees, the page is turned.
    assert preprocess.detect_geometry(rotate_quarter(scan, 180)).rotation == 180


def test_clean_upright_pages_do_not_pay_for_osd(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Image.Image] = []
    monkeypatch.setattr(orientation, "detect", lambda image: calls.append(image))
    for seed in (71, 72):
        assert detect_geometry(_scan(counter_pages.prose(seed), seed, -1.3)).rotation == 0
    assert calls == []
    blank = Image.new("RGB", (1654, 2339), "white")
    assert detect_geometry(blank).rotation == 0
    assert calls == []


@needs_tesseract
def test_gray_scan_of_a_sealed_page_is_not_turned_over() -> None:
    """In a grayscale scan the seal cannot be told from print: its ring fools the ink profile into a half
    turn (the old behaviour); OSD reads the glyphs upright and vetoes it."""
    page = counter_pages.signed_page(52, blend="multiply", opacity=0.8, seal_over="body")
    gray = _scan(page, 52, 0.6).convert("L")
    mask = ink_mask(gray)
    assert upside_down_ratio(without_rules(mask)) > UPSIDE_DOWN_RATIO  # the heuristics alone would turn it
    assert detect_geometry(gray).rotation == 0
