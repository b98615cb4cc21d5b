"""Two-party documents: marriage certificates (two columns side by side, or a table with one label
column), powers of attorney (sequential sections) and contracts (bên A / bên B), each person with a
valid số định danh; the ground truth is every party's role, name, number and date of birth.

Rows are drawn with cells at fixed fractions of the text width, so a two-column certificate puts the
words of both people on the same printed line, as the real forms do (mẫu TT 04/2020/TT-BTP).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from PIL import Image, ImageDraw

from bench.corpus import templates
from bench.corpus.generate import FONTS, PLACES, person, random_cast, scan_degradation
from bench.corpus.render import A4_MM, Degradation, Line, RenderedPage, _font, degrade

Cell = tuple[float, str]  # (left edge as a fraction of the text width, text)


@dataclass(frozen=True)
class Row:
    """One printed row: a centred/left ``Line``, or cells at fractions of the text width."""

    cells: tuple[Cell, ...] = ()
    line: Line | None = None
    bold: bool = False


@dataclass
class PartyTruth:
    role: str
    name: str
    id: str
    dob: str  # dd/mm/yyyy


@dataclass
class PartyPage:
    kind: str
    doc_type: str
    page: RenderedPage
    parties: list[PartyTruth] = field(default_factory=list)


def render_rows(
    rows: Sequence[Row],
    *,
    font: str = "serif",
    dpi: int = 200,
    font_pt: float = 12.0,
    margin_mm: float = 18.0,
    line_spacing: float = 1.55,
    degradation: Degradation | None = None,
    seed: int = 0,
) -> RenderedPage:
    width = round(A4_MM[0] / 25.4 * dpi)
    height = round(A4_MM[1] / 25.4 * dpi)
    margin = round(margin_mm / 25.4 * dpi)
    text_width = width - 2 * margin
    image = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    y = margin
    texts: list[str] = []
    for row in rows:
        scale = row.line.scale if row.line is not None else 1.0
        size_px = max(8, round(font_pt * scale * dpi / 72))
        if row.line is not None and row.line.text.strip():
            face = _font(font, row.line.bold, size_px)
            w = draw.textlength(row.line.text, font=face)
            x = {"center": (width - w) / 2, "right": width - margin - w}.get(row.line.align, margin)
            draw.text((x, y), row.line.text, font=face, fill=(20, 20, 25))
            texts.append(row.line.text)
        elif row.cells:
            face = _font(font, row.bold, size_px)
            for frac, text in row.cells:
                draw.text((margin + frac * text_width, y), text, font=face, fill=(20, 20, 25))
            texts.append(" ".join(text for _, text in row.cells))
        y += round(size_px * line_spacing)
    image = degrade(image, degradation or Degradation(), seed=seed)
    return RenderedPage(image=image, text="\n".join(texts), dpi=dpi, lines=texts)


def _header(authority: str) -> list[Row]:
    return [
        Row(line=Line(authority)),
        Row(line=Line("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "center", bold=True)),
        Row(line=Line("Độc lập - Tự do - Hạnh phúc", "center", bold=True)),
        Row(line=Line("")),
    ]


def _people(rng: random.Random) -> tuple[dict[str, str], dict[str, str], str, str, str]:
    city, province, wards, streets = rng.choice(PLACES)
    year = rng.randint(1965, 2002)
    husband = person(rng, province, year, female=False)
    wife = person(rng, province, year + rng.randint(-3, 5), female=True)
    return husband, wife, city, rng.choice(wards), f"Số {rng.randint(1, 199)} phố {rng.choice(streets)}"


def marriage_columns(rng: random.Random) -> tuple[list[Row], list[PartyTruth]]:
    """Two blocks side by side, each with its own labels (the printed GCN kết hôn)."""
    h, w, city, ward, street = _people(rng)
    heads = rng.choice((("Thông tin người chồng", "Thông tin người vợ"), ("CHỒNG", "VỢ"), ("Người chồng", "Người vợ")))
    id_label = rng.choice(("Số định danh cá nhân:", "Số CCCD:", "Số định danh:"))
    rows = [
        *_header(f"ỦY BAN NHÂN DÂN PHƯỜNG {ward.upper()}"),
        Row(line=Line("GIẤY CHỨNG NHẬN KẾT HÔN", "center", bold=True, scale=1.3)),
        Row(line=Line(f"Số: {rng.randint(3, 99)}/{rng.randint(2010, 2024)}", "center")),
        Row(line=Line("")),
        Row(((0.0, heads[0]), (0.52, heads[1])), bold=True),
        Row(((0.0, "Họ, chữ đệm, tên:"), (0.52, "Họ, chữ đệm, tên:"))),
        Row(((0.0, h["name"].upper()), (0.52, w["name"].upper()))),
        Row(((0.0, f"Ngày, tháng, năm sinh: {h['dob']}"), (0.52, f"Ngày, tháng, năm sinh: {w['dob']}"))),
        Row(((0.0, "Dân tộc: Kinh"), (0.52, "Dân tộc: Kinh"))),
        Row(((0.0, "Quốc tịch: Việt Nam"), (0.52, "Quốc tịch: Việt Nam"))),
        Row(((0.0, "Nơi cư trú:"), (0.52, "Nơi cư trú:"))),
        Row(((0.0, f"{street},"), (0.52, f"{street},"))),
        Row(((0.0, f"phường {ward}, {city}"), (0.52, f"phường {ward}, {city}"))),
        Row(((0.0, id_label), (0.52, id_label))),
        Row(((0.0, h["id"]), (0.52, w["id"]))),
        Row(line=Line("")),
        Row(line=Line(f"Nơi đăng ký kết hôn: Ủy ban nhân dân phường {ward}, thành phố {city}")),
        Row(line=Line(f"{city}, ngày {rng.randint(1, 28)} tháng {rng.randint(1, 12)} năm {rng.randint(2010, 2024)}")),
        Row(((0.0, "Chồng"), (0.35, "Vợ"), (0.65, "TM. ỦY BAN NHÂN DÂN")), bold=True),
        Row(((0.0, "(Ký, ghi rõ họ tên)"), (0.35, "(Ký, ghi rõ họ tên)"), (0.65, "CHỦ TỊCH"))),
    ]
    return rows, [PartyTruth("husband", h["name"].upper(), h["id"], h["dob"]), _truth("wife", w, upper=True)]


def _truth(role: str, p: dict[str, str], *, upper: bool = False) -> PartyTruth:
    return PartyTruth(role, p["name"].upper() if upper else p["name"], p["id"], p["dob"])


def marriage_table(rng: random.Random) -> tuple[list[Row], list[PartyTruth]]:
    """A label column and one value column per person (the trích lục kết hôn table)."""
    h, w, city, ward, _street = _people(rng)
    rows = [
        *_header(f"UBND PHƯỜNG {ward.upper()}"),
        Row(line=Line("TRÍCH LỤC KẾT HÔN", "center", bold=True, scale=1.3)),
        Row(line=Line(f"Số: {rng.randint(3, 99)}/TLKH", "center")),
        Row(line=Line("")),
        Row(((0.36, "Chồng"), (0.70, "Vợ")), bold=True),
        Row(((0.0, "Họ, chữ đệm, tên"), (0.36, h["name"]), (0.70, w["name"]))),
        Row(((0.0, "Ngày sinh"), (0.36, h["dob"]), (0.70, w["dob"]))),
        Row(((0.0, "Dân tộc"), (0.36, "Kinh"), (0.70, "Kinh"))),
        Row(((0.0, "Quốc tịch"), (0.36, "Việt Nam"), (0.70, "Việt Nam"))),
        Row(((0.0, "Số định danh cá nhân"), (0.36, h["id"]), (0.70, w["id"]))),
        Row(line=Line("")),
        Row(line=Line(f"Đăng ký kết hôn tại Ủy ban nhân dân phường {ward}, thành phố {city}")),
    ]
    return rows, [_truth("husband", h), _truth("wife", w)]


def power_of_attorney(rng: random.Random) -> tuple[list[Row], list[PartyTruth]]:
    """Sequential sections: Bên ủy quyền, then Bên được ủy quyền, each with its own fields."""
    a, b, city, ward, street = _people(rng)
    id_label = rng.choice(("Số định danh cá nhân:", "Số CCCD:", "Số giấy tờ tùy thân:"))
    rows = [
        *_header(""),
        Row(line=Line(rng.choice(("GIẤY ỦY QUYỀN", "HỢP ĐỒNG ỦY QUYỀN")), "center", bold=True, scale=1.3)),
        Row(line=Line("")),
        Row(line=Line("I. BÊN ỦY QUYỀN (Bên A):", bold=True)),
        Row(line=Line(f"Họ và tên: {a['name']}")),
        Row(line=Line(f"Ngày sinh: {a['dob']}          Giới tính: Nam")),
        Row(line=Line(f"{id_label} {a['id']}")),
        Row(line=Line(f"Nơi cư trú: {street}, phường {ward}, thành phố {city}")),
        Row(line=Line("II. BÊN ĐƯỢC ỦY QUYỀN (Bên B):", bold=True)),
        Row(line=Line(f"Họ và tên: {b['name']}")),
        Row(line=Line(f"Ngày sinh: {b['dob']}          Giới tính: Nữ")),
        Row(line=Line(id_label)),
        Row(line=Line(b["id"])),
        Row(line=Line(f"Nơi cư trú: {street}, phường {ward}, thành phố {city}")),
        Row(line=Line("III. NỘI DUNG ỦY QUYỀN")),
        Row(line=Line("Bên ủy quyền giao cho bên được ủy quyền thay mặt nộp hồ sơ và nhận kết quả.")),
        Row(line=Line(f"{city}, ngày {rng.randint(1, 28)} tháng {rng.randint(1, 12)} năm 2024", "right")),
    ]
    return rows, [_truth("principal", a), _truth("agent", b)]


def contract(rng: random.Random) -> tuple[list[Row], list[PartyTruth]]:
    """Bên A (bên bán) / Bên B (bên mua), each introduced by "Ông/Bà:" with the number on the "CCCD số" line."""
    a, b, city, ward, street = _people(rng)
    title, role_a, role_b, side_a, side_b = rng.choice(
        (
            ("HỢP ĐỒNG MUA BÁN NHÀ Ở", "Bên bán", "Bên mua", "seller", "buyer"),
            ("HỢP ĐỒNG THUÊ NHÀ", "Bên cho thuê", "Bên thuê", "lessor", "lessee"),
            (
                "HỢP ĐỒNG CHUYỂN NHƯỢNG QUYỀN SỬ DỤNG ĐẤT",
                "Bên chuyển nhượng",
                "Bên nhận chuyển nhượng",
                "transferor",
                "transferee",
            ),
        )
    )
    rows = [
        *_header(""),
        Row(line=Line(title, "center", bold=True, scale=1.2)),
        Row(line=Line("")),
        Row(line=Line(f"Hôm nay, ngày {rng.randint(1, 28)} tháng {rng.randint(1, 12)} năm 2024, chúng tôi gồm:")),
        Row(line=Line(f"BÊN A ({role_a}):", bold=True)),
        Row(line=Line(f"Ông/Bà: {a['name']}          Sinh ngày: {a['dob']}")),
        Row(line=Line(f"CCCD số: {a['id']} cấp ngày 10/08/2021 tại Cục Cảnh sát QLHC về TTXH")),
        Row(line=Line(f"Địa chỉ thường trú: {street}, phường {ward}, thành phố {city}")),
        Row(line=Line(f"BÊN B ({role_b}):", bold=True)),
        Row(line=Line(f"Ông/Bà: {b['name']}          Sinh ngày: {b['dob']}")),
        Row(line=Line(f"CCCD số: {b['id']} cấp ngày 22/04/2022 tại Cục Cảnh sát QLHC về TTXH")),
        Row(line=Line(f"Địa chỉ thường trú: {street}, phường {ward}, thành phố {city}")),
        Row(line=Line("Hai bên thỏa thuận ký kết hợp đồng với các điều khoản sau đây:")),
        Row(line=Line(f"Điều 1. Bên A đồng ý chuyển giao cho Bên B tài sản tại {street}.")),
    ]
    return rows, [_truth(side_a, a), _truth(side_b, b)]


def marriage_sequential(rng: random.Random) -> tuple[list[Row], list[PartyTruth]]:
    """The classifier corpus's certificate: "Họ, chữ đệm, tên người chồng: ..." then the wife's lines."""
    cast = random_cast(rng)
    rows = [Row(line=line) for line in templates.marriage_certificate(cast)]
    return rows, [_truth("husband", cast.father), _truth("wife", cast.mother)]


KINDS: dict[str, tuple[str, Callable[[random.Random], tuple[list[Row], list[PartyTruth]]]]] = {
    "marriage_sequential": ("marriage_certificate", marriage_sequential),
    "marriage_columns": ("marriage_certificate", marriage_columns),
    "marriage_table": ("marriage_certificate", marriage_table),
    "power_of_attorney": ("power_of_attorney", power_of_attorney),
    "contract": ("contract", contract),
}


def party_page(kind: str, rng: random.Random, *, max_skew: float = 1.5, dpi: int = 200) -> PartyPage:
    doc_type, make = KINDS[kind]
    rows, truth = make(rng)
    page = render_rows(
        rows,
        font=rng.choice(FONTS),
        dpi=dpi,
        font_pt=rng.choice((11.0, 12.0)),
        degradation=scan_degradation(rng, max_skew),
        seed=rng.randrange(10**6),
    )
    return PartyPage(kind, doc_type, page, truth)


def party_pages(count: int, seed: int = 0) -> Iterator[PartyPage]:
    """``count`` pages cycling through the kinds."""
    rng = random.Random(seed)
    kinds = list(KINDS)
    for i in range(count):
        yield party_page(kinds[i % len(kinds)], rng)


def main(argv: Sequence[str] | None = None) -> None:
    """Digitise ``--count`` generated two-party pages and print the share of parties whose số định danh
    (and role) was found: ``python -m bench.corpus.parties --count 10``."""
    import argparse
    import tempfile
    import time
    from pathlib import Path

    from bench.corpus.render import save_scan
    from digitizer import DigitizeOptions, digitize_files

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    found = with_role = total = 0
    per_kind: dict[str, list[int]] = {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for n, generated in enumerate(party_pages(args.count, args.seed)):
            path = Path(tmp) / f"{n}.jpg"
            save_scan(generated.page, path, quality=85)
            result = digitize_files([path], DigitizeOptions(declared_type=generated.doc_type))
            ids = {p.id_number for p in result.parties}
            roles = {(p.role, p.id_number) for p in result.parties}
            hits = sum(t.id in ids for t in generated.parties)
            found += hits
            with_role += sum((t.role, t.id) in roles for t in generated.parties)
            total += len(generated.parties)
            per_kind.setdefault(generated.kind, [0, 0])
            per_kind[generated.kind][0] += hits
            per_kind[generated.kind][1] += len(generated.parties)
            if hits < len(generated.parties):
                print(f"page {n} {generated.kind}: expected {[(t.role, t.id) for t in generated.parties]}")
                print(f"    found {sorted(roles, key=str)}")
    elapsed = time.perf_counter() - started
    for kind, (hit, of) in sorted(per_kind.items()):
        print(f"{kind:22s} {hit}/{of}")
    print(f"ID-number recall over parties: {found}/{total} = {found / max(1, total):.1%}")
    print(f"with the right role:           {with_role}/{total} = {with_role / max(1, total):.1%}")
    print(f"{args.count} pages in {elapsed:.1f} s")


if __name__ == "__main__":
    main()


__all__ = ["KINDS", "PartyPage", "PartyTruth", "party_page", "party_pages", "render_rows"]
