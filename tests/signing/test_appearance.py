from __future__ import annotations

import re
from datetime import UTC, datetime
from io import BytesIO

import numpy as np
import pikepdf
import pytest

from signing.dev import DevPki
from signing.keys import SigningKey
from signing.signers import copy_stamp, in_blank_space, make_room, result_seal, sign_pdf
from signing.validation import verify_pdf

SIGNED_AT = datetime(2025, 3, 1, 2, 30, tzinfo=UTC)  # 09:30 in Vietnam


def _widgets(doc: pikepdf.Pdf) -> list[tuple[int, pikepdf.Dictionary]]:
    return [
        (index, annot)
        for index, page in enumerate(doc.pages)
        for annot in page.get("/Annots", [])
        if annot.get("/FT") == "/Sig"
    ]


def _fonts(xobject: pikepdf.Stream) -> list[pikepdf.Dictionary]:
    found = list(xobject.get("/Resources", {}).get("/Font", {}).values())
    for inner in xobject.get("/Resources", {}).get("/XObject", {}).values():
        if inner.get("/Subtype") == "/Form":
            found += _fonts(inner)
    return found


def _utf16(hexes: str) -> str:
    return bytes.fromhex(hexes).decode("utf-16-be")


def _unicode_of(font: pikepdf.Dictionary) -> str:
    """Every character the font's ToUnicode CMap maps to (bfchar and bfrange entries)."""
    cmap = font.ToUnicode.read_bytes().decode("latin-1")
    chars: list[str] = []
    for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S):
        chars += [_utf16(dst) for _, dst in re.findall(r"<(\w+)>\s*<(\w+)>", block)]
    for block in re.findall(r"beginbfrange(.*?)endbfrange", cmap, re.S):
        for lo, hi, array, start in re.findall(r"<(\w+)>\s*<(\w+)>\s*(?:\[([^\]]*)\]|<(\w+)>)", block):
            if array:
                chars += [_utf16(h) for h in re.findall(r"<(\w+)>", array)]
            else:
                first = int(start, 16)
                chars += [chr(first + i) for i in range(int(hi, 16) - int(lo, 16) + 1)]
    return "".join(chars)


def test_copy_stamp_top_left_with_embedded_vietnamese_font(
    pki: DevPki, operator_key: SigningKey, pdf_1page: bytes
) -> None:
    stamp = copy_stamp(operator_key.subject_name, SIGNED_AT, agency="UBND phường Ba Đình")
    signed = sign_pdf(pdf_1page, operator_key, appearance=stamp)
    doc = pikepdf.open(BytesIO(signed))
    [(page, widget)] = _widgets(doc)
    x1, _, x2, y2 = (float(v) for v in widget.Rect)
    assert page == 0 and x1 < 100 and y2 > 842 - 60 and x2 - x1 > 150
    [font] = _fonts(widget.AP.N)
    descendant = font.DescendantFonts[0]
    assert "/FontFile2" in descendant.FontDescriptor  # embedded TrueType subset
    mapped = _unicode_of(font)
    for ch in "Bản sao điện tửNgườiký:NguyễnThịBình2025-03-01T09:30:00+07:00":
        assert ch in mapped, ch
    # Glyph widths must be in 1/1000 em (pyHanko writes font units; signing.signers.fonts rescales).
    widths = [float(w) for item in descendant.W if isinstance(item, pikepdf.Array) for w in item]
    assert widths and max(widths) < 1100
    assert verify_pdf(signed, [pki.root_cert]).valid


def test_result_seal_bottom_right_of_last_page(pki: DevPki, agency_key: SigningKey, pdf_10pages: bytes) -> None:
    seal = result_seal(agency_key.subject_name, pki.seal_png, SIGNED_AT)
    signed = sign_pdf(pdf_10pages, agency_key, appearance=seal)
    doc = pikepdf.open(BytesIO(signed))
    [(page, widget)] = _widgets(doc)
    _, y1, x2, y2 = (float(v) for v in widget.Rect)
    assert page == 9 and x2 > 595 / 2 and y1 < 200
    assert abs((y2 - y1) - 4 * 72 / 2.54) < 1  # seal at actual size: 4 cm
    appearance = widget.AP.N
    images = [x for x in appearance.Resources.get("/XObject", {}).values() if x.get("/Subtype") == "/Image"]
    assert images and "/SMask" in images[0]  # transparent PNG kept its alpha
    mapped = _unicode_of(_fonts(appearance)[0])
    assert all(ch in mapped for ch in "UBNDphườngBaĐìnhKýbởi")
    assert verify_pdf(signed, [pki.root_cert]).valid


