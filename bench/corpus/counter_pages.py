"""Pages shaped like what counters receive and the straight corpus lacks: top-heavy notices, ruled-table
forms, and signed pages with a red round seal and a blue signature over their last lines.

Unlike ``render.render_page`` (one font, lines flowing from the top margin), each page here picks its face
among Liberation (metric Times/Arial, the faces of most Vietnamese office documents) and DejaVu, its size,
margins and layout from ``seed``; ``truth`` is the page text, ``probe`` the lines a check should read back
(for the seal page: the lines the seal and signature cover).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

FACES: dict[str, tuple[str, str]] = {
    "times": ("liberation2/LiberationSerif-Regular.ttf", "liberation2/LiberationSerif-Bold.ttf"),
    "arial": ("liberation2/LiberationSans-Regular.ttf", "liberation2/LiberationSans-Bold.ttf"),
    "dejavu-serif": ("dejavu/DejaVuSerif.ttf", "dejavu/DejaVuSerif-Bold.ttf"),
    "dejavu-sans-condensed": ("dejavu/DejaVuSansCondensed.ttf", "dejavu/DejaVuSansCondensed-Bold.ttf"),
}
FONT_DIR = Path("/usr/share/fonts/truetype")
INK = (25, 25, 30)
SEAL_RED = (205, 35, 45)
PEN_BLUE = (30, 55, 165)

NOTICE_BODY = [
    "Ủy ban nhân dân phường Bến Nghé thông báo tới các hộ gia đình trên địa bàn",
    "về việc tạm ngừng tiếp nhận hồ sơ trực tiếp vào chiều thứ Sáu ngày 14 tháng 3.",
    "Người dân có nhu cầu nộp hồ sơ vui lòng sử dụng cổng dịch vụ công trực tuyến",
    "hoặc quay lại bộ phận một cửa vào sáng thứ Hai tuần kế tiếp để được hướng dẫn.",
    "Mọi thắc mắc xin liên hệ số điện thoại đường dây nóng của phường để được giải đáp.",
]
TABLE_ROWS = [
    ("Họ và tên người yêu cầu", "Lê Thị Hồng Nhung"),
    ("Ngày, tháng, năm sinh", "17/06/1988"),
    ("Số định danh cá nhân", "079188003421"),
    ("Nơi cư trú", "Số 45 đường Lý Thường Kiệt, phường Tân Định"),
    ("Số điện thoại liên hệ", "0903 456 789"),
    ("Thông tin cần cung cấp", "Trích lục khai sinh bản sao"),
    ("Số lượng bản sao", "02 bản"),
    ("Hình thức nhận kết quả", "Nhận trực tiếp tại bộ phận một cửa"),
]
SIGNED_BODY = [
    "Căn cứ Luật Hộ tịch ngày 20 tháng 11 năm 2014 và các văn bản hướng dẫn thi hành,",
    "Ủy ban nhân dân phường xác nhận ông Phạm Quốc Huy, sinh ngày 04/02/1979,",
    "hiện cư trú tại số 8 đường Trần Hưng Đạo, phường Hòa Cường, thành phố Đà Nẵng,",
    "đã nộp đầy đủ hồ sơ đề nghị cấp bản sao giấy tờ hộ tịch theo quy định.",
    "Giấy xác nhận này có giá trị trong thời hạn sáu tháng kể từ ngày ký.",
    "Nơi nhận: như trên, lưu văn thư Ủy ban nhân dân phường.",
]
SIGNED_TAIL = [
    "Đà Nẵng, ngày 12 tháng 5 năm 2025",
    "TM. ỦY BAN NHÂN DÂN PHƯỜNG",
    "CHỦ TỊCH",
    "Nguyễn Thành Phước",
]


@dataclass
class CounterPage:
    image: Image.Image
    truth: str
    dpi: int
    probe: list[str] = field(default_factory=list)


def _face(name: str, bold: bool, px: int) -> ImageFont.FreeTypeFont:
    regular, heavy = FACES[name]
    return ImageFont.truetype(str(FONT_DIR / (heavy if bold else regular)), px)


class _Sheet:
    """An A4 sheet at ``dpi`` that remembers what was written on it."""

    def __init__(self, dpi: int, rng: np.random.Generator) -> None:
        self.dpi = dpi
        self.rng = rng
        self.image = Image.new("RGB", (round(210 / 25.4 * dpi), round(297 / 25.4 * dpi)), "white")
        self.draw = ImageDraw.Draw(self.image)
        self.face = str(rng.choice(list(FACES)))
        self.pt = float(rng.uniform(11.5, 14.0))
        self.lines: list[str] = []

    def px(self, mm: float) -> int:
        return round(mm / 25.4 * self.dpi)

    def font(self, bold: bool = False, scale: float = 1.0) -> ImageFont.FreeTypeFont:
        return _face(self.face, bold, round(self.pt * scale * self.dpi / 72))

    def text(
        self,
        xy: tuple[float, float],
        text: str,
        *,
        bold: bool = False,
        scale: float = 1.0,
        align: str = "left",
        width: float | None = None,
    ) -> int:
        """Write one line at ``xy`` (its top-left, or its centre/right edge within ``width``); return its height."""
        face = self.font(bold, scale)
        x, y = xy
        length = self.draw.textlength(text, font=face)
        if align == "center" and width is not None:
            x += (width - length) / 2
        elif align == "right" and width is not None:
            x += width - length
        self.draw.text((x, y), text, font=face, fill=INK)
        self.lines.append(text)
        return face.size


def _header(sheet: _Sheet, y: float) -> float:
    width = sheet.image.width
    for text in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"):
        size = sheet.text((0, y), text, bold=True, align="center", width=width)
        y += size * 1.45
    return y + sheet.px(4)


def notice(seed: int = 0, dpi: int = 200) -> CounterPage:
    """A short upright notice filling only the top third of the page, the rest blank."""
    rng = np.random.default_rng(seed)
    sheet = _Sheet(dpi, rng)
    left = sheet.px(float(rng.uniform(18, 30)))
    y = float(sheet.px(float(rng.uniform(12, 25))))
    y = _header(sheet, y)
    size = sheet.text((0, y), "THÔNG BÁO", bold=True, scale=1.3, align="center", width=sheet.image.width)
    y += size * 1.8
    body = NOTICE_BODY[: int(rng.integers(3, len(NOTICE_BODY) + 1))]
    for line in body:
        size = sheet.text((left, y), line, scale=0.92)
        y += size * float(rng.uniform(1.35, 1.6))
    return CounterPage(sheet.image, "\n".join(sheet.lines), dpi, probe=body[:2])


def table_form(seed: int = 0, dpi: int = 200) -> CounterPage:
    """A phiếu yêu cầu: header, title, and a two-column ruled table of labels and answers, in the top half."""
    rng = np.random.default_rng(seed)
    sheet = _Sheet(dpi, rng)
    width = sheet.image.width
    left = sheet.px(float(rng.uniform(15, 25)))
    right = width - sheet.px(float(rng.uniform(15, 25)))
    y = _header(sheet, float(sheet.px(float(rng.uniform(10, 20)))))
    size = sheet.text(
        (0, y), "PHIẾU YÊU CẦU CUNG CẤP THÔNG TIN HỘ TỊCH", bold=True, scale=1.1, align="center", width=width
    )
    y += size * 1.8
    rows = TABLE_ROWS[: int(rng.integers(5, len(TABLE_ROWS) + 1))]
    split = left + round((right - left) * float(rng.uniform(0.36, 0.44)))
    row_h = round(sheet.font().size * float(rng.uniform(1.9, 2.4)))
    rule = max(1, round(dpi / 100 * float(rng.uniform(0.8, 2.0))))
    pad = sheet.px(2)
    top = round(y)
    for i, (label, value) in enumerate(rows):
        ty = top + i * row_h + (row_h - sheet.font().size) // 2
        sheet.text((left + pad, ty), label, bold=bool(rng.random() < 0.5), scale=0.95)
        sheet.text((split + pad, ty), value, scale=0.95)
    bottom = top + len(rows) * row_h
    for i in range(len(rows) + 1):
        sheet.draw.line([(left, top + i * row_h), (right, top + i * row_h)], fill=INK, width=rule)
    for x in (left, split, right):
        sheet.draw.line([(x, top), (x, bottom)], fill=INK, width=rule)
    y = bottom + sheet.px(8)
    if rng.random() < 0.7:
        y = _member_table(sheet, left, right, y, rule)
    return CounterPage(sheet.image, "\n".join(sheet.lines), dpi, probe=[label for label, _ in rows[:3]])


MEMBERS = [
    ("1", "Lê Văn Tâm", "02/01/1960", "Cha"),
    ("2", "Đỗ Thị Lựu", "19/08/1963", "Mẹ"),
    ("3", "Lê Quang Vũ", "30/04/1991", "Anh ruột"),
    ("4", "Lê Thị Yến", "12/12/1995", "Em ruột"),
]


def _member_table(sheet: _Sheet, left: int, right: int, y: float, rule: int) -> float:
    """A tightly ruled many-column list (STT, name, date of birth, relation) whose rules nearly touch the text."""
    heads = ("STT", "Họ và tên", "Ngày sinh", "Quan hệ")
    fractions = (0.0, 0.1, 0.5, 0.75, 1.0)
    xs = [left + round((right - left) * f) for f in fractions]
    row_h = round(sheet.font(scale=0.9).size * float(sheet.rng.uniform(1.35, 1.6)))
    top = round(y)
    rows = [heads, *MEMBERS[: int(sheet.rng.integers(2, len(MEMBERS) + 1))]]
    for i, row in enumerate(rows):
        ty = top + i * row_h + (row_h - sheet.font(scale=0.9).size) // 2 - 1
        for x, cell in zip(xs, row, strict=False):
            sheet.text((x + sheet.px(1.5), ty), cell, bold=i == 0, scale=0.9)
    bottom = top + len(rows) * row_h
    for i in range(len(rows) + 1):
        sheet.draw.line([(left, top + i * row_h), (right, top + i * row_h)], fill=INK, width=rule)
    for x in xs:
        sheet.draw.line([(x, top), (x, bottom)], fill=INK, width=rule)
    return bottom


def prose(seed: int = 0, dpi: int = 200) -> CounterPage:
    """An ordinary full page of running text."""
    rng = np.random.default_rng(seed)
    sheet = _Sheet(dpi, rng)
    left = sheet.px(float(rng.uniform(20, 28)))
    y = _header(sheet, float(sheet.px(float(rng.uniform(12, 20)))))
    body = (NOTICE_BODY + SIGNED_BODY) * 2
    limit = sheet.image.height - sheet.px(25)
    for line in body:
        size = sheet.text((left, y), line, scale=0.92)
        y += size * 1.5
        if y > limit:
            break
    return CounterPage(sheet.image, "\n".join(sheet.lines), dpi, probe=body[:2])


def _seal(diameter: int, text: str, font: ImageFont.FreeTypeFont) -> Image.Image:
    """A round seal: two rings, the issuer's name around the inside of the outer ring and a star at the centre,
    as an ``L`` coverage mask (255 = full ink)."""
    mask = Image.new("L", (diameter, diameter), 0)
    draw = ImageDraw.Draw(mask)
    r = diameter / 2
    ring = max(3, round(diameter * 0.025))
    draw.ellipse([0, 0, diameter - 1, diameter - 1], outline=255, width=ring)
    inner = round(diameter * 0.2)
    draw.ellipse([inner, inner, diameter - 1 - inner, diameter - 1 - inner], outline=255, width=max(2, ring // 2))
    star_r = diameter * 0.12
    star = [
        (
            r + (star_r if k % 2 == 0 else star_r * 0.4) * math.sin(k * math.pi / 5),
            r - (star_r if k % 2 == 0 else star_r * 0.4) * math.cos(k * math.pi / 5),
        )
        for k in range(10)
    ]
    draw.polygon(star, fill=255)
    # Letters around the ring, each turned to follow the circle.
    radius = r - ring - font.size * 0.75
    span = 300.0
    for i, ch in enumerate(text):
        if ch == " ":
            continue
        angle = -span / 2 + span * i / max(1, len(text) - 1)
        glyph = Image.new("L", (font.size * 2, font.size * 2), 0)
        ImageDraw.Draw(glyph).text((font.size, font.size), ch, font=font, fill=255, anchor="mm")
        glyph = glyph.rotate(-angle, resample=Image.Resampling.BICUBIC)
        a = math.radians(angle)
        cx, cy = r + radius * math.sin(a), r - radius * math.cos(a)
        mask.paste(255, (round(cx - font.size), round(cy - font.size)), glyph)
    return mask


def _signature(size: tuple[int, int], rng: np.random.Generator, stroke: int) -> Image.Image:
    """A looping pen scribble as an ``L`` coverage mask."""
    w, h = size
    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    t = np.linspace(0, 1, 400)
    loops = float(rng.uniform(3, 6))
    xs = w * (0.05 + 0.9 * t) + w * 0.06 * np.sin(2 * np.pi * loops * t + rng.uniform(0, 6))
    ys = h * (0.5 + 0.3 * np.sin(2 * np.pi * loops * t * 1.03) * np.exp(-t) - 0.15 * t)
    draw.line(list(zip(xs.tolist(), ys.tolist(), strict=True)), fill=255, width=stroke, joint="curve")
    draw.line([(w * 0.1, h * 0.85), (w * 0.9, h * 0.7)], fill=255, width=stroke)
    return mask.filter(ImageFilter.GaussianBlur(stroke / 4))


def _ink_over(
    image: Image.Image,
    coverage: Image.Image,
    colour: tuple[int, int, int],
    at: tuple[int, int],
    blend: str,
    opacity: float,
) -> Image.Image:
    """Lay coloured ink with ``coverage`` on the page at ``at``: ``multiply`` (translucent ink: the print shows
    through darker) or ``over`` (ink painted on top with ``opacity``)."""
    layer = Image.new("RGB", image.size, "white")
    full = Image.new("L", image.size, 0)
    full.paste(coverage, at)
    layer.paste(Image.new("RGB", image.size, colour), (0, 0), full)
    if blend == "multiply":
        return ImageChops.multiply(image, layer)
    return Image.composite(Image.new("RGB", image.size, colour), image, full.point(lambda v: round(v * opacity)))


def signed_page(
    seed: int = 0,
    dpi: int = 200,
    blend: str = "multiply",
    opacity: float = 0.85,
    seal_colour: tuple[int, int, int] = SEAL_RED,
    pen_colour: tuple[int, int, int] = PEN_BLUE,
    seal_over: str = "block",
) -> CounterPage:
    """A certificate page whose last lines carry a red round seal and a blue signature over them.

    ``seal_over``: ``block`` puts the seal over the signer's block (title, name), ``body`` over the last
    lines of running text as well (a seal stamped low and left, across the body)."""
    rng = np.random.default_rng(seed)
    sheet = _Sheet(dpi, rng)
    width = sheet.image.width
    left = sheet.px(float(rng.uniform(20, 28)))
    y = _header(sheet, float(sheet.px(float(rng.uniform(12, 20)))))
    size = sheet.text((0, y), "GIẤY XÁC NHẬN", bold=True, scale=1.25, align="center", width=width)
    y += size * 2.0
    body_tops = []
    for line in SIGNED_BODY:
        body_tops.append(y)
        size = sheet.text((left, y), line, scale=0.95)
        y += size * 1.5
    y += sheet.px(6)
    block_x = width // 2 - sheet.px(10)
    block_w = width - block_x - sheet.px(15)
    tail_top = y
    covered: list[str] = []
    for i, line in enumerate(SIGNED_TAIL):
        size = sheet.text((block_x, y), line, bold=i in (1, 2), align="center", width=block_w)
        covered.append(line)
        y += size * (1.5 if i < 2 else 1.6)
    # The seal sits over the left part of the signature block, the signature across its name lines.
    diameter = sheet.px(float(rng.uniform(36, 42)))
    seal_font = _face("arial", True, max(10, round(diameter * 0.085)))
    seal = _seal(diameter, "ỦY BAN NHÂN DÂN PHƯỜNG HÒA CƯỜNG", seal_font)
    seal = seal.rotate(float(rng.uniform(-25, 25)), resample=Image.Resampling.BICUBIC)
    seal_at = (block_x + round(block_w * float(rng.uniform(0.05, 0.2))), round(tail_top - diameter * 0.15))
    if seal_over == "body":
        seal_at = (round(width * float(rng.uniform(0.3, 0.5))), round(body_tops[-3]))
        covered = [*SIGNED_BODY[-3:], *covered]
    image = _ink_over(sheet.image, seal.filter(ImageFilter.GaussianBlur(1)), seal_colour, seal_at, blend, opacity)
    sig_size = (round(block_w * 0.6), sheet.px(22))
    sig = _signature(sig_size, rng, stroke=max(2, round(dpi / 80)))
    sig_at = (block_x + round(block_w * 0.25), round(y - sig_size[1] * 0.9))
    image = _ink_over(image, sig, pen_colour, sig_at, blend, opacity)
    arr = np.asarray(image, dtype=np.float32) + rng.normal(0, 3.0, (image.height, image.width, 3)).astype(np.float32)
    image = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
    return CounterPage(image, "\n".join(sheet.lines), dpi, probe=covered)
