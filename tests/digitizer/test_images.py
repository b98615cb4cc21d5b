from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from bench.corpus import templates
from bench.corpus.render import render_page, save_scan
from digitizer.images import count_pages, estimate_dpi, load_pages
from digitizer.pipeline import DigitizeOptions, digitize_files
from sohoa.errors import SohoaError

MAX_PIXELS = 120_000_000


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG that claims ``width`` x ``height`` RGB pixels but carries almost no data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")
    )
    return path


def _code(path: Path, **kwargs) -> str:
    with pytest.raises(SohoaError) as info:
        list(load_pages(path, max_pixels=kwargs.get("max_pixels", MAX_PIXELS)))
    assert info.value.message_vi and info.value.message_en
    return info.value.code


@pytest.fixture(scope="module")
def small_scan() -> Image.Image:
    return render_page(templates.other(), dpi=100).image


def test_zero_byte_file_is_empty(tmp_path: Path) -> None:
    (tmp_path / "a.jpg").write_bytes(b"")
    assert _code(tmp_path / "a.jpg") == "IMAGE_EMPTY"


def test_uniform_image_is_empty(tmp_path: Path) -> None:
    Image.new("RGB", (600, 800), "white").save(tmp_path / "blank.png")
    assert _code(tmp_path / "blank.png") == "IMAGE_EMPTY"


def test_text_file_named_jpg_is_not_an_image(tmp_path: Path) -> None:
    (tmp_path / "a.jpg").write_text("Đây không phải là ảnh quét.\n", "utf-8")
    assert _code(tmp_path / "a.jpg") == "NOT_AN_IMAGE"


def test_unsupported_image_format_is_refused(tmp_path: Path, small_scan: Image.Image) -> None:
    small_scan.save(tmp_path / "a.gif")
    assert _code(tmp_path / "a.gif") == "NOT_AN_IMAGE"


def test_truncated_jpeg_is_corrupt(tmp_path: Path, small_scan: Image.Image) -> None:
    buf = io.BytesIO()
    small_scan.save(buf, "JPEG", quality=80)
    (tmp_path / "t.jpg").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    assert _code(tmp_path / "t.jpg") == "IMAGE_CORRUPT"


def test_garbage_after_png_signature_is_corrupt(tmp_path: Path) -> None:
    (tmp_path / "g.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 10)
    assert _code(tmp_path / "g.png") in {"IMAGE_CORRUPT", "NOT_AN_IMAGE"}


def test_missing_file(tmp_path: Path) -> None:
    assert _code(tmp_path / "nope.jpg") == "FILE_NOT_FOUND"


@pytest.mark.parametrize(("width", "height"), [(30000, 30000), (12000, 11000)])
def test_pixel_bomb_is_refused_from_header_before_decoding(tmp_path: Path, width: int, height: int) -> None:
    bomb = png_header_only(tmp_path / "bomb.png", width, height)
    # A header-only file: decoding it would fail as IMAGE_CORRUPT, so this code proves the
    # refusal came from the header, before any pixel was decoded.
    assert _code(bomb) == "IMAGE_TOO_LARGE"
    with pytest.raises(SohoaError, match="IMAGE_TOO_LARGE"):
        count_pages(bomb, MAX_PIXELS)
    with pytest.raises(SohoaError, match="IMAGE_TOO_LARGE"):
        digitize_files([bomb], DigitizeOptions())


def test_exif_orientation_is_applied_and_recorded(tmp_path: Path) -> None:
    page = render_page(templates.other(), dpi=100)
    save_scan(page, tmp_path / "rot.jpg", exif_orientation=6)
    with Image.open(tmp_path / "rot.jpg") as stored:
        assert stored.width > stored.height  # stored sideways
    (loaded,) = load_pages(tmp_path / "rot.jpg", max_pixels=MAX_PIXELS)
    assert loaded.image.size == page.image.size  # upright again
    assert loaded.rotation == 90
    assert loaded.dpi == 100
    # Ink lands where the upright render has it: compare a dark title region.
    assert loaded.image.convert("L").crop((0, 0, page.image.width, 200)).getextrema()[0] < 100


def test_missing_dpi_is_estimated_from_a4(tmp_path: Path, small_scan: Image.Image) -> None:
    a4_200 = small_scan.resize((1654, 2339))
    a4_200.save(tmp_path / "nodpi.png")
    (loaded,) = load_pages(tmp_path / "nodpi.png", max_pixels=MAX_PIXELS)
    assert loaded.dpi == pytest.approx(200, abs=1)
    assert "DPI_ESTIMATED" in loaded.warnings
    assert estimate_dpi((3508, 2480)) == pytest.approx(300, abs=1)


def test_multi_frame_tiff_gives_every_frame_in_order(tmp_path: Path, small_scan: Image.Image) -> None:
    frames = [small_scan, small_scan.convert("L"), small_scan.convert("1")]
    frames[0].save(tmp_path / "m.tif", save_all=True, append_images=frames[1:], dpi=(300, 300))
    assert count_pages(tmp_path / "m.tif", MAX_PIXELS) == 3
    loaded = list(load_pages(tmp_path / "m.tif", max_pixels=MAX_PIXELS))
    assert len(loaded) == 3
    assert [(p.image.mode, p.dpi) for p in loaded] == [("RGB", 300.0)] * 3


def test_rgba_png_is_composited_on_white(tmp_path: Path, small_scan: Image.Image) -> None:
    rgba = small_scan.convert("RGBA")
    rgba.putalpha(Image.new("L", rgba.size, 0).point(lambda _: 0))
    rgba.paste((0, 0, 0, 255), (10, 10, 60, 60))
    rgba.save(tmp_path / "a.png")
    (loaded,) = load_pages(tmp_path / "a.png", max_pixels=MAX_PIXELS)
    assert loaded.image.getpixel((200, 200)) == (255, 255, 255)
    assert loaded.image.getpixel((20, 20)) == (0, 0, 0)


def _pdf(path: Path, *, javascript: bool = False, encrypt: bool = False, open_dest: bool = False) -> Path:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    if javascript:
        pdf.Root.OpenAction = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))
    if open_dest:
        pdf.Root.OpenAction = pikepdf.Array([pdf.pages[0].obj, pikepdf.Name.Fit])
    kwargs = {"encryption": pikepdf.Encryption(owner="o", user="u")} if encrypt else {}
    pdf.save(path, **kwargs)
    return path


def test_encrypted_pdf_is_refused(tmp_path: Path) -> None:
    assert _code(_pdf(tmp_path / "e.pdf", encrypt=True)) == "PDF_ENCRYPTED"


def test_pdf_with_javascript_is_refused(tmp_path: Path) -> None:
    assert _code(_pdf(tmp_path / "js.pdf", javascript=True)) == "PDF_ACTIVE_CONTENT"


def test_pdf_page_count_and_open_destination_allowed(tmp_path: Path) -> None:
    assert count_pages(_pdf(tmp_path / "ok.pdf", open_dest=True), MAX_PIXELS) == 1


def test_too_many_pages_is_refused_before_ocr(tmp_path: Path, small_scan: Image.Image, fake_engine) -> None:
    small_scan.save(tmp_path / "m.tif", save_all=True, append_images=[small_scan] * 3)
    engine = fake_engine()
    with pytest.raises(SohoaError) as info:
        digitize_files([tmp_path / "m.tif"], DigitizeOptions(engine=engine, max_pages=3))
    assert info.value.code == "TOO_MANY_PAGES"
    assert engine.calls == 0
