"""Phone photos of a page lying on a desk, made from rendered pages, with the page's text as ground truth.

What a citizen hands in from a phone: the page is a quadrilateral (perspective and a 3-6 degree turn), the
light is warm and uneven, a soft shadow crosses part of the page, the desk around it is darker and
textured, and the whole is JPEG-compressed. Every parameter is drawn from a range so that no single
photo shape is the one a detector is tuned to.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from bench.corpus import generate, templates
from bench.corpus.render import A4_MM, FONTS, Line, RenderedPage, render_page

MARGIN_MM = 20.0

Point = tuple[float, float]


@dataclass
class PagePhoto:
    image: Image.Image
    text: str
    lines: list[str]
    corners: list[Point]  # page corners in the photo: top-left, top-right, bottom-right, bottom-left
    params: dict[str, float]


def full_page_lines(rng: random.Random, *, font: str, font_pt: float, dpi: int, line_spacing: float) -> list[Line]:
    """Real administrative text filling an A4 page down to its bottom margin (lines that would run past
    the right margin are left out, so every line of the ground truth is on the page)."""
    cast = generate.random_cast(rng)
    names = [n for n in templates.TEMPLATES if n != "citizen_id_card"]
    rng.shuffle(names)
    width, height = (round(mm / 25.4 * dpi) for mm in A4_MM)
    margin = round(MARGIN_MM / 25.4 * dpi)
    lines: list[Line] = []
    y = margin
    for name in names * 2:
        for line in templates.TEMPLATES[name](cast):  # type: ignore[call-arg]
            size_px = max(8, round(font_pt * line.scale * dpi / 72))
            face = ImageFont.truetype(str(FONTS[font][int(line.bold)]), size_px)
            if not line.text.strip() or face.getlength(line.text) > width - 2 * margin:
                continue
            if y + size_px > height - margin:
                return lines
            lines.append(line)
            y += round(size_px * line_spacing)
    return lines


def _solve_perspective(src: list[Point], dst: list[Point]) -> list[float]:
    """Pillow PERSPECTIVE coefficients mapping output points ``dst`` to input points ``src``."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    return [float(c) for c in np.linalg.solve(np.array(rows, float), np.array(rhs, float))]


