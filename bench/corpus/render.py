"""Render realistic Vietnamese administrative pages to images, with scanner-like degradations.

Reusable by benches and tests: ``render_page(lines, ...)`` returns the image and its ground-truth text.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_DIR = Path("/usr/share/fonts/truetype")
# The Debian Liberation fonts on our machines carry no Vietnamese glyphs (no U+1EA0..U+1EF9, no
# combining marks): text drawn with them loses its diacritics, so every face here is DejaVu.
FONTS: dict[str, tuple[Path, Path]] = {
    "serif": (FONT_DIR / "dejavu/DejaVuSerif.ttf", FONT_DIR / "dejavu/DejaVuSerif-Bold.ttf"),
    "serif-condensed": (
        FONT_DIR / "dejavu/DejaVuSerifCondensed.ttf",
        FONT_DIR / "dejavu/DejaVuSerifCondensed-Bold.ttf",
    ),
    "sans": (FONT_DIR / "dejavu/DejaVuSans.ttf", FONT_DIR / "dejavu/DejaVuSans-Bold.ttf"),
}
A4_MM = (210.0, 297.0)
CARD_MM = (85.6, 53.98)


@dataclass(frozen=True)
class Line:
    """One line of a page: text, alignment ("left", "center", "right"), weight and relative size."""

    text: str
    align: str = "left"
    bold: bool = False
    scale: float = 1.0


@dataclass(frozen=True)
class Degradation:
    skew_deg: float = 0.0
    blur: float = 0.0
    noise: float = 0.0
    jpeg_quality: int | None = None
    uneven_light: float = 0.0


@dataclass
class RenderedPage:
    image: Image.Image
    text: str
    dpi: int
    lines: list[str] = field(default_factory=list)


def _font(name: str, bold: bool, size_px: int) -> ImageFont.FreeTypeFont:
    regular, heavy = FONTS[name]
    return ImageFont.truetype(str(heavy if bold else regular), size_px)


def _as_line(item: str | Line) -> Line:
    return item if isinstance(item, Line) else Line(item)


def render_page(
    lines: Sequence[str | Line],
    *,
    font: str = "serif",
    dpi: int = 200,
    size_mm: tuple[float, float] = A4_MM,
    margin_mm: float = 20.0,
    font_pt: float = 13.0,
    line_spacing: float = 1.5,
    background: tuple[int, int, int] = (255, 255, 255),
    degradation: Degradation | None = None,
    seed: int = 0,
) -> RenderedPage:
    """Draw ``lines`` top to bottom on a page of ``size_mm`` at ``dpi`` and degrade it like a scan."""
    width = round(size_mm[0] / 25.4 * dpi)
    height = round(size_mm[1] / 25.4 * dpi)
    margin = round(margin_mm / 25.4 * dpi)
    image = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(image)
    y = margin
    texts: list[str] = []
    for item in map(_as_line, lines):
        size_px = max(8, round(font_pt * item.scale * dpi / 72))
        if item.text.strip():
            face = _font(font, item.bold, size_px)
            text_width = draw.textlength(item.text, font=face)
            if item.align == "center":
                x = (width - text_width) / 2
            elif item.align == "right":
                x = width - margin - text_width
            else:
                x = margin
            draw.text((x, y), item.text, font=face, fill=(20, 20, 25))
            texts.append(item.text)
        y += round(size_px * line_spacing)
    image = degrade(image, degradation or Degradation(), seed=seed, background=background)
    return RenderedPage(image=image, text="\n".join(texts), dpi=dpi, lines=texts)


def render_card(lines: Sequence[str | Line], *, degradation: Degradation | None, seed: int) -> RenderedPage:
    """An ID card (CCCD) side: sans print on its tinted stock, at card size and 300 dpi."""
    return render_page(
        lines,
        font="sans",
        dpi=300,
        size_mm=CARD_MM,
        margin_mm=4,
        font_pt=6.5,
        line_spacing=1.45,
        background=(232, 240, 236),
        degradation=degradation,
        seed=seed,
    )


def degrade(
    image: Image.Image,
    spec: Degradation,
    *,
    seed: int = 0,
    background: tuple[int, int, int] = (255, 255, 255),
) -> Image.Image:
    """Apply skew, blur, uneven light, noise and JPEG compression, in that order."""
    rng = np.random.default_rng(seed)
    if spec.skew_deg:
        image = image.rotate(spec.skew_deg, resample=Image.Resampling.BICUBIC, fillcolor=background)
    if spec.blur:
        image = image.filter(ImageFilter.GaussianBlur(spec.blur))
    if spec.uneven_light or spec.noise:
        arr = np.asarray(image, dtype=np.float32)
        if spec.uneven_light:
            h, w = arr.shape[:2]
            gx = np.linspace(1.0, 1.0 - spec.uneven_light, w, dtype=np.float32)
            gy = np.linspace(1.0 - spec.uneven_light / 2, 1.0, h, dtype=np.float32)
            arr = arr * (gy[:, None] * gx[None, :])[..., None]
        if spec.noise:
            arr = arr + rng.normal(0.0, spec.noise, arr.shape).astype(np.float32)
        image = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
    if spec.jpeg_quality:
        buf = io.BytesIO()
        image.save(buf, "JPEG", quality=spec.jpeg_quality)
        image = Image.open(io.BytesIO(buf.getvalue()))
        image.load()
    return image


def save_scan(page: RenderedPage, path: Path, *, quality: int = 80, exif_orientation: int | None = None) -> None:
    """Save as a JPEG with the page's dpi; with ``exif_orientation`` the pixels are stored turned so that
    a viewer honouring the EXIF tag shows the page upright (6: stored turned 90° counter-clockwise)."""
    image = page.image
    exif = Image.Exif()
    if exif_orientation is not None:
        undo = {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}
        image = image.transpose(undo[exif_orientation])
        exif[0x0112] = exif_orientation
    image.save(path, "JPEG", quality=quality, dpi=(page.dpi, page.dpi), exif=exif, optimize=True)
