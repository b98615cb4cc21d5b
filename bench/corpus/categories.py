"""Pages shaped like what counters really receive, one generator per category, ground truth kept with each.

Categories (``CATEGORIES``): ``clean`` (200 dpi A4 prose, 1–2° skew: the speed reference), ``photo`` (phone
photo of a page on a desk: perspective, warm light, a shadow, 3–6° tilt), ``seal`` (red round seal and blue
signature over the lower lines), ``table`` (ruled-table form, upright, content in the top part),
``top_heavy`` (short upright notice or certificate), ``rotated`` (fed upside down or sideways),
``lowres`` (150 dpi, heavy JPEG), ``two_column``, ``tiff`` (multi-page G4 TIFF), ``pdf`` (image-only PDF),
``two_party`` (marriage certificate with husband/wife columns, power of attorney, contract bên A/bên B) and
``unfamiliar`` (announcements, invitations: type ``other``).

Every sample records the text of each page in reading order, the document type (None for prose, which
is not judged), every party's số định danh with its role, and the clockwise turn that brings each stored
page upright. Fonts (DejaVu and Liberation 2, both with Vietnamese glyphs), sizes, margins, layouts and
seeds are drawn at random so the corpus is not made under one assumption.
"""

from __future__ import annotations

import io
import math
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import img2pdf
import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from bench.corpus import prose, templates
from bench.corpus.generate import person, random_cast
from bench.corpus.render import A4_MM, Degradation, Line, degrade

FONT_DIR = Path("/usr/share/fonts/truetype")
# (regular, bold): faces that carry the Vietnamese glyphs (U+1EA0..U+1EF9, ă, đ, ơ, ư). The Debian
# "liberation" (1.x) fonts and Liberation Sans Narrow lack them; Liberation 2 Serif and Sans have them
# (Liberation Serif is metric-compatible with Times New Roman, the usual face of Vietnamese documents).
FACES: dict[str, tuple[Path, Path]] = {
    "dejavu-serif": (FONT_DIR / "dejavu/DejaVuSerif.ttf", FONT_DIR / "dejavu/DejaVuSerif-Bold.ttf"),
    "dejavu-serif-condensed": (
        FONT_DIR / "dejavu/DejaVuSerifCondensed.ttf",
        FONT_DIR / "dejavu/DejaVuSerifCondensed-Bold.ttf",
    ),
    "dejavu-sans": (FONT_DIR / "dejavu/DejaVuSans.ttf", FONT_DIR / "dejavu/DejaVuSans-Bold.ttf"),
    "dejavu-sans-condensed": (
        FONT_DIR / "dejavu/DejaVuSansCondensed.ttf",
        FONT_DIR / "dejavu/DejaVuSansCondensed-Bold.ttf",
    ),
    "liberation-serif": (
        FONT_DIR / "liberation2/LiberationSerif-Regular.ttf",
        FONT_DIR / "liberation2/LiberationSerif-Bold.ttf",
    ),
    "liberation-sans": (
        FONT_DIR / "liberation2/LiberationSans-Regular.ttf",
        FONT_DIR / "liberation2/LiberationSans-Bold.ttf",
    ),
}
CATEGORIES = (
    "clean",
    "photo",
    "seal",
    "table",
    "top_heavy",
    "rotated",
    "lowres",
    "two_column",
    "tiff",
    "pdf",
    "two_party",
    "unfamiliar",
)
INK = (22, 22, 28)


@dataclass(frozen=True)
class Party:
    """A person named in a document with the role the document gives them ("" when it names one person)."""

    role: str
    id: str
    name: str


@dataclass
class Page:
    """One stored page: its pixels as stored, the text a reader must find (reading order, one line per
    line) and the clockwise turn (0/90/180/270) that brings the stored pixels upright."""

    image: Image.Image
    text: str
    dpi: int | None
    upright_turn_cw: int = 0
    skew_deg: float = 0.0  # counter-clockwise tilt the scan added (PIL's rotate sign)


@dataclass
class Sample:
    """One component: its pages and how they are stored (``jpeg``: one JPEG per page, ``tiff``: one
    multi-page CCITT G4 TIFF, ``pdf``: one image-only PDF)."""

    category: str
    pages: list[Page]
    doc_type: str | None
    parties: list[Party] = field(default_factory=list)
    container: str = "jpeg"
    tags: dict[str, str] = field(default_factory=dict)
    jpeg_quality: int = 88

    @property
    def text(self) -> str:
        return "\n".join(p.text for p in self.pages)


# --- layout --------------------------------------------------------------------------------------


@dataclass
class Style:
    face: str
    dpi: int
    font_pt: float
    margins_mm: tuple[float, float, float, float]  # left, top, right, bottom
    line_spacing: float

    @staticmethod
    def random(rng: random.Random, *, dpi: int = 200, font_pt: tuple[float, float] = (11.5, 13.5)) -> Style:
        left = rng.uniform(20, 32)
        return Style(
            face=rng.choice(tuple(FACES)),
            dpi=dpi,
            font_pt=round(rng.uniform(*font_pt) * 2) / 2,
            margins_mm=(left, rng.uniform(15, 25), rng.uniform(12, 22), rng.uniform(15, 25)),
            line_spacing=rng.uniform(1.3, 1.65),
        )