def _desk(size: tuple[int, int], rng: random.Random, light: bool = False) -> np.ndarray:
    """A darker textured surface: wood-like grain or a mottled plain top, RGB float array; with ``light``
    a pale laminate top only about 1.4 times darker than the paper."""
    w, h = size
    nrng = np.random.default_rng(rng.randrange(2**32))
    if light:
        grey = rng.uniform(150, 170)
        base = np.array([grey, grey * 0.97, grey * 0.92], np.float32)
    elif rng.random() < 0.6:
        base = np.array([rng.uniform(90, 150), rng.uniform(60, 105), rng.uniform(35, 75)], np.float32)
    else:
        grey = rng.uniform(55, 120)
        base = np.array([grey, grey * rng.uniform(0.95, 1.05), grey * rng.uniform(0.9, 1.1)], np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(-0.3, 0.3)
    along = yy * np.cos(angle) + xx * np.sin(angle)
    grain = np.sin(along / rng.uniform(6, 18) + 3 * np.sin(xx / rng.uniform(80, 200))) * rng.uniform(6, 16)
    mottle = np.asarray(
        Image.fromarray(nrng.normal(128, 40, (h // 16 + 1, w // 16 + 1)).clip(0, 255).astype(np.uint8)).resize(
            (w, h), Image.Resampling.BICUBIC
        ),
        np.float32,
    )
    shade = grain + (mottle - 128) * 0.25 + nrng.normal(0, 6, (h, w)).astype(np.float32)
    return np.clip(base[None, None, :] + shade[..., None], 0, 255)


def page_photo(
    page: RenderedPage, rng: random.Random, *, hard_shadow: bool = False, light_desk: bool = False
) -> PagePhoto:
    """Photograph ``page`` on a desk with a phone: see the module docstring for what varies.

    ``hard_shadow`` makes the shadow a deep (half the light) sharp-edged one over a side of the frame,
    ``light_desk`` a pale desk: harder shapes. The digitizer corrects the first on a desk of another
    colour than the paper; on a grey desk, and on a pale desk, it does not find the sheet yet (the photo
    is then read as it is), and these are kept here to measure that."""
    pw, ph = page.image.size
    turn = rng.choice((-1, 1)) * rng.uniform(3.0, 6.0)
    fill = rng.uniform(0.62, 0.82)  # share of the photo's height the page takes
    out_h = round(ph / fill)
    out_w = round(out_h * rng.uniform(0.72, 0.8))
    # The page rectangle, turned about the photo centre, then each corner pulled for perspective
    # (the far edge narrower: keystone) and jittered.
    cx, cy = out_w / 2 + rng.uniform(-0.03, 0.03) * out_w, out_h / 2 + rng.uniform(-0.03, 0.03) * out_h
    a = np.deg2rad(turn)
    keystone = rng.uniform(0.03, 0.09) * pw
    corners: list[Point] = []
    for i, (dx, dy) in enumerate(((-pw / 2, -ph / 2), (pw / 2, -ph / 2), (pw / 2, ph / 2), (-pw / 2, ph / 2))):
        dx += (keystone if i == 0 else -keystone if i == 1 else 0.0) + rng.uniform(-0.02, 0.02) * pw
        dy += rng.uniform(-0.02, 0.02) * ph
        corners.append((cx + dx * np.cos(a) - dy * np.sin(a), cy + dx * np.sin(a) + dy * np.cos(a)))
    coeffs = _solve_perspective([(0, 0), (pw, 0), (pw, ph), (0, ph)], corners)
    warped = page.image.convert("RGB").transform(
        (out_w, out_h), Image.Transform.PERSPECTIVE, coeffs, resample=Image.Resampling.BICUBIC
    )
    mask = Image.new("L", (out_w, out_h), 0)
    ImageDraw.Draw(mask).polygon(corners, fill=255)
    mask = mask.filter(ImageFilter.GaussianBlur(1.0))
    desk = Image.fromarray(_desk((out_w, out_h), rng, light_desk).astype(np.uint8), "RGB")
    photo = Image.composite(warped, desk, mask)

    # Light: warm cast, a broad falloff, and a soft shadow band (a hand or the phone) across the page.
    arr = np.asarray(photo, np.float32)
    yy, xx = np.mgrid[0:out_h, 0:out_w].astype(np.float32)
    warm = np.array([1.0, rng.uniform(0.86, 0.95), rng.uniform(0.68, 0.82)], np.float32)
    gx, gy = rng.uniform(-1, 1), rng.uniform(-1, 1)
    falloff = 1.0 - rng.uniform(0.08, 0.2) * ((xx / out_w - 0.5) * gx + (yy / out_h - 0.5) * gy + 0.5)
    shadow_depth = rng.uniform(0.25, 0.45)
    band_angle = rng.uniform(0, np.pi)
    nx, ny = np.cos(band_angle), np.sin(band_angle)
    offset = rng.uniform(-0.3, 0.3) * min(out_w, out_h)
    dist = (xx - out_w / 2) * nx + (yy - out_h / 2) * ny - offset
    half_width = rng.uniform(0.06, 0.16) * min(out_w, out_h)
    softness = rng.uniform(0.02, 0.06) * min(out_w, out_h)
    inside = 1.0 / (1.0 + np.exp((np.abs(dist) - half_width) / softness))
    if hard_shadow:
        shadow_depth = 0.5
        inside = 1.0 / (1.0 + np.exp(np.clip((0.15 * min(out_w, out_h) - dist) / 2.0, -50, 50)))  # sharp half-plane
    light = falloff * (1.0 - shadow_depth * inside)
    arr = arr * light[..., None] * warm[None, None, :]
    nrng = np.random.default_rng(rng.randrange(2**32))
    arr += nrng.normal(0, rng.uniform(2, 5), arr.shape).astype(np.float32)
    photo = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
    blur = rng.uniform(0.3, 0.8)
    photo = photo.filter(ImageFilter.GaussianBlur(blur))
    quality = rng.randint(75, 92)
    buf = io.BytesIO()
    photo.save(buf, "JPEG", quality=quality)
    photo = Image.open(io.BytesIO(buf.getvalue()))
    photo.load()
    params = {
        "turn_deg": turn,
        "fill": fill,
        "keystone": keystone / pw,
        "shadow": shadow_depth,
        "blur": blur,
        "quality": float(quality),
    }
    return PagePhoto(photo, page.text, list(page.lines), corners, params)


def make_page_photo(seed: int, *, dpi: int = 200, hard_shadow: bool = False, light_desk: bool = False) -> PagePhoto:
    """A full A4 page of Vietnamese text rendered at ``dpi`` and photographed on a desk."""
    rng = random.Random(seed)
    font = rng.choice(generate.FONTS)
    font_pt = rng.choice((11.0, 12.0, 13.0))
    spacing = rng.uniform(1.35, 1.6)
    lines = full_page_lines(rng, font=font, font_pt=font_pt, dpi=dpi, line_spacing=spacing)
    page = render_page(lines, font=font, dpi=dpi, margin_mm=MARGIN_MM, font_pt=font_pt, line_spacing=spacing, seed=seed)
    return page_photo(page, rng, hard_shadow=hard_shadow, light_desk=light_desk)