def test_appearance_position_is_configurable(agency_key: SigningKey, pki: DevPki, pdf_1page: bytes) -> None:
    seal = result_seal(agency_key.subject_name, pki.seal_png, SIGNED_AT, page=0, anchor="top-right")
    doc = pikepdf.open(BytesIO(sign_pdf(pdf_1page, agency_key, appearance=seal)))
    [(page, widget)] = _widgets(doc)
    _, _, x2, y2 = (float(v) for v in widget.Rect)
    assert page == 0 and x2 > 500 and y2 > 800


def test_make_room_keeps_the_page_and_shrinks_the_content_under_the_stamp(
    pki: DevPki, operator_key: SigningKey, pdf_1page: bytes
) -> None:
    stamp = copy_stamp(operator_key.subject_name, SIGNED_AT, agency="Trung tâm Phục vụ hành chính công phường Ba Đình")
    card = pikepdf.open(BytesIO(pdf_1page))
    card.pages[0].mediabox = pikepdf.Array([0, 0, 243, 153])  # a CCCD-sized page, narrower than the stamp
    link = card.make_indirect(
        pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[0, 0, 243, 153])
    )
    card.pages[0].Annots = pikepdf.Array([link])
    card_bytes = BytesIO()
    card.save(card_bytes)
    for source in (pdf_1page, card_bytes.getvalue()):
        with pikepdf.open(BytesIO(source)) as original:
            box = [float(v) for v in original.pages[0].mediabox]
        fitted = stamp.scaled(min(1.0, (box[2] - 2 * stamp.margin_x) / stamp.width))
        signed = sign_pdf(make_room(source, fitted), operator_key, appearance=fitted)
        doc = pikepdf.open(BytesIO(signed))
        [(_, widget)] = _widgets(doc)
        x1, y1, x2, y2 = (float(v) for v in widget.Rect)
        assert [float(v) for v in doc.pages[0].mediabox] == box  # the page keeps its size
        content = doc.pages[0].Contents
        first = (content[0] if isinstance(content, pikepdf.Array) else content).read_bytes()
        scale, *_ = (float(v) for v in first.split()[1:2])
        top_of_content = box[3] * scale
        assert y1 >= top_of_content - 0.5 and y2 <= box[3] and x1 >= 0 and x2 <= box[2] + 0.5
        links = [a for a in doc.pages[0].get("/Annots", []) if a.get("/Subtype") == "/Link"]
        if links:  # annotations move and shrink with the content
            assert float(links[0].Rect[3]) == pytest.approx(top_of_content, abs=0.5)
        assert verify_pdf(signed, [pki.root_cert]).valid


def _page_with_heading(rotate: int = 0) -> bytes:
    pdf = pikepdf.new()
    font = pdf.make_indirect(
        pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica)
    )
    heading = b"BT /F1 22 Tf 50 790 Td (CONG HOA XA HOI CHU NGHIA VIET NAM) Tj ET 50 700 495 40 re f"
    page = pikepdf.Dictionary(
        Type=pikepdf.Name.Page,
        MediaBox=[0, 0, 595, 842],
        Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font)),
        Contents=pdf.make_stream(heading),
    )
    if rotate:
        page.Rotate = rotate
    pdf.pages.append(pikepdf.Page(page))
    out = BytesIO()
    pdf.save(out)
    return out.getvalue()


def _ink_under(pdf: bytes, box: tuple[int, int, int, int]) -> int:
    """Dark pixels poppler draws inside ``box`` (PDF points) of page 1, before any stamp."""
    import subprocess
    import tempfile
    from pathlib import Path

    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "in.pdf").write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", "72", "-gray", "-f", "1", "-l", "1", f"{tmp}/in.pdf", f"{tmp}/p"], check=True)
        with Image.open(next(Path(tmp).glob("p*.pgm"))) as image:
            x1, y1, x2, y2 = box
            region = image.crop((x1, 842 - y2, x2, 842 - y1))
            return int((np.asarray(region) < 200).sum())


def test_stamp_moves_to_blank_space_near_its_corner_and_stays_put_when_it_cannot() -> None:
    stamp = copy_stamp("Nguyễn Thị Bình", datetime(2026, 3, 1, 9, 30, tzinfo=UTC))
    pdf = _page_with_heading()
    default_box = stamp.box_on((0, 0, 595, 842))
    assert _ink_under(pdf, default_box) > 0  # where it was asked to be, it would cover the heading
    moved = in_blank_space(pdf, stamp)
    box = moved.box_on((0, 0, 595, 842))
    assert _ink_under(pdf, box) == 0
    assert box[3] > 842 - 842 / 4 and box[0] < 595 / 2  # still in the top quarter, on the left
    rotated = _page_with_heading(rotate=90)
    assert in_blank_space(rotated, stamp) == stamp  # a rotated page keeps the asked-for place