class Canvas:
    """A page being laid out top to bottom; every drawn line is recorded with its box, in reading order."""

    def __init__(self, style: Style, size_mm: tuple[float, float] = A4_MM) -> None:
        self.style = style
        self.width = round(size_mm[0] / 25.4 * style.dpi)
        self.height = round(size_mm[1] / 25.4 * style.dpi)
        self.image = Image.new("RGB", (self.width, self.height), (255, 255, 255))
        self.draw = ImageDraw.Draw(self.image)
        left, top, right, bottom = (self.mm(m) for m in style.margins_mm)
        self.left, self.right, self.bottom = left, self.width - right, self.height - bottom
        self.y = top
        self.lines: list[str] = []
        self.boxes: list[tuple[int, int, int, int]] = []

    def mm(self, value: float) -> int:
        return round(value / 25.4 * self.style.dpi)

    def font(self, bold: bool = False, scale: float = 1.0) -> ImageFont.FreeTypeFont:
        regular, heavy = FACES[self.style.face]
        return ImageFont.truetype(str(heavy if bold else regular), max(8, round(self.size_px * scale)))

    @property
    def size_px(self) -> int:
        return round(self.style.font_pt * self.style.dpi / 72)

    @property
    def step(self) -> int:
        return round(self.size_px * self.style.line_spacing)

    def fits(self, lines: int = 1) -> bool:
        return self.y + lines * self.step <= self.bottom

    def text_at(self, x: float, text: str, face: ImageFont.FreeTypeFont) -> tuple[int, int, int, int]:
        self.draw.text((x, self.y), text, font=face, fill=INK)
        return tuple(round(v) for v in self.draw.textbbox((x, self.y), text, font=face))  # type: ignore[return-value]

    def line(self, item: str | Line, *, x0: int | None = None, x1: int | None = None) -> None:
        """Draw one line (wrapped when wider than the text block) and record it."""
        item = item if isinstance(item, Line) else Line(item)
        x0 = self.left if x0 is None else x0
        x1 = self.right if x1 is None else x1
        face = self.font(item.bold, item.scale)
        step = round(self.step * item.scale)
        if not item.text.strip():
            self.y += step
            return
        for text in wrap(item.text, face, x1 - x0, self.draw):
            width = self.draw.textlength(text, font=face)
            x = {"center": (x0 + x1 - width) / 2, "right": x1 - width}.get(item.align, x0)
            self.boxes.append(self.text_at(x, text, face))
            self.lines.append(text)
            self.y += step

    def paragraph(self, text: str, *, x0: int | None = None, x1: int | None = None, indent_mm: float = 10) -> None:
        x0 = self.left if x0 is None else x0
        x1 = self.right if x1 is None else x1
        face = self.font()
        first = True
        words = text.split()
        while words and self.fits():
            start = x0 + (self.mm(indent_mm) if first else 0)
            taken = take_words(words, face, x1 - start, self.draw)
            text_line = " ".join(words[:taken])
            words = words[taken:]
            self.boxes.append(self.text_at(start, text_line, face))
            self.lines.append(text_line)
            self.y += self.step
            first = False

    def page(self, upright_turn_cw: int = 0) -> Page:
        return Page(self.image, "\n".join(self.lines), self.style.dpi, upright_turn_cw)


def take_words(words: Sequence[str], face: ImageFont.FreeTypeFont, width: float, draw: ImageDraw.ImageDraw) -> int:
    """How many of ``words`` fit on a line ``width`` px wide (at least one)."""
    count = 1
    while count < len(words) and draw.textlength(" ".join(words[: count + 1]), font=face) <= width:
        count += 1
    return count


def wrap(text: str, face: ImageFont.FreeTypeFont, width: float, draw: ImageDraw.ImageDraw) -> list[str]:
    words = text.split()
    out = []
    while words:
        taken = take_words(words, face, width, draw)
        out.append(" ".join(words[:taken]))
        words = words[taken:]
    return out


def rule(canvas: Canvas, xy: tuple[int, int, int, int], width_mm: float = 0.3) -> None:
    canvas.draw.line(xy, fill=INK, width=max(1, canvas.mm(width_mm)))


# --- scanner and camera ------------------------------------------------------------------------------


def scan(page: Page, rng: random.Random, *, skew: tuple[float, float] = (1.0, 2.0), **kwargs: float) -> Page:
    """Degrade like a flatbed scan: ``skew`` degrees (random sign), light blur and noise."""
    spec = Degradation(
        skew_deg=round(rng.choice((-1, 1)) * rng.uniform(*skew), 2),
        blur=kwargs.get("blur", rng.choice((0.0, 0.3, 0.5))),
        noise=kwargs.get("noise", rng.choice((2.0, 3.0, 5.0))),
        uneven_light=kwargs.get("uneven_light", rng.choice((0.0, 0.0, 0.06))),
    )
    image = degrade(page.image, spec, seed=rng.randrange(2**31))
    return Page(image, page.text, page.dpi, page.upright_turn_cw, spec.skew_deg)


def turn(page: Page, stored_cw: int) -> Page:
    """Store the page turned ``stored_cw`` degrees clockwise (a page fed sideways or upside down)."""
    method = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_90}
    return Page(page.image.transpose(method[stored_cw]), page.text, page.dpi, (360 - stored_cw) % 360, page.skew_deg)


def _perspective_coeffs(dst: Sequence[tuple[float, float]], src: Sequence[tuple[float, float]]) -> list[float]:
    """Coefficients for ``Image.transform(PERSPECTIVE)``: maps output points ``dst`` to input points ``src``."""
    rows = []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    solution = np.linalg.solve(np.asarray(rows, float), np.asarray([c for p in src for c in p], float))
    return [float(v) for v in solution]


