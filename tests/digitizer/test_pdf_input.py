"""Image-only PDFs: the embedded scan is used at its own pixel size (not re-rasterised), whoever wrote the PDF;
pages that paint anything else are rasterised as before."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pikepdf
import pytest
from PIL import Image

from bench.corpus import templates
from bench.corpus.render import render_page
from digitizer import DigitizeOptions, digitize_files
from digitizer.images import load_pages

pytestmark = pytest.mark.integration  # tesseract, ocrmypdf and pdftoppm

MAX_PIXELS = 120_000_000
# An A4 scan whose resolution is not a whole number (1700 px across 8.27 in = 205.6 dpi): rasterising
# at a rounded resolution cannot give back this pixel size.
SIZE = (1700, 2404)
DPI = SIZE[0] / (595.0 / 72.0)


@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Image.Image]:
    folder = tmp_path_factory.mktemp("pdfin")
    page = render_page(templates.power_of_attorney(), dpi=200).image.resize(SIZE)
    path = folder / "scan.jpg"
    page.save(path, "JPEG", quality=85, dpi=(DPI, DPI))
    return folder, page


def _pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("L"), dtype=np.int16)


def _one_image_pdf(path: Path, stream_kwargs: dict, data: bytes, size: tuple[int, int], content: bytes) -> Path:
    pdf = pikepdf.new()
    image = pdf.make_stream(data, Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image, **stream_kwargs)
    image.Width, image.Height = size
    page = pikepdf.Dictionary(
        Type=pikepdf.Name.Page,
        MediaBox=[0, 0, 595, 841.6],
        Resources=pikepdf.Dictionary(
            XObject=pikepdf.Dictionary(Im0=image),
            Font=pikepdf.Dictionary(
                F1=pikepdf.Dictionary(
                    Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
                )
            ),
        ),
        Contents=pdf.make_stream(content),
    )
    pdf.pages.append(pikepdf.Page(page))
    pdf.save(path)
    return path


def test_pillow_image_only_pdf_gives_the_embedded_scan(scan: tuple[Path, Image.Image]) -> None:
    folder, page = scan
    page.save(folder / "pillow.pdf", resolution=DPI)
    (source,) = load_pages(folder / "pillow.pdf", max_pixels=MAX_PIXELS)
    assert source.image.size == SIZE and source.dpi == pytest.approx(DPI, abs=0.05)
    with pikepdf.open(folder / "pillow.pdf") as pdf:
        embedded = pikepdf.PdfImage(next(iter(pdf.pages[0].get_images().values()))).as_pil_image()
    assert np.array_equal(_pixels(source.image), _pixels(embedded))  # the embedded pixels, not a rendering
    assert source.jpeg is not None and source.jpeg_size == SIZE  # kept as JPEG bytes for the output PDF


def test_img2pdf_jpeg_goes_through_to_the_output_byte_for_byte(scan: tuple[Path, Image.Image]) -> None:
    img2pdf = pytest.importorskip("img2pdf")
    folder, _page = scan
    jpeg = (folder / "scan.jpg").read_bytes()
    (folder / "img2pdf.pdf").write_bytes(img2pdf.convert(jpeg))
    (source,) = load_pages(folder / "img2pdf.pdf", max_pixels=MAX_PIXELS)
    assert source.image.size == SIZE and source.jpeg == jpeg


def test_tesseract_pdf_of_a_g4_scan_gives_its_bilevel_pixels(scan: tuple[Path, Image.Image]) -> None:
    folder, page = scan
    bilevel = page.convert("L").point(lambda v: 255 if v > 160 else 0).convert("1")
    bilevel.save(folder / "g4.tif", compression="group4", dpi=(DPI, DPI))
    subprocess.run(
        ["tesseract", str(folder / "g4.tif"), str(folder / "tess"), "-l", "vie", "pdf"], check=True, capture_output=True
    )
    (source,) = load_pages(folder / "tess.pdf", max_pixels=MAX_PIXELS)
    assert source.image.size == SIZE
    assert np.array_equal(_pixels(source.image), _pixels(bilevel))


def test_ocrmypdf_output_with_its_text_layer_gives_the_embedded_jpeg(scan: tuple[Path, Image.Image]) -> None:
    pytest.importorskip("ocrmypdf")
    folder, _page = scan
    out = folder / "ocrmypdf.pdf"
    cmd = [sys.executable, "-m", "ocrmypdf", "-q", "-l", "vie", "--output-type", "pdf", "--optimize", "0"]
    subprocess.run([*cmd, str(folder / "scan.jpg"), str(out)], check=True, capture_output=True, timeout=300)
    with pikepdf.open(out) as pdf:  # the text layer is a form XObject of invisible text
        assert any(x.get("/Subtype") == pikepdf.Name.Form for x in pdf.pages[0].Resources.XObject.values())
    (source,) = load_pages(out, max_pixels=MAX_PIXELS)
    assert source.image.size == SIZE and source.jpeg == (folder / "scan.jpg").read_bytes()


def test_turned_page_is_given_upright_with_its_turn(scan: tuple[Path, Image.Image]) -> None:
    folder, page = scan
    stored = page.transpose(Image.Transpose.ROTATE_90)  # stored turned; /Rotate 90 shows it upright
    buf = io.BytesIO()
    stored.save(buf, "JPEG", quality=90)
    path = _one_image_pdf(
        folder / "rotated.pdf",
        {"ColorSpace": pikepdf.Name.DeviceRGB, "BitsPerComponent": 8, "Filter": pikepdf.Name.DCTDecode},
        buf.getvalue(),
        stored.size,
        b"q 841.6 0 0 595 0 0 cm /Im0 Do Q",
    )
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        pdf.pages[0].MediaBox = [0, 0, 841.6, 595]
        pdf.pages[0].Rotate = 90
        pdf.save(path)
    (source,) = load_pages(path, max_pixels=MAX_PIXELS)
    assert source.rotation == 90 and source.image.size == SIZE and source.jpeg == buf.getvalue()
    assert np.abs(_pixels(source.image) - _pixels(page)).mean() < 3  # upright: the same page, JPEG noise aside


@pytest.mark.parametrize(
    "content",
    [
        b"q 595 0 0 841.6 0 0 cm /Im0 Do Q BT /F1 12 Tf 72 72 Td (stamped later) Tj ET",  # visible text on top
        b"q 595 0 0 841.6 0 0 cm /Im0 Do Q 0 0 1 RG 72 72 m 300 72 l S",  # a drawn line
        b"q 297.5 0 0 420.8 0 0 cm /Im0 Do Q",  # the image covers a quarter of the page
    ],
    ids=["visible-text", "vector-line", "partial-image"],
)
def test_pages_painting_more_than_one_scan_are_rasterised(scan: tuple[Path, Image.Image], content: bytes) -> None:
    folder, page = scan
    buf = io.BytesIO()
    page.save(buf, "JPEG", quality=90)
    kwargs = {"ColorSpace": pikepdf.Name.DeviceRGB, "BitsPerComponent": 8, "Filter": pikepdf.Name.DCTDecode}
    path = _one_image_pdf(folder / "mixed.pdf", kwargs, buf.getvalue(), SIZE, content)
    (source,) = load_pages(path, max_pixels=MAX_PIXELS)
    assert source.jpeg is None  # rendered by pdftoppm, at a whole-number resolution
    assert source.dpi == round(source.dpi) and source.image.size != SIZE


def test_digitising_an_image_only_pdf_reads_the_native_scan(scan: tuple[Path, Image.Image]) -> None:
    img2pdf = pytest.importorskip("img2pdf")
    folder, _page = scan
    jpeg = (folder / "scan.jpg").read_bytes()
    (folder / "native.pdf").write_bytes(img2pdf.convert(jpeg))
    result = digitize_files([folder / "native.pdf"], DigitizeOptions())
    (page,) = result.pages
    assert page.dpi == pytest.approx(DPI, abs=0.5)  # the JFIF header holds a whole number of dpi
    assert result.doc_type == "power_of_attorney"
    with pikepdf.open(io.BytesIO(result.pdf)) as pdf:
        image = pdf.pages[0].Resources.XObject.Im0
        assert image.read_raw_bytes() == jpeg and (image.Width, image.Height) == SIZE
