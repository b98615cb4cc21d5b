"""Synthetic Vietnamese corpus: random people and places, every component type, several fonts,
scanner degradations (skew, blur, noise, JPEG, uneven light, 200/300 dpi) and ID-card photos.

Everything is drawn from a seeded ``random.Random`` so a corpus is reproducible from its seed.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageFilter

from bench.corpus import templates
from bench.corpus.render import Degradation, RenderedPage, degrade, render_card, render_page

SURNAMES = (
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
)
MIDDLE_MALE = ("Văn", "Hữu", "Đức", "Minh", "Quốc", "Thành", "Công", "Đình", "Xuân")
MIDDLE_FEMALE = ("Thị", "Ngọc", "Thu", "Thanh", "Bích", "Kim", "Thùy", "Hồng", "Mỹ")
GIVEN_MALE = (
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Đạt",
    "Hải",
    "Hùng",
    "Khang",
    "Long",
    "Nam",
    "Phúc",
    "Quân",
    "Sơn",
    "Thắng",
    "Trung",
    "Tuấn",
    "Việt",
    "Vinh",
)
GIVEN_FEMALE = (
    "Anh",
    "Chi",
    "Dung",
    "Giang",
    "Hà",
    "Hạnh",
    "Hoa",
    "Hương",
    "Lan",
    "Linh",
    "Mai",
    "Ngọc",
    "Nhung",
    "Phương",
    "Quỳnh",
    "Thảo",
    "Trang",
    "Yến",
)
PLACES = (
    ("Hà Nội", "001", ("Ba Đình", "Hoàn Kiếm", "Đống Đa", "Cầu Giấy", "Tây Hồ"), ("Kim Mã", "Đội Cấn", "Láng Hạ")),
    ("Hồ Chí Minh", "079", ("Bến Nghé", "Tân Định", "Thảo Điền", "Bình Thạnh"), ("Lê Lợi", "Hai Bà Trưng")),
    ("Đà Nẵng", "048", ("Hải Châu", "Thạch Thang", "An Hải Bắc"), ("Bạch Đằng", "Trần Phú")),
    ("Hải Phòng", "031", ("Máy Tơ", "Lạch Tray", "Cát Dài"), ("Điện Biên Phủ", "Lạch Tray")),
    ("Cần Thơ", "092", ("Tân An", "Xuân Khánh", "An Hòa"), ("Ninh Kiều", "Hòa Bình")),
    ("Huế", "046", ("Phú Hội", "Vĩnh Ninh", "Thuận Thành"), ("Lê Lợi", "Trần Hưng Đạo")),
)
ORIGINS = (
    "xã Phù Đổng, huyện Gia Lâm",
    "xã Hải Bối, huyện Đông Anh",
    "xã Tân Lập, huyện Đan Phượng",
    "xã Nghĩa Hưng, huyện Nghĩa Đàn",
    "xã Điện Bàn, huyện Điện Bàn",
)
FONTS = ("serif", "serif-condensed", "sans")
DOC_TYPES = tuple(templates.TEMPLATES)


def citizen_id(rng: random.Random, province: str, birth_year: int, female: bool) -> str:
    """A valid số định danh: province, century+sex digit, two-digit birth year, six random digits."""
    century_digit = 2 * ((birth_year - 1900) // 100) + (1 if female else 0)
    return f"{province}{century_digit}{birth_year % 100:02d}{rng.randrange(10**6):06d}"


def person(rng: random.Random, province: str, year: int, *, female: bool) -> dict[str, str]:
    middle = rng.choice(MIDDLE_FEMALE if female else MIDDLE_MALE)
    given = rng.choice(GIVEN_FEMALE if female else GIVEN_MALE)
    name = f"{rng.choice(SURNAMES)} {middle} {given}"
    dob = f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{year}"
    return {"name": name, "id": citizen_id(rng, province, year, female), "dob": dob}


def random_cast(rng: random.Random) -> templates.Cast:
    city, province, wards, streets = rng.choice(PLACES)
    year = rng.randint(2015, 2025)
    father_year = rng.randint(1960, 2000)
    return templates.Cast(
        father=person(rng, province, father_year, female=False),
        mother=person(rng, province, father_year + rng.randint(-3, 5), female=True),
        child=person(rng, province, year, female=rng.random() < 0.5),
        ward=rng.choice(wards),
        city=city,
        street=f"Số {rng.randint(1, 199)} phố {rng.choice(streets)}",
        origin=rng.choice(ORIGINS),
        day=rng.randint(1, 28),
        month=rng.randint(1, 12),
        year=year,
        number=rng.randint(10, 999),
        variant=rng.randrange(6),
    )


@dataclass
class Component:
    """One generated dossier component: its type, rendered pages and the values a reader must find."""

    doc_type: str
    pages: list[RenderedPage]
    cast: templates.Cast
    expected_id: str | None
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n".join(page.text for page in self.pages)


def scan_degradation(rng: random.Random, max_skew: float = 3.0) -> Degradation:
    return Degradation(
        skew_deg=round(rng.uniform(-max_skew, max_skew), 2),
        blur=rng.choice((0.0, 0.3, 0.5)),
        noise=rng.choice((2.0, 4.0, 6.0)),
        jpeg_quality=rng.choice((None, 75, 85)),
        uneven_light=rng.choice((0.0, 0.0, 0.08, 0.15)),
    )


def card_photo(card: Image.Image, rng: random.Random) -> Image.Image:
    """A phone photo of a card lying on a desk: darker textured background, tilt, light falloff."""
    margin_x, margin_y = card.width // 3, card.height // 3
    desk_colour = tuple(rng.randint(60, 120) for _ in range(3))
    desk = Image.new("RGB", (card.width + 2 * margin_x, card.height + 2 * margin_y), desk_colour)
    grain = np.random.default_rng(rng.randrange(2**32)).normal(0, 10, (desk.height, desk.width, 1))
    desk = Image.fromarray(np.clip(np.asarray(desk, np.float32) + grain, 0, 255).astype(np.uint8), "RGB")
    tilted = card.convert("RGBA").rotate(rng.uniform(-8, 8), resample=Image.Resampling.BICUBIC, expand=True)
    desk.paste(
        tilted, (margin_x - (tilted.width - card.width) // 2, margin_y - (tilted.height - card.height) // 2), tilted
    )
    return degrade(
        desk.filter(ImageFilter.GaussianBlur(0.6)),
        Degradation(noise=5.0, uneven_light=0.2, jpeg_quality=85),
        seed=rng.randrange(999),
    )


def render_component(
    doc_type: str, rng: random.Random, *, dpi: int | None = None, max_skew: float = 3.0, photo: bool = False
) -> Component:
    """Render one component of ``doc_type`` (a citizen ID card has a front and a back page)."""
    cast = random_cast(rng)
    font = rng.choice(FONTS)
    seed = rng.randrange(10**6)
    if doc_type == "citizen_id_card":
        pages = []
        for i, lines in enumerate((templates.citizen_id_front(cast), templates.citizen_id_back(cast))):
            card = render_card(lines, degradation=None if photo else scan_degradation(rng, max_skew), seed=seed + i)
            if photo:
                card.image = card_photo(card.image, rng)
            pages.append(card)
        tags = {"font": "sans", "dpi": "300", "photo": str(photo)}
    else:
        chosen_dpi = dpi or rng.choice((200, 300))
        page = render_page(
            templates.TEMPLATES[doc_type](cast),
            font=font,
            dpi=chosen_dpi,
            font_pt=rng.choice((12.0, 13.0)),
            degradation=scan_degradation(rng, max_skew),
            seed=seed,
        )
        pages = [page]
        tags = {"font": font, "dpi": str(chosen_dpi)}
    text = "\n".join(p.text for p in pages)
    ids = re.findall(r"(?<!\d)\d{12}(?!\d)", text)
    return Component(doc_type, pages, cast, ids[0] if ids else None, tags)


def corpus(count: int, seed: int = 0, **kwargs: object) -> Iterator[Component]:
    """``count`` components cycling through every type (shuffled order per cycle)."""
    rng = random.Random(seed)
    produced = 0
    while produced < count:
        order = list(DOC_TYPES)
        rng.shuffle(order)
        for doc_type in order[: count - produced]:
            yield render_component(doc_type, rng, **kwargs)  # type: ignore[arg-type]
            produced += 1


# --- text-only samples for classifier training and evaluation -------------------------------------

_CONFUSABLE = {"o": "0", "l": "1", "i": "l", "e": "c", "n": "u", "m": "rn", "đ": "d", "ư": "u", "ơ": "o"}


def strip_diacritics(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))


def ocr_noise(text: str, rng: random.Random, rate: float) -> str:
    """Confusions, dropped characters and lost tone marks, at about ``rate`` per character."""
    out = []
    for word in text.split(" "):
        if rng.random() < rate * 5:
            word = strip_diacritics(word)
        chars = []
        for ch in word:
            roll = rng.random()
            if roll < rate / 2:
                continue
            if roll < rate:
                chars.append(_CONFUSABLE.get(ch.lower(), ch))
            else:
                chars.append(ch)
        out.append("".join(chars))
    return " ".join(out)


def text_sample(doc_type: str, rng: random.Random, *, hard: bool = False) -> str:
    """Text of one document as an OCR might return it: noisy, sometimes without any diacritics, sometimes
    only its top part (a card back, a torn page). ``hard``: only a few consecutive lines survive, so
    some samples carry little or no evidence of their type (what calibration must learn)."""
    lines = [line.text for line in templates.TEMPLATES[doc_type](random_cast(rng)) if line.text.strip()]
    if doc_type == "citizen_id_card" and rng.random() < 0.3:
        lines = [line.text for line in templates.citizen_id_back(random_cast(rng)) if line.text.strip()]
    if hard:
        start = rng.randrange(len(lines))
        lines = lines[start : start + rng.randint(1, 4)]
    elif rng.random() < 0.2:
        lines = lines[: rng.randint(4, max(4, len(lines)))]
    text = "\n".join(lines)
    if rng.random() < 0.25:
        text = strip_diacritics(text)
    if rng.random() < 0.15:
        text = text.upper()
    return ocr_noise(text, rng, rng.choice((0.0, 0.01, 0.03, 0.06)))


def text_samples(per_type: int, seed: int = 0, hard_share: float = 0.0) -> list[tuple[str, str]]:
    """``per_type`` (text, label) pairs for every type, ``hard_share`` of them hard (see ``text_sample``)."""
    rng = random.Random(seed)
    return [
        (text_sample(doc_type, rng, hard=rng.random() < hard_share), doc_type)
        for _ in range(per_type)
        for doc_type in DOC_TYPES
    ]
