"""Searchable PDF: PDF/A-2b structure, the scan kept byte for byte, a text layer where the ink is."""

from __future__ import annotations

import subprocess
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pikepdf
import pytest
from PIL import Image

from bench.corpus import templates
from bench.corpus.render import Degradation, render_page, save_scan
from digitizer import DigitizedComponent, DigitizeOptions, digitize_files
from digitizer.pdfa import pdfa_findings, srgb_profile

pytestmark = pytest.mark.integration  # qpdf, pdftotext, pdftoppm and the real Tesseract


@pytest.fixture(scope="module")
def skewed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DigitizedComponent]:
    folder = tmp_path_factory.mktemp("pdf")
    page = render_page(templates.power_of_attorney(), dpi=200, degradation=Degradation(skew_deg=2.5, noise=3.0), seed=5)
    save_scan(page, folder / "scan.jpg", quality=85, exif_orientation=8)
    result = digitize_files([folder / "scan.jpg"], DigitizeOptions())
    (folder / "out.pdf").write_bytes(result.pdf)
    return folder, result


def test_output_is_pdfa_2b_by_pikepdf_pdfa_and_qpdf(skewed: tuple[Path, DigitizedComponent]) -> None:
    folder, result = skewed
    assert pdfa_findings(result.pdf) == []
    subprocess.run(["qpdf", "--check", str(folder / "out.pdf")], check=True, capture_output=True)
    with pikepdf.open(folder / "out.pdf") as pdf:
        xmp = ElementTree.fromstring(bytes(pdf.Root.Metadata.read_bytes()))
        pdfaid = "{http://www.aiim.org/pdfa/ns/id/}"
        assert [e.text for e in xmp.iter(f"{pdfaid}part")] == ["2"]
        assert [e.text for e in xmp.iter(f"{pdfaid}conformance")] == ["B"]
        assert pdf.Root.OutputIntents[0].DestOutputProfile.read_bytes() == srgb_profile()


def test_validator_refuses_a_plain_pdf_and_a_broken_copy_of_ours(
    tmp_path: Path, skewed: tuple[Path, DigitizedComponent]
) -> None:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.save(tmp_path / "plain.pdf")
    problems = pdfa_findings((tmp_path / "plain.pdf").read_bytes())
    assert any("/Metadata" in p for p in problems) and any("OutputIntents" in p for p in problems)
    # Our own output with JavaScript added, or its font program removed, is no longer PDF/A.
    folder, _result = skewed
    with pikepdf.open(folder / "out.pdf") as ours:
        ours.Root.OpenAction = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))
        ours.save(tmp_path / "js.pdf")
    assert pdfa_findings((tmp_path / "js.pdf").read_bytes())
    with pikepdf.open(folder / "out.pdf") as ours:
        font = ours.pages[0].Resources.Font.F1
        descriptor = (font.DescendantFonts[0] if "/DescendantFonts" in font else font).FontDescriptor
        del descriptor["/FontFile2"]
        ours.save(tmp_path / "nofont.pdf")
    assert pdfa_findings((tmp_path / "nofont.pdf").read_bytes())


def test_scan_is_embedded_byte_for_byte_and_drawn_turned(skewed: tuple[Path, DigitizedComponent]) -> None:
    folder, result = skewed
    (page,) = result.pages
    assert page.rotation == 270 and page.skew_deg == pytest.approx(2.5, abs=0.3)
    with pikepdf.open(folder / "out.pdf") as pdf:
        image = pdf.pages[0].Resources.XObject.Im0
        assert image.read_raw_bytes() == (folder / "scan.jpg").read_bytes()
        assert image.Filter == pikepdf.Name.DCTDecode
    assert len(result.pdf) < 1.2 * (folder / "scan.jpg").stat().st_size + 60_000


def test_text_layer_words_sit_on_their_ink(skewed: tuple[Path, DigitizedComponent]) -> None:
    folder, _ = skewed
    subprocess.run(
        ["pdftoppm", "-r", "72", "-gray", "-png", "-singlefile", str(folder / "out.pdf"), str(folder / "page")],
        check=True,
    )
    ink = np.asarray(Image.open(folder / "page.png").convert("L")) < 128
    html = subprocess.run(
        ["pdftotext", "-bbox", str(folder / "out.pdf"), "-"], check=True, capture_output=True, text=True
    ).stdout
    words = [
        w
        for w in ElementTree.fromstring(html.replace("<!DOCTYPE", "<!--").replace('dtd">', "-->")).iter(
            "{http://www.w3.org/1999/xhtml}word"
        )
    ]
    assert len(words) > 50
    on_ink = 0
    for word in words:
        x0, y0, x1, y1 = (round(float(word.get(k))) for k in ("xMin", "yMin", "xMax", "yMax"))
        on_ink += ink[y0 : y1 + 1, x0 : x1 + 1].mean() > 0.05
    assert on_ink / len(words) > 0.9
    text = subprocess.run(
        ["pdftotext", str(folder / "out.pdf"), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert "GIẤY ỦY QUYỀN" in text and templates.MOTHER["id"] in text
