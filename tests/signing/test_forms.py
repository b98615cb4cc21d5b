"""Results and copies in proper form: every form rendered by poppler, every QR code read by zbar.

Renders are compared with the images under ``tests/signing/reference/`` (grayscale, 50 dpi, mean
absolute difference); times and dates are fixed so the renders do not change. Regenerate them
with ``SOHOA_UPDATE_REFERENCE=1`` after a deliberate change of the layout, and look at them.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pikepdf
import pytest
from PIL import Image, ImageDraw, ImageFont
from pyzbar.pyzbar import ZBarSymbol, decode

from dossiers.result_render import (
    CONTENT_WIDTH,
    LEFT_COLUMN,
    MARGIN_LEFT,
    ResultForm,
    date_line,
    render_form,
    render_result_pdf,
)
from signing.dev import DevPki
from signing.keys import SigningKey
from signing.signers import (
    Appearance,
    QrPayload,
    copy_stamp,
    find_font,
    mark_copy,
    mark_result,
    result_seal,
    sign_pdf,
)
from signing.signers.appearance import SEAL_SIZE_PT
from signing.validation import verify_pdf

from .conftest import assert_pdfsig_valid

REFERENCE = Path(__file__).parent / "reference"
A4 = (595.28, 841.89)
LETTER = (612.0, 792.0)
SIGNED_AT = datetime(2026, 12, 5, 2, 30, tzinfo=UTC)  # 09:30 in Vietnam
CODE = "H01.01-261205-0001-KQ1"
AGENCY = "Trung tâm Phục vụ hành chính công quận Ba Đình"
RESULT_QR = QrPayload(
    dossier_code="H01.01-261205-0001",
    procedure_code="1.001193",
    applicant_id="001090012345",
    document_name="Giấy xác nhận tình trạng hôn nhân",
    issuing_system="sohoa - Trung tâm Phục vụ hành chính công",
    issued_at=SIGNED_AT,
    valid_until="2027-06-05",
    scope="Sử dụng trên toàn quốc",
    verify_url=f"https://sohoa.example.vn/tra-cuu/ket-qua/{CODE}",
)
COPY_QR = replace(
    RESULT_QR,
    document_name="Giấy khai sinh",
    valid_until=None,
    scope=None,
    verify_url="https://sohoa.example.vn/kiem-tra",
)
FORM = ResultForm(
    parent_agency="UBND quận Ba Đình",
    agency="Trung tâm Phục vụ hành chính công",
    number="125",
    symbol="XN-TTPVHCC",
    place="Ba Đình",
    issued_on=date(2026, 12, 5),
    title="Giấy xác nhận tình trạng hôn nhân",
    body=(
        "Mã hồ sơ: H01.01-261205-0001",
        "Trung tâm Phục vụ hành chính công quận Ba Đình xác nhận ông Nguyễn Văn An, sinh ngày 01 tháng 01 năm "
        "1990, số định danh cá nhân 001090012345, nơi cư trú: phường Điện Biên, quận Ba Đình, thành phố Hà Nội, "
        "trong thời gian cư trú tại địa phương chưa đăng ký kết hôn với ai.",
        "Giấy này có giá trị sử dụng trong thời hạn 6 tháng kể từ ngày cấp.",
    ),
    signer_title=("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC"),
    signer_name="Trần Thị Bình",
    recipients=("Ông Nguyễn Văn An;", "Lưu: VT."),
)
CAPTION = ("Mã kết quả:", CODE)


def _pages(pdf: bytes, tmp: Path, dpi: int, name: str = "doc") -> list[Image.Image]:
    source = tmp / f"{name}.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", str(source), str(tmp / f"{name}-{dpi}")], check=True)
    found = sorted(tmp.glob(f"{name}-{dpi}-*.pgm"))
    return [Image.open(path).convert("L") for path in found]


def _qr_texts(image: Image.Image) -> list[str]:
    return [d.data.decode("utf-8") for d in decode(image, symbols=[ZBarSymbol.QRCODE])]


def _sizes(pdf: bytes) -> list[tuple[float, float]]:
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        return [
            (float(p.mediabox[2]) - float(p.mediabox[0]), float(p.mediabox[3]) - float(p.mediabox[1]))
            for p in doc.pages
        ]


def _assert_a4(pdf: bytes) -> None:
    for width, height in _sizes(pdf):
        assert abs(width - A4[0]) < 0.5 and abs(height - A4[1]) < 0.5, (width, height)


def _widget(pdf: bytes) -> tuple[int, tuple[float, float, float, float]]:
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        for index, page in enumerate(doc.pages):
            for annot in page.get("/Annots", []):
                if annot.get("/FT") == "/Sig":
                    x1, y1, x2, y2 = (float(v) for v in annot.Rect)
                    return index, (x1, y1, x2, y2)
    raise AssertionError("no signature widget")


def _compare_reference(name: str, pdf: bytes, tmp: Path) -> None:
    """Every page at 50 dpi against ``reference/<name>-<n>.png``: mean absolute gray difference under 2."""
    for n, image in enumerate(_pages(pdf, tmp, 50, name), start=1):
        path = REFERENCE / f"{name}-{n}.png"
        if os.environ.get("SOHOA_UPDATE_REFERENCE") == "1":
            REFERENCE.mkdir(exist_ok=True)
            image.save(path, optimize=True)
        assert path.is_file(), f"no reference image {path.name} (generate with SOHOA_UPDATE_REFERENCE=1)"
        with Image.open(path) as ref:
            expected = np.asarray(ref.convert("L"), dtype=np.int16)
        got = np.asarray(image, dtype=np.int16)
        assert got.shape == expected.shape, (name, n, got.shape, expected.shape)
        assert float(np.abs(got - expected).mean()) < 2.0, f"{name} page {n} differs from its reference"


def _words(pdf: bytes, tmp: Path, page: int = 1) -> list[tuple[str, float, float, float, float]]:
    """pdftotext -bbox words of a page: (word, xMin, yMin, xMax, yMax), y from the top."""
    source = tmp / "words.pdf"
    source.write_bytes(pdf)
    html = subprocess.run(
        ["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(source), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    pattern = r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
    return [(w, float(a), float(b), float(c), float(d)) for a, b, c, d, w in re.findall(pattern, html)]


def _word(words: list[tuple[str, float, float, float, float]], text: str) -> tuple[str, float, float, float, float]:
    found = [w for w in words if w[0] == text]
    assert found, f"{text!r} not on the page: {[w[0] for w in words]}"
    return found[0]


@pytest.fixture(scope="module")
def seal_app(pki: DevPki) -> Appearance:
    return result_seal(AGENCY, pki.seal_png, SIGNED_AT)


def _sign_result(pdf: bytes, key: SigningKey, seal: Appearance) -> tuple[bytes, Appearance]:
    marked, placed = mark_result(pdf, RESULT_QR, seal, caption=CAPTION)
    return sign_pdf(marked, key, level="B-B", appearance=placed), placed


def test_date_line_follows_the_decree() -> None:
    assert date_line("Ba Đình", date(2026, 12, 5)) == "Ba Đình, ngày 05 tháng 12 năm 2026"
    assert date_line("Hà Nội", date(2026, 2, 15)) == "Hà Nội, ngày 15 tháng 02 năm 2026"
    assert date_line("Hà Nội", date(2026, 3, 1)) == "Hà Nội, ngày 01 tháng 3 năm 2026"


def test_template_result_is_an_nd30_form(
    pki: DevPki, agency_key: SigningKey, seal_app: Appearance, pdfsig: Callable[[bytes], str], tmp_path: Path
) -> None:
    signed, placed = _sign_result(render_form(FORM), agency_key, seal_app)
    assert verify_pdf(signed, [pki.root_cert]).valid
    assert_pdfsig_valid(pdfsig(signed), 1)
    _assert_a4(signed)
    assert len(_sizes(signed)) == 1
    [page] = _pages(signed, tmp_path, 300)
    assert _qr_texts(page) == [RESULT_QR.text()]

    words = _words(signed, tmp_path)
    column = MARGIN_LEFT + LEFT_COLUMN  # left edge of the right column
    parent, agency, number = _word(words, "UBND"), _word(words, "TRUNG"), _word(words, "Số:")
    quoc_hieu, tieu_ngu, day = _word(words, "CỘNG"), _word(words, "Độc"), _word(words, "ngày")
    for word in (parent, agency, number):
        assert word[3] <= column  # the agency column is on the left
    for word in (quoc_hieu, tieu_ngu, day):
        assert word[1] >= column - 1  # quốc hiệu, tiêu ngữ and the date on the right
    assert parent[2] < agency[2] < number[2] and quoc_hieu[2] < tieu_ngu[2] < day[2]
    assert abs(parent[2] - quoc_hieu[2]) < 2  # both columns start on the same line
    assert _word(words, "125/XN-TTPVHCC")[3] <= column
    title = _word(words, "GIẤY")
    assert title[2] > max(number[4], day[4])  # the title under the header, centred
    title_line = [w for w in words if abs(w[2] - title[2]) < 1]
    centre = (title_line[0][1] + title_line[-1][3]) / 2
    assert abs(centre - (MARGIN_LEFT + CONTENT_WIDTH / 2)) < 3
    assert any(w[0] == CODE for w in words)  # the result code, under the QR code
    assert all(w[3] <= A4[0] - 15 * 72 / 25.4 + 0.5 and w[1] >= 20 for w in words)  # right margin 15 mm

    # The signer's block: title, the signature (seal) in the space under it, the name under that.
    _, (x1, y1, x2, y2) = _widget(signed)
    signer_title, signer_name = _word(words, "PHÓ"), _word(words, "Bình")
    top_from_top, bottom_from_top = A4[1] - y2, A4[1] - y1
    assert signer_title[4] <= top_from_top + 1 and bottom_from_top <= signer_name[2] + 1
    assert x1 >= column - 1 and x2 <= A4[0] - 15 * 72 / 25.4 + 1
    recipients = _word(words, "nhận:")
    assert recipients[3] <= column and abs(recipients[2] - signer_title[2]) < 25  # "Nơi nhận:" bottom-left
    assert placed.height == pytest.approx(SEAL_SIZE_PT)
    # The seal is drawn at the block's left; the signing text starts right of it, never over it.
    with pikepdf.open(io.BytesIO(signed)) as doc:
        [annot] = [a for a in doc.pages[0].Annots if a.get("/FT") == "/Sig"]
        stream = annot.AP.N
        images = [x for x in stream.Resources.get("/XObject", {}).values() if x.get("/Subtype") == "/Image"]
        assert images and "/SMask" in images[0]
    [signed_by] = [w for w in words if w[0].startswith("Ký bởi")]  # poppler reads the widget's text
    assert x1 + SEAL_SIZE_PT - 1 <= signed_by[1] and signed_by[3] <= x2
    _compare_reference("template-result", signed, tmp_path)


def test_uploaded_a4_result_with_room_keeps_its_page(
    pki: DevPki, agency_key: SigningKey, seal_app: Appearance, tmp_path: Path
) -> None:
    source = render_result_pdf(["KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH", "Mã hồ sơ: H01.01-261205-0001", "Nội dung."])
    signed, _ = _sign_result(source, agency_key, seal_app)
    assert verify_pdf(signed, [pki.root_cert]).valid
    assert _sizes(signed) == _sizes(source)
    index, (x1, y1, x2, y2) = _widget(signed)
    assert index == 0 and x1 > A4[0] / 3 and y2 < A4[1] / 2  # bottom-right of the only page
    [before] = _pages(source, tmp_path, 72, "before")
    ink = np.asarray(before) < 200
    assert not ink[round(A4[1] - y2) : round(A4[1] - y1), round(x1) : round(x2)].any()  # on blank paper
    [page] = _pages(signed, tmp_path, 300)
    assert _qr_texts(page) == [RESULT_QR.text()]
    _compare_reference("upload-room", signed, tmp_path)


def test_full_page_upload_gets_an_added_last_page(
    pki: DevPki, agency_key: SigningKey, seal_app: Appearance, tmp_path: Path
) -> None:
    doc = pikepdf.new()
    lines = b"\n".join(b"0 %d 595.28 7 re f" % y for y in range(5, 840, 12))
    doc.add_blank_page(page_size=A4)
    doc.pages[0].Contents = doc.make_stream(lines)
    out = io.BytesIO()
    doc.save(out)
    source = out.getvalue()
    signed, _ = _sign_result(source, agency_key, seal_app)
    assert verify_pdf(signed, [pki.root_cert]).valid
    sizes = _sizes(signed)
    assert len(sizes) == 2 and sizes[0] == _sizes(source)[0]
    _assert_a4(signed)
    assert _widget(signed)[0] == 1
    pages = _pages(signed, tmp_path, 300)
    assert _qr_texts(pages[1]) == [RESULT_QR.text()]
    _compare_reference("upload-full", signed, tmp_path)


def test_letter_size_upload_keeps_its_size(
    pki: DevPki, agency_key: SigningKey, seal_app: Appearance, tmp_path: Path
) -> None:
    doc = pikepdf.new()
    doc.add_blank_page(page_size=LETTER)
    font = pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica)
    doc.pages[0].Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    doc.pages[0].Contents = doc.make_stream(b"BT /F1 16 Tf 200 600 Td (RESULT ON LETTER PAPER) Tj ET")
    out = io.BytesIO()
    doc.save(out)
    source = out.getvalue()
    signed, _ = _sign_result(source, agency_key, seal_app)
    assert verify_pdf(signed, [pki.root_cert]).valid
    assert _sizes(signed) == [LETTER]
    [page] = _pages(signed, tmp_path, 300)
    assert _qr_texts(page) == [RESULT_QR.text()]
    _compare_reference("upload-letter", signed, tmp_path)


def _scan_pdf(tmp: Path) -> bytes:
    """A 200 dpi A4 scan (1654×2339 px) with a black frame at its edges, as a one-page PDF."""
    image = Image.new("L", (1654, 2339), 255)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 1653, 2338), outline=0, width=12)
    font = ImageFont.truetype(str(find_font(bold=True)), 60)
    draw.text((200, 40), "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", font=font, fill=0)
    draw.text((400, 300), "GIẤY KHAI SINH", font=font, fill=0)
    out = io.BytesIO()
    image.save(out, format="PDF", resolution=200)
    return out.getvalue()


def test_digitised_copy_stays_a4_with_the_stamp_and_qr_in_a_freed_band(
    pki: DevPki, operator_key: SigningKey, tmp_path: Path
) -> None:
    source = _scan_pdf(tmp_path)
    _assert_a4(source)
    stamp = copy_stamp("Nguyễn Thị Cán Bộ", SIGNED_AT, agency=AGENCY)
    marked, placed = mark_copy(source, stamp, COPY_QR)
    signed = sign_pdf(marked, operator_key, level="B-B", appearance=placed)
    assert verify_pdf(signed, [pki.root_cert]).valid
    _assert_a4(signed)
    [page] = _pages(signed, tmp_path, 300)
    assert _qr_texts(page) == [COPY_QR.text()]
    assert "Tra cứu: https://sohoa.example.vn/kiem-tra" in COPY_QR.text()
    # The scan's frame now starts below the band that holds the stamp and the QR code.
    _, (x1, y1, x2, y2) = _widget(signed)
    assert 0 <= x1 < x2 <= A4[0] and y2 <= A4[1]
    gray = np.asarray(page)
    column = round((x2 + 20) * 300 / 72)  # right of the stamp, where only the scan's frame is drawn
    assert column < gray.shape[1] - 60
    frame_top = A4[1] - int(np.nonzero(gray[:, column] < 100)[0][0]) * 72 / 300
    assert frame_top <= y1 + 1  # the scan, shrunk, starts under the band that holds the stamp
    assert frame_top > A4[1] * 0.8  # and still fills most of the page
    _compare_reference("copy-a4", signed, tmp_path)


def test_qr_codes_carry_a_utf8_eci_that_zbarimg_honours(tmp_path: Path) -> None:
    marked, _ = mark_result(render_form(FORM), RESULT_QR, result_seal(AGENCY, None, SIGNED_AT), caption=CAPTION)
    [page] = _pages(marked, tmp_path, 300)
    page.save(tmp_path / "page.png")
    decoded = subprocess.run(
        ["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(tmp_path / "page.png")],
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8")
    assert decoded.rstrip("\n") == RESULT_QR.text()
    assert "Tra cứu: " in decoded and "Số định danh: 001090012345" in decoded


def test_rotated_upload_gets_the_marks_on_an_added_page_and_keeps_its_page(
    pki: DevPki, agency_key: SigningKey, seal_app: Appearance, tmp_path: Path
) -> None:
    doc = pikepdf.new()
    doc.add_blank_page(page_size=A4)
    doc.pages[0].Rotate = 90
    out = io.BytesIO()
    doc.save(out)
    signed, _ = _sign_result(out.getvalue(), agency_key, seal_app)
    assert verify_pdf(signed, [pki.root_cert]).valid
    _assert_a4(signed)
    with pikepdf.open(io.BytesIO(signed)) as result:
        assert len(result.pages) == 2 and int(result.pages[0].Rotate) == 90
    assert _widget(signed)[0] == 1
    assert _qr_texts(_pages(signed, tmp_path, 300)[1]) == [RESULT_QR.text()]


def test_a_forged_or_broken_room_record_is_ignored(seal_app: Appearance) -> None:
    doc = pikepdf.new()
    doc.add_blank_page(page_size=A4)
    doc.pages[0].PieceInfo = pikepdf.Dictionary(
        Sohoa=pikepdf.Dictionary(Private=pikepdf.Dictionary(QrBox=[-50, 0, 9000, 10], SignatureBox=[1, 2]))
    )
    doc.add_blank_page(page_size=A4)
    doc.pages[1].PieceInfo = pikepdf.Array([1, 2])
    out = io.BytesIO()
    doc.save(out)
    marked, placed = mark_result(out.getvalue(), RESULT_QR, seal_app, caption=CAPTION)
    assert len(_sizes(marked)) == 2  # blank pages have room: no page added, the boxes were not used
    x1, _, _, y2 = placed.box_on((0, 0, *A4))
    assert placed.page == 1 and x1 > A4[0] / 3 and y2 < A4[1] / 2


def test_a_long_form_puts_the_signer_block_on_its_second_page(
    pki: DevPki, agency_key: SigningKey, seal_app: Appearance, tmp_path: Path
) -> None:
    long_form = replace(FORM, body=tuple(f"Đoạn {n}: " + "nội dung xác nhận " * 25 for n in range(9)))
    signed, _ = _sign_result(render_form(long_form), agency_key, seal_app)
    assert verify_pdf(signed, [pki.root_cert]).valid
    _assert_a4(signed)
    assert len(_sizes(signed)) == 2
    index, (_, y1, _, _) = _widget(signed)
    words = _words(signed, tmp_path, page=2)
    assert index == 1 and _word(words, "Bình")[2] >= A4[1] - y1 - 1  # the name under the seal, same page
    pages = _pages(signed, tmp_path, 300)
    assert _qr_texts(pages[0]) == [RESULT_QR.text()] and _qr_texts(pages[1]) == []


def test_a_paragraph_longer_than_the_page_runs_on_without_repeating(tmp_path: Path) -> None:
    paragraph = " ".join(f"câu{n}" for n in range(700))
    pdf = render_form(replace(FORM, body=(paragraph,)))
    source = tmp_path / "long.pdf"
    source.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(source), "-"], capture_output=True, text=True, check=True).stdout
    words = re.findall(r"câu\d+", text)
    assert words == [f"câu{n}" for n in range(700)]  # every word once, in order, over two pages
    assert len(_sizes(pdf)) == 2
    _assert_a4(pdf)
    for page in (1, 2):
        assert all(
            w[2] >= 20 * 72 / 25.4 - 1 and w[4] <= A4[1] - 20 * 72 / 25.4 + 1 for w in _words(pdf, tmp_path, page)
        )


def test_a_card_sized_copy_keeps_its_size_with_stamp_and_qr_scaled_into_it(
    pki: DevPki, operator_key: SigningKey
) -> None:
    image = Image.new("L", (675, 425), 255)  # a CCCD scanned at 200 dpi: 85.6 × 54 mm
    ImageDraw.Draw(image).rectangle((0, 0, 674, 424), outline=0, width=6)
    out = io.BytesIO()
    image.save(out, format="PDF", resolution=200)
    source = out.getvalue()
    marked, placed = mark_copy(source, copy_stamp("Nguyễn Thị Cán Bộ", SIGNED_AT, agency=AGENCY), COPY_QR)
    signed = sign_pdf(marked, operator_key, level="B-B", appearance=placed)
    assert verify_pdf(signed, [pki.root_cert]).valid
    assert _sizes(signed) == _sizes(source)
    width, height = _sizes(source)[0]
    _, (x1, y1, x2, y2) = _widget(signed)
    assert 0 <= x1 < x2 <= width + 0.5 and 0 < y1 < y2 <= height + 0.5


def test_an_upload_with_a_crop_box_gets_its_marks_inside_what_is_shown(
    pki: DevPki, agency_key: SigningKey, seal_app: Appearance, tmp_path: Path
) -> None:
    doc = pikepdf.new()
    doc.add_blank_page(page_size=(700, 950))
    doc.pages[0].CropBox = [50, 60, 645.28, 901.89]  # an A4 window on a larger sheet
    doc.pages[0].Contents = doc.make_stream(b"0 0 700 950 re f 1 g 50 60 595.28 841.89 re f")  # black outside it
    out = io.BytesIO()
    doc.save(out)
    signed, _ = _sign_result(out.getvalue(), agency_key, seal_app)
    assert verify_pdf(signed, [pki.root_cert]).valid
    assert len(_sizes(signed)) == 1
    _, (x1, y1, x2, y2) = _widget(signed)
    assert x1 >= 50 + 30 * 72 / 25.4 - 1 and x2 <= 645.28 and y1 >= 60 and y2 <= 901.89
    [page] = _pages(signed, tmp_path, 300)  # poppler shows the crop box
    assert _qr_texts(page) == [RESULT_QR.text()]