def phone_photo(page: Page, rng: random.Random) -> Page:
    """The page lying on a desk, photographed from above at a slant: the whole page in frame, 3–6° tilt,
    perspective, warm light, a soft shadow across part of the page, lens blur, sensor noise."""
    width, height = rng.choice(((2448, 3264), (3024, 4032), (2250, 3000)))
    src = page.image
    fill = rng.uniform(0.78, 0.9)  # page height over photo height
    ph = fill * height
    pw = ph * src.width / src.height
    cx, cy = width / 2 + rng.uniform(-0.03, 0.03) * width, height / 2 + rng.uniform(-0.02, 0.02) * height
    tilt = math.radians(rng.choice((-1, 1)) * rng.uniform(3, 6))
    keystone = rng.uniform(0.02, 0.06) * pw  # the far edge looks narrower
    corners = [(-pw / 2 + keystone, -ph / 2), (pw / 2 - keystone, -ph / 2), (pw / 2, ph / 2), (-pw / 2, ph / 2)]
    if rng.random() < 0.5:  # camera leaning the other way: near edge at the top
        corners = [(-pw / 2, -ph / 2), (pw / 2, -ph / 2), (pw / 2 - keystone, ph / 2), (-pw / 2 + keystone, ph / 2)]
    jitter = 0.01 * pw
    dst = [
        (
            cx + x * math.cos(tilt) - y * math.sin(tilt) + rng.uniform(-jitter, jitter),
            cy + x * math.sin(tilt) + y * math.cos(tilt) + rng.uniform(-jitter, jitter),
        )
        for x, y in corners
    ]
    coeffs = _perspective_coeffs(dst, [(0, 0), (src.width, 0), (src.width, src.height), (0, src.height)])
    warped = src.transform((width, height), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BICUBIC)
    mask = Image.new("L", src.size, 255).transform(
        (width, height), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BILINEAR
    )
    np_rng = np.random.default_rng(rng.randrange(2**31))
    desk_rgb = np.asarray(rng.choice(((120, 86, 60), (150, 115, 80), (90, 92, 98), (60, 55, 50))), np.float32)
    low = Image.fromarray(np.clip(128 + np_rng.normal(0, 30, (height // 8, width // 8)), 0, 255).astype(np.uint8))
    grain = low.resize((width, height), Image.Resampling.BILINEAR).filter(ImageFilter.BoxBlur(6))
    texture = np.asarray(grain, np.float32) - 128
    desk = np.clip(desk_rgb[None, None, :] + texture[..., None], 0, 255)
    alpha = np.asarray(mask, np.float32)[..., None] / 255.0
    photo = np.asarray(warped, np.float32) * alpha + desk * (1 - alpha)
    # Warm light falling off from one corner, and a soft shadow (a hand or the phone) over part of the page.
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    lx, ly = rng.uniform(0, width), rng.uniform(0, height * 0.4)
    falloff = 1.0 - rng.uniform(0.12, 0.25) * np.hypot(xx - lx, yy - ly) / math.hypot(width, height)
    shadow = Image.new("L", (width, height), 0)
    edge = rng.choice(("left", "right", "bottom"))
    reach = rng.uniform(0.2, 0.4)
    if edge == "left":
        polygon = [(0, height * 0.3), (width * reach, height * 0.45), (width * reach * 0.8, height), (0, height)]
    elif edge == "right":
        polygon = [(width, height * 0.25), (width * (1 - reach), height * 0.5), (width * (1 - reach), height)]
        polygon.append((width, height))
    else:
        polygon = [(0, height * (1 - reach)), (width * 0.6, height * (1 - reach * 0.6)), (width * 0.7, height)]
        polygon.append((0, height))
    ImageDraw.Draw(shadow).polygon(polygon, fill=255)
    shadow = shadow.filter(ImageFilter.GaussianBlur(width / 40))
    depth = rng.uniform(0.3, 0.45)
    light = falloff * (1.0 - depth * np.asarray(shadow, np.float32) / 255.0)
    warm = np.asarray((1.0, rng.uniform(0.88, 0.93), rng.uniform(0.72, 0.8)), np.float32)
    photo = photo * light[..., None] * warm[None, None, :] * rng.uniform(0.92, 1.0)
    photo = photo + np_rng.normal(0, rng.uniform(3, 6), photo.shape).astype(np.float32)
    image = Image.fromarray(np.clip(photo, 0, 255).astype(np.uint8), "RGB")
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.0)))
    return Page(image, page.text, None, 0)


# --- seals and signatures ------------------------------------------------------------------------------


def _multiply(base: Image.Image, ink: Image.Image) -> Image.Image:
    """Ink printed over the page: the darker of both per channel, like real overprinted ink."""
    a = np.asarray(base, np.float32)
    b = np.asarray(ink, np.float32)
    return Image.fromarray(np.clip(a * b / 255.0, 0, 255).astype(np.uint8), "RGB")


def red_seal(canvas: Canvas, centre: tuple[int, int], ring_text: str, rng: random.Random) -> None:
    """A round red seal (two rings, the issuing body's name round the ring, a star) over the page."""
    dpi = canvas.style.dpi
    radius = round(rng.uniform(17, 20) / 25.4 * dpi)
    colour = (rng.randint(200, 235), rng.randint(20, 60), rng.randint(30, 70))
    ink = Image.new("RGB", canvas.image.size, (255, 255, 255))
    draw = ImageDraw.Draw(ink)
    cx, cy = centre
    thick = max(2, round(0.9 / 25.4 * dpi))
    for r, w in ((radius, thick), (round(radius * 0.68), max(1, thick // 2))):
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=colour, width=w)
    # Ring text: letters standing on the ring, read clockwise from the left.
    face = ImageFont.truetype(str(FACES["dejavu-sans"][1]), max(8, round(radius * 0.17)))
    text = f"{ring_text} ★ "
    mid = radius * 0.84
    span = 2 * math.pi * 0.92
    for i, ch in enumerate(text):
        angle = -math.pi + 0.15 + span * i / len(text)
        glyph = Image.new("L", (face.size * 2, face.size * 2), 0)
        ImageDraw.Draw(glyph).text((face.size, face.size), ch, font=face, fill=255, anchor="mm")
        glyph = glyph.rotate(-math.degrees(angle) - 90, resample=Image.Resampling.BICUBIC)
        gx = round(cx + mid * math.cos(angle) - glyph.width / 2)
        gy = round(cy + mid * math.sin(angle) - glyph.height / 2)
        ink.paste(Image.new("RGB", glyph.size, colour), (gx, gy), glyph)
    star = [
        (
            cx + (radius * (0.28 if k % 2 == 0 else 0.11)) * math.sin(math.pi * k / 5),
            cy - (radius * (0.28 if k % 2 == 0 else 0.11)) * math.cos(math.pi * k / 5),
        )
        for k in range(10)
    ]
    draw.polygon(star, fill=colour)
    # Uneven stamping: some of the ink did not take.
    np_rng = np.random.default_rng(rng.randrange(2**31))
    arr = np.asarray(ink, np.float32)
    patchy = np.asarray(
        Image.fromarray(
            np_rng.uniform(0.55, 1.0, (ink.height // 16 + 1, ink.width // 16 + 1)).astype(np.float32)
        ).resize(ink.size, Image.Resampling.BILINEAR),
        np.float32,
    )
    arr = 255 - (255 - arr) * patchy[..., None]
    canvas.image = _multiply(canvas.image, Image.fromarray(arr.astype(np.uint8), "RGB"))
    canvas.draw = ImageDraw.Draw(canvas.image)


def blue_signature(canvas: Canvas, box: tuple[int, int, int, int], rng: random.Random) -> None:
    """A ballpoint signature: a few looping strokes across ``box`` in blue ink."""
    x0, y0, x1, y1 = box
    colour = (rng.randint(15, 50), rng.randint(40, 90), rng.randint(150, 210))
    ink = Image.new("RGB", canvas.image.size, (255, 255, 255))
    draw = ImageDraw.Draw(ink)
    width = max(2, round(rng.uniform(0.4, 0.7) / 25.4 * canvas.style.dpi))
    for _ in range(rng.randint(1, 2)):
        points = []
        loops = rng.randint(3, 6)
        phase = rng.uniform(0, math.pi)
        for k in range(160):
            t = k / 159
            x = x0 + (x1 - x0) * t + (y1 - y0) * 0.25 * math.sin(2 * math.pi * loops * t + phase)
            y = (y0 + y1) / 2 + (y1 - y0) * 0.45 * math.cos(2 * math.pi * loops * t) * (1 - 0.5 * t)
            points.append((x, y + (y1 - y0) * 0.15 * math.sin(3 * t)))
        draw.line(points, fill=colour, width=width, joint="curve")
    draw.line([(x0, y1), (x1, y1 - (y1 - y0) * 0.2)], fill=colour, width=width)
    canvas.image = _multiply(canvas.image, ink)
    canvas.draw = ImageDraw.Draw(canvas.image)


# --- ids and parties ---------------------------------------------------------------------------------

ID_PATTERN = re.compile(r"(?<!\d)\d{12}(?!\d)")
ID_LABELS = (
    "Số định danh cá nhân:",
    "Số CCCD:",
    "Căn cước công dân số:",
    "Số định danh:",
    "CCCD/Số định danh cá nhân:",
)


def parties_in(text: str, cast: templates.Cast) -> list[Party]:
    """The people of a one-person template whose number appears in ``text`` (role "")."""
    people = (cast.father, cast.mother, cast.child)
    return [Party("", p["id"], p["name"]) for p in people if p["id"] in ID_PATTERN.findall(text)]


# --- page contents -------------------------------------------------------------------------------------

DOCUMENT_TYPES = (
    "application_form",
    "birth_certificate",
    "residence_confirmation",
    "marriage_certificate",
    "power_of_attorney",
    "contract",
    "land_use_certificate",
    "diploma",
)


def document_page(rng: random.Random, style: Style, doc_type: str | None = None) -> tuple[Page, str, list[Party]]:
    """One page of a document template (random type among the A4 ones), laid out in ``style``."""
    doc_type = doc_type or rng.choice(DOCUMENT_TYPES)
    cast = random_cast(rng)
    canvas = Canvas(style)
    for item in templates.TEMPLATES[doc_type](cast):  # type: ignore[call-arg]
        canvas.line(item)
    page = canvas.page()
    return page, doc_type, parties_in(page.text, cast)


def prose_page(rng: random.Random, style: Style, *, heading: bool | None = None) -> Page:
    canvas = Canvas(style)
    if heading if heading is not None else rng.random() < 0.5:
        canvas.line(Line(prose.title(rng), "center", bold=True, scale=1.15))
        canvas.line("")
    deck = prose.Deck(rng)
    while canvas.fits(3):
        canvas.paragraph(prose.paragraph(rng, deck=deck), indent_mm=rng.choice((0, 8, 12)))
    return canvas.page()


def clean(rng: random.Random, variant: int = 0) -> Sample:
    """The held-out pages' shape: 200 dpi A4 prose, 1–2° skew, a clean flatbed scan."""
    style = Style.random(rng)
    page = scan(prose_page(rng, style), rng)
    return Sample("clean", [page], None, tags={"face": style.face, "pt": str(style.font_pt)})


def photo(rng: random.Random, variant: int = 0) -> Sample:
    style = Style.random(rng, dpi=rng.choice((220, 240, 260)))
    if rng.random() < 0.5:
        # A document set wide (large type, loose lines) so that its text reaches the lower part of the
        # page, where a cropped or badly unwarped photo loses it.
        style.font_pt, style.line_spacing = rng.uniform(13, 15), rng.uniform(1.9, 2.5)
        page, doc_type, parties = document_page(rng, style)
    else:
        page, doc_type, parties = prose_page(rng, style), None, []
    return Sample("photo", [phone_photo(page, rng)], doc_type, parties, tags={"face": style.face}, jpeg_quality=88)


SIGNERS = (
    ("TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"),
    ("TRƯỞNG CÔNG AN PHƯỜNG", ""),
    ("KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"),
    ("CÔNG CHỨNG VIÊN", ""),
)


def seal(rng: random.Random, variant: int = 0) -> Sample:
    """A certificate or confirmation with its signer block; the seal and signature cover the last lines."""
    style = Style.random(rng, dpi=rng.choice((200, 300)))
    doc_type = rng.choice(("birth_certificate", "residence_confirmation", "application_form", "land_use_certificate"))
    cast = random_cast(rng)
    canvas = Canvas(style)
    lines = list(templates.TEMPLATES[doc_type](cast))  # type: ignore[call-arg]
    while lines and lines[-1].align == "right":  # the template's own signer block: ours replaces it
        lines.pop()
    for item in lines:
        canvas.line(item)
    extra = (
        f"Giấy này có giá trị sử dụng trong thời hạn {rng.randint(3, 12)} tháng kể từ ngày ký.",
        f"Mọi thắc mắc xin liên hệ bộ phận một cửa phường {cast.ward} trong giờ hành chính.",
    )
    for text in extra[: rng.randint(1, 2)]:
        canvas.line(text)
    first_lower = len(canvas.lines) - 2
    title, subtitle = rng.choice(SIGNERS)
    signer_x0 = canvas.left + (canvas.right - canvas.left) // 2
    canvas.line(Line(f"{cast.city}, ngày {cast.day} tháng {cast.month} năm {cast.year}", "center"), x0=signer_x0)
    canvas.line(Line(title, "center", bold=True), x0=signer_x0)
    if subtitle:
        canvas.line(Line(subtitle, "center", bold=True), x0=signer_x0)
    sign_top = canvas.y
    canvas.y += 3 * canvas.step
    signer = person(rng, "001", rng.randint(1965, 1985), female=rng.random() < 0.5)["name"]
    canvas.line(Line(signer, "center", bold=True), x0=signer_x0)
    blue_signature(
        canvas, (signer_x0 + canvas.mm(15), sign_top - canvas.mm(2), canvas.right - canvas.mm(15), canvas.y), rng
    )
    # The seal straddles the signer block and the last body lines, as stamped by the signing officer.
    lower = canvas.boxes[first_lower]
    cx = signer_x0 + round(rng.uniform(0.05, 0.35) * (canvas.right - signer_x0))
    cy = round((lower[1] + sign_top) / 2 + rng.uniform(0, 2) * canvas.step)
    ring = f"ỦY BAN NHÂN DÂN PHƯỜNG {cast.ward.upper()}"
    red_seal(canvas, (cx, cy), ring, rng)
    page = scan(canvas.page(), rng)
    return Sample("seal", [page], doc_type, parties_in(page.text, cast), tags={"face": style.face})


TABLE_FORMS = (
    ("TỜ KHAI ĐĂNG KÝ KHAI SINH", "application_form"),
    ("PHIẾU YÊU CẦU CẤP BẢN SAO TRÍCH LỤC HỘ TỊCH", "application_form"),
    ("ĐƠN ĐỀ NGHỊ CẤP GIẤY XÁC NHẬN TÌNH TRẠNG HÔN NHÂN", "application_form"),
)


def table(rng: random.Random, variant: int = 0) -> Sample:
    """A ruled-table form filled in the top part of an upright page; the rest of the page is blank."""
    style = Style.random(rng, dpi=rng.choice((200, 300)), font_pt=(11, 12.5))
    cast = random_cast(rng)
    title, doc_type = rng.choice(TABLE_FORMS)
    canvas = Canvas(style)
    for item in templates.MOTTO:
        canvas.line(item)
    canvas.line(Line(title, "center", bold=True, scale=1.1))
    canvas.line(Line(f"Kính gửi: Ủy ban nhân dân phường {cast.ward}", "center"))
    rows = [
        ("Họ, chữ đệm, tên người yêu cầu", cast.father["name"]),
        ("Ngày, tháng, năm sinh", cast.father["dob"]),
        ("Số định danh cá nhân", cast.father["id"]),
        ("Nơi cư trú", f"{cast.street}, phường {cast.ward}"),
        ("Quan hệ với người được cấp", rng.choice(("Cha", "Mẹ", "Bản thân"))),
        ("Họ, chữ đệm, tên người được cấp", cast.child["name"]),
        ("Số lượng bản sao yêu cầu", f"{rng.randint(1, 5)} bản"),
    ]
    rows = rows[: rng.randint(5, len(rows))]
    split = canvas.left + round((canvas.right - canvas.left) * rng.uniform(0.42, 0.5))
    pad = canvas.mm(2)
    top = canvas.y
    row_h = round(canvas.step * 1.25)
    face = canvas.font()
    rule(canvas, (canvas.left, top, canvas.right, top))
    for label, value in rows:
        y = canvas.y
        canvas.y = y + (row_h - canvas.size_px) // 2 - canvas.mm(0.5)
        canvas.boxes.append(canvas.text_at(canvas.left + pad, label, face))
        canvas.text_at(split + pad, value, face)
        canvas.lines.append(f"{label} {value}")
        canvas.y = y + row_h
        rule(canvas, (canvas.left, canvas.y, canvas.right, canvas.y))
    for x in (canvas.left, split, canvas.right):
        rule(canvas, (x, top, x, canvas.y))
    canvas.y += canvas.step
    canvas.line(Line(f"{cast.city}, ngày {cast.day} tháng {cast.month} năm {cast.year}", "right"))
    canvas.line(Line("Người yêu cầu", "right", bold=True))
    page = scan(canvas.page(), rng, skew=(0.0, 1.0))
    return Sample("table", [page], doc_type, parties_in(page.text, cast), tags={"face": style.face})


NOTICES = (
    (
        "THÔNG BÁO",
        "Về việc tạm ngừng cung cấp điện",
        "Để bảo dưỡng đường dây, điện lực khu vực tạm ngừng cung cấp điện từ {h} giờ đến {h2} giờ ngày {d}/{m}.",
        "Khu vực bị ảnh hưởng gồm các tổ dân phố số {n} và số {n2}. Mong bà con thông cảm.",
    ),
    (
        "GIẤY MỜI",
        "Họp tổ dân phố quý {q}",
        "Ban điều hành tổ dân phố số {n} trân trọng kính mời ông (bà) đến dự cuộc họp vào lúc {h} giờ ngày {d}/{m}.",
        "Địa điểm: nhà văn hóa khu dân cư. Nội dung: tổng kết công tác quý và bàn kế hoạch vệ sinh môi trường.",
    ),
    (
        "THÔNG BÁO",
        "Lịch tiêm chủng mở rộng tháng {m}",
        "Trạm y tế phường tổ chức tiêm chủng cho trẻ em dưới 5 tuổi vào các ngày {d} và {d2} tháng {m}.",
        "Phụ huynh mang theo sổ tiêm chủng của trẻ. Thời gian: sáng từ 7 giờ 30 đến 11 giờ.",
    ),
    (
        "THÔNG BÁO",
        "Về việc tiếp nhận hồ sơ trực tuyến",
        "Từ ngày {d}/{m}, bộ phận một cửa tiếp nhận hồ sơ đăng ký khai sinh, đăng ký kết hôn qua "
        "cổng dịch vụ công trực tuyến.",
        "Người dân có thể nộp hồ sơ, theo dõi tiến độ và nhận kết quả tại nhà mà không phải đến trụ sở.",
    ),
    (
        "THƯ MỜI",
        "Dự lễ khai giảng năm học mới",
        "Ban giám hiệu trường tiểu học trân trọng kính mời quý phụ huynh dự lễ khai giảng lúc {h} giờ ngày {d}/9.",
        "Học sinh có mặt trước giờ khai mạc ba mươi phút, mặc đồng phục và đeo khăn quàng đỏ.",
    ),
    (
        "THÔNG BÁO",
        "Thu gom rác thải cồng kềnh",
        "Công ty môi trường đô thị tổ chức thu gom rác thải cồng kềnh miễn phí vào ngày {d}/{m}.",
        "Các hộ gia đình để đồ cần bỏ trước cổng từ 18 giờ ngày hôm trước; không để lấn chiếm lòng đường.",
    ),
    (
        "THÔNG BÁO",
        "Kết quả giải quyết thủ tục hành chính quý {q}",
        "Trong quý {q}, bộ phận tiếp nhận đã giải quyết {big} hồ sơ, trong đó có hồ sơ đăng ký khai sinh, "
        "chứng thực và xác nhận cư trú.",
        "Tỷ lệ hồ sơ giải quyết đúng hạn đạt {pct} phần trăm. Ủy ban cảm ơn sự phối hợp của người dân.",
    ),
)


def notice_lines(rng: random.Random) -> list[Line]:
    """A short announcement or invitation: a type the digitizer does not know (``other``)."""
    head, subject, *body = rng.choice(NOTICES)
    values = {
        "h": rng.randint(7, 14),
        "h2": rng.randint(15, 18),
        "d": rng.randint(1, 14),
        "d2": rng.randint(15, 28),
        "m": rng.randint(1, 12),
        "n": rng.randint(1, 12),
        "n2": rng.randint(13, 25),
        "q": rng.choice(("I", "II", "III", "IV")),
        "big": rng.randint(300, 2500),
        "pct": rng.randint(90, 99),
    }
    ward = rng.choice(prose.WARDS)
    lines = [Line(f"ỦY BAN NHÂN DÂN PHƯỜNG {ward.upper()}")] if rng.random() < 0.6 else []
    lines += [*templates.MOTTO, Line(head, "center", bold=True, scale=1.2), Line(subject.format(**values), "center")]
    lines += [Line(""), *(Line(text.format(**values)) for text in body)]
    if rng.random() < 0.5:
        lines.append(Line(prose.sentence(rng)))
    lines += [Line(""), Line(f"Phường {ward}, ngày {values['d']} tháng {values['m']} năm 2025", "right")]
    return lines


def notice_page(rng: random.Random, style: Style) -> Page:
    canvas = Canvas(style)
    for item in notice_lines(rng):
        canvas.line(item)
    return canvas.page()


def top_heavy(rng: random.Random, variant: int = 0) -> Sample:
    """An upright page whose text sits in its top part: a short notice or a short certificate."""
    style = Style.random(rng, dpi=rng.choice((200, 300)))
    if rng.random() < 0.5:
        page, doc_type, parties = notice_page(rng, style), "other", []
    else:
        page, doc_type, parties = document_page(rng, style, rng.choice(("residence_confirmation", "diploma")))
    return Sample("top_heavy", [scan(page, rng, skew=(0.0, 1.5))], doc_type, parties, tags={"face": style.face})


def rotated(rng: random.Random, variant: int = 0) -> Sample:
    style = Style.random(rng, dpi=rng.choice((200, 300)))
    if rng.random() < 0.6:
        page, doc_type, parties = document_page(rng, style)
    else:
        page, doc_type, parties = prose_page(rng, style), None, []
    stored = (180, 90, 180, 270)[variant % 4]
    page = turn(scan(page, rng, skew=(0.0, 2.0)), stored)
    return Sample("rotated", [page], doc_type, parties, tags={"face": style.face, "stored_cw": str(stored)})


def lowres(rng: random.Random, variant: int = 0) -> Sample:
    style = Style.random(rng, dpi=150, font_pt=(11.5, 13.5))
    if rng.random() < 0.5:
        page, doc_type, parties = document_page(rng, style)
    else:
        page, doc_type, parties = prose_page(rng, style), None, []
    page = scan(page, rng, skew=(0.5, 2.0), blur=rng.choice((0.3, 0.5)))
    quality = rng.randint(25, 40)
    return Sample("lowres", [page], doc_type, parties, tags={"face": style.face}, jpeg_quality=quality)


def two_column(rng: random.Random, variant: int = 0) -> Sample:
    """A bulletin: a title across the page, then two columns of prose read left column first."""
    style = Style.random(rng, dpi=200, font_pt=(10, 11.5))
    canvas = Canvas(style)
    canvas.line(Line(prose.title(rng), "center", bold=True, scale=1.3))
    canvas.line("")
    gap = canvas.mm(rng.uniform(7, 12))
    middle = (canvas.left + canvas.right) // 2
    top = canvas.y
    deck = prose.Deck(rng)
    for x0, x1 in ((canvas.left, middle - gap // 2), (middle + gap // 2, canvas.right)):
        canvas.y = top
        while canvas.fits(3):
            canvas.paragraph(prose.paragraph(rng, (2, 4), deck), x0=x0, x1=x1, indent_mm=rng.choice((0, 6)))
    page = scan(canvas.page(), rng, skew=(0.5, 2.0))
    return Sample("two_column", [page], None, tags={"face": style.face})


def _bilevel(page: Page, rng: random.Random) -> Page:
    gray = page.image.convert("L")
    threshold = rng.randint(150, 185)
    return Page(gray.point(lambda v: 255 if v > threshold else 0).convert("1"), page.text, page.dpi, 0, page.skew_deg)


def tiff(rng: random.Random, variant: int = 0) -> Sample:
    """A 2–3 page fax-style scan: bilevel, CCITT G4, one file."""
    style = Style.random(rng, dpi=rng.choice((200, 300)))
    pages = [_bilevel(scan(prose_page(rng, style, heading=i == 0), rng, noise=2.0), rng) for i in range(3)]
    return Sample("tiff", pages[: rng.randint(2, 3)], None, container="tiff", tags={"face": style.face})


def pdf(rng: random.Random, variant: int = 0) -> Sample:
    """An image-only PDF (scanner "scan to PDF"): one document page, sometimes followed by a prose page."""
    style = Style.random(rng, dpi=rng.choice((200, 300)))
    page, doc_type, parties = document_page(rng, style)
    pages = [scan(page, rng)]
    if rng.random() < 0.4:
        pages.append(scan(prose_page(rng, style, heading=False), rng))
    return Sample("pdf", pages, doc_type, parties, container="pdf", tags={"face": style.face})


# --- two-party documents ---------------------------------------------------------------------------


def _id_line(rng: random.Random, number: str) -> str:
    return f"{rng.choice(ID_LABELS)} {number}"


def marriage_certificate(rng: random.Random, canvas: Canvas) -> list[Party]:
    cast = random_cast(rng)
    husband, wife = cast.father, cast.mother
    canvas.line(Line(f"ỦY BAN NHÂN DÂN PHƯỜNG {cast.ward.upper()}"))
    for item in templates.MOTTO:
        canvas.line(item)
    canvas.line(Line(rng.choice(("GIẤY CHỨNG NHẬN KẾT HÔN", "TRÍCH LỤC KẾT HÔN")), "center", bold=True, scale=1.3))
    canvas.line(Line(f"Số: {cast.number}/{cast.year}", "center"))
    canvas.line("")
    rows = [
        ("Họ, chữ đệm, tên:", husband["name"], wife["name"]),
        ("Ngày, tháng, năm sinh:", husband["dob"], wife["dob"]),
        ("Dân tộc:", "Kinh", rng.choice(("Kinh", "Tày", "Mường"))),
        ("Quốc tịch:", "Việt Nam", "Việt Nam"),
        ("Nơi cư trú:", f"phường {cast.ward}", f"phường {rng.choice(prose.WARDS)}"),
        ("Số định danh cá nhân:", husband["id"], wife["id"]),
    ]
    face = canvas.font()
    label_w = max(canvas.draw.textlength(r[0], font=face) for r in rows)
    col1 = canvas.left + round(label_w) + canvas.mm(5)
    col2 = col1 + (canvas.right - col1) // 2 + canvas.mm(2)
    bold = canvas.font(bold=True)
    canvas.boxes.append(canvas.text_at(col1, "Chồng", bold))
    canvas.text_at(col2, "Vợ", bold)
    canvas.lines.append("Chồng Vợ")
    canvas.y += canvas.step
    for label, a, b in rows:
        canvas.boxes.append(canvas.text_at(canvas.left, label, face))
        canvas.text_at(col1, a, face)
        canvas.text_at(col2, b, face)
        canvas.lines.append(f"{label} {a} {b}")
        canvas.y += canvas.step
    canvas.line("")
    canvas.line(f"Đăng ký kết hôn ngày {cast.day} tháng {cast.month} năm {cast.year}.")
    canvas.line(Line("Chồng ký tên          Vợ ký tên", "center"))
    return [Party("chồng", husband["id"], husband["name"]), Party("vợ", wife["id"], wife["name"])]


def marriage_stacked(rng: random.Random, canvas: Canvas) -> list[Party]:
    cast = random_cast(rng)
    for item in templates.marriage_certificate(cast):
        canvas.line(item)
    return [Party("chồng", cast.father["id"], cast.father["name"]), Party("vợ", cast.mother["id"], cast.mother["name"])]


def _party_block(rng: random.Random, canvas: Canvas, heading: str, who: dict[str, str], address: str) -> None:
    canvas.line(Line(heading, bold=True))
    canvas.line(f"{rng.choice(('Ông', 'Bà', 'Họ và tên:'))} {who['name']}     Sinh ngày: {who['dob']}")
    canvas.line(_id_line(rng, who["id"]))
    canvas.line(f"Địa chỉ thường trú: {address}")


def power_of_attorney(rng: random.Random, canvas: Canvas) -> list[Party]:
    cast = random_cast(rng)
    grantor, agent = (cast.mother, cast.father) if rng.random() < 0.5 else (cast.father, cast.mother)
    for item in templates.MOTTO:
        canvas.line(item)
    canvas.line(Line(rng.choice(("GIẤY ỦY QUYỀN", "HỢP ĐỒNG ỦY QUYỀN")), "center", bold=True, scale=1.3))
    canvas.line(Line(f"Hôm nay, ngày {cast.day} tháng {cast.month} năm {cast.year}, tại {cast.city}, chúng tôi gồm:"))
    address = f"{cast.street}, phường {cast.ward}, thành phố {cast.city}"
    _party_block(rng, canvas, "BÊN ỦY QUYỀN (Bên A):", grantor, address)
    _party_block(rng, canvas, "BÊN ĐƯỢC ỦY QUYỀN (Bên B):", agent, address)
    canvas.line("Nội dung ủy quyền: bên được ủy quyền thay mặt bên ủy quyền nộp hồ sơ và nhận kết quả.")
    canvas.line("Thời hạn ủy quyền: từ ngày ký đến khi hoàn thành công việc được ủy quyền.")
    canvas.line(Line("BÊN ỦY QUYỀN          BÊN ĐƯỢC ỦY QUYỀN", "center", bold=True))
    return [
        Party("bên ủy quyền", grantor["id"], grantor["name"]),
        Party("bên được ủy quyền", agent["id"], agent["name"]),
    ]


def contract_two_party(rng: random.Random, canvas: Canvas) -> list[Party]:
    cast = random_cast(rng)
    title, role_a, role_b = rng.choice(
        (
            ("HỢP ĐỒNG THUÊ NHÀ Ở", "BÊN CHO THUÊ", "BÊN THUÊ"),
            ("HỢP ĐỒNG MUA BÁN NHÀ Ở", "BÊN BÁN", "BÊN MUA"),
            ("HỢP ĐỒNG CHUYỂN NHƯỢNG QUYỀN SỬ DỤNG ĐẤT", "BÊN CHUYỂN NHƯỢNG", "BÊN NHẬN CHUYỂN NHƯỢNG"),
        )
    )
    for item in templates.MOTTO:
        canvas.line(item)
    canvas.line(Line(title, "center", bold=True, scale=1.2))
    canvas.line(Line(f"Số: {cast.number % 50 + 1}/{cast.year}/HĐ", "center"))
    canvas.line(f"Hôm nay, ngày {cast.day:02d} tháng {cast.month} năm {cast.year}, tại {cast.city}, chúng tôi gồm:")
    address = f"{cast.street}, phường {cast.ward}"
    # Bên A is sometimes a married couple: both sign, both are parties.
    side_a = [cast.father, cast.mother] if rng.random() < 0.35 else [cast.father]
    buyer = person(rng, cast.father["id"][:3], rng.randint(1970, 2000), female=rng.random() < 0.5)
    canvas.line(Line(f"{role_a} (Bên A):", bold=True))
    for who in side_a:
        canvas.line(f"{rng.choice(('Ông', 'Bà', 'Họ và tên:'))} {who['name']}     Sinh ngày: {who['dob']}")
        canvas.line(_id_line(rng, who["id"]))
    canvas.line(f"Địa chỉ: {address}")
    _party_block(rng, canvas, f"{role_b} (Bên B):", buyer, f"phường {rng.choice(prose.WARDS)}, {cast.city}")
    canvas.line("Hai bên thỏa thuận ký kết hợp đồng với các điều khoản sau:")
    canvas.line(f"Điều 1. Đối tượng của hợp đồng: {cast.street.lower()}, phường {cast.ward}.")
    canvas.line(f"Điều 2. Giá và phương thức thanh toán: {rng.randint(2, 90)}.000.000 đồng, trả bằng chuyển khoản.")
    canvas.line(Line("ĐẠI DIỆN BÊN A          ĐẠI DIỆN BÊN B", "center", bold=True))
    # The heading names each side twice ("BÊN BÁN (Bên A)"): either name is the right role.
    side_a_role, side_b_role = f"{role_a.lower()}|bên A", f"{role_b.lower()}|bên B"
    return [Party(side_a_role, w["id"], w["name"]) for w in side_a] + [Party(side_b_role, buyer["id"], buyer["name"])]


TWO_PARTY: dict[str, Callable[[random.Random, Canvas], list[Party]]] = {
    "marriage_certificate": marriage_certificate,
    "marriage_stacked": marriage_stacked,
    "power_of_attorney": power_of_attorney,
    "contract": contract_two_party,
}


def two_party(rng: random.Random, variant: int = 0) -> Sample:
    style = Style.random(rng, dpi=rng.choice((200, 300)), font_pt=(11, 13))
    kind = tuple(TWO_PARTY)[variant % len(TWO_PARTY)]
    canvas = Canvas(style)
    parties = TWO_PARTY[kind](rng, canvas)
    page = scan(canvas.page(), rng, skew=(0.0, 2.0))
    doc_type = "marriage_certificate" if kind.startswith("marriage") else kind
    return Sample("two_party", [page], doc_type, parties, tags={"face": style.face, "layout": kind})


def unfamiliar(rng: random.Random, variant: int = 0) -> Sample:
    style = Style.random(rng, dpi=rng.choice((200, 300)))
    page = scan(notice_page(rng, style), rng, skew=(0.0, 2.0))
    return Sample("unfamiliar", [page], "other", tags={"face": style.face})


GENERATORS: dict[str, Callable[[random.Random, int], Sample]] = {
    "clean": clean,
    "photo": photo,
    "seal": seal,
    "table": table,
    "top_heavy": top_heavy,
    "rotated": rotated,
    "lowres": lowres,
    "two_column": two_column,
    "tiff": tiff,
    "pdf": pdf,
    "two_party": two_party,
    "unfamiliar": unfamiliar,
}


def samples(category: str, count: int, seed: int = 0) -> list[Sample]:
    """``count`` samples of ``category``; the seed and the category together fix them. Categories with
    layouts or turns (two_party, rotated) cycle through them, starting at the seed."""
    rng = random.Random(f"{category}:{seed}")
    return [GENERATORS[category](rng, seed + index) for index in range(count)]


# --- files -----------------------------------------------------------------------------------------------


def _jpeg(page: Page, quality: int) -> bytes:
    buf = io.BytesIO()
    kwargs = {"dpi": (page.dpi, page.dpi)} if page.dpi else {}
    page.image.convert("RGB").save(buf, "JPEG", quality=quality, **kwargs)
    return buf.getvalue()


def write(sample: Sample, folder: Path, stem: str) -> list[Path]:
    """Store the sample as a counter would receive it; returns the component's files, in page order."""
    folder.mkdir(parents=True, exist_ok=True)
    if sample.container == "tiff":
        path = folder / f"{stem}.tif"
        first, *rest = (p.image.convert("1") for p in sample.pages)
        dpi = sample.pages[0].dpi or 200
        first.save(path, "TIFF", compression="group4", save_all=True, append_images=rest, dpi=(dpi, dpi))
        return [path]
    blobs = [_jpeg(page, sample.jpeg_quality) for page in sample.pages]
    if sample.container == "pdf":
        path = folder / f"{stem}.pdf"
        path.write_bytes(img2pdf.convert(blobs))
        return [path]
    paths = []
    for number, blob in enumerate(blobs, 1):
        path = folder / f"{stem}_p{number}.jpg"
        path.write_bytes(blob)
        paths.append(path)
    return paths


def as_pdf(files: Sequence[Path]) -> bytes:
    """The component as one PDF (what OCRmyPDF reads): images wrapped losslessly, a PDF as it is."""
    if len(files) == 1 and files[0].suffix == ".pdf":
        return files[0].read_bytes()
    # img2pdf assumes 96 dpi for a photo without resolution; OCRmyPDF reads the pixels either way.
    return img2pdf.convert([str(f) for f in files])


def ground_truth(sample: Sample, files: Sequence[Path]) -> dict[str, object]:
    return {
        "category": sample.category,
        "files": [f.name for f in files],
        "container": sample.container,
        "doc_type": sample.doc_type,
        "parties": [{"role": p.role, "id": p.id, "name": p.name} for p in sample.parties],
        "pages": [
            {"text": p.text, "upright_turn_cw": p.upright_turn_cw, "dpi": p.dpi, "skew_deg": p.skew_deg}
            for p in sample.pages
        ],
        "tags": sample.tags,
    }
