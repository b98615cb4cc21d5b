"""Draw a red round agency seal as a transparent PNG (development stand-in for a scanned seal)."""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from signing.signers.fonts import find_font

SEAL_RED = (206, 17, 38, 255)
# 4 cm at 300 dpi.
SEAL_DIAMETER_PX = round(4 / 2.54 * 300)
SEAL_DPI = 300


def draw_round_seal(
    ring_text: str,
    out: Path,
    *,
    centre_text: str = "★",
    diameter_px: int = SEAL_DIAMETER_PX,
    dpi: int = SEAL_DPI,
) -> Path:
    """Write a round seal: double ring, ``ring_text`` around the top, a star in the middle."""
    size = diameter_px
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    outer = max(2, size // 60)
    draw.ellipse((outer, outer, size - outer, size - outer), outline=SEAL_RED, width=outer * 2)
    inner_margin = size // 5
    draw.ellipse(
        (inner_margin, inner_margin, size - inner_margin, size - inner_margin),
        outline=SEAL_RED,
        width=max(1, outer),
    )
    font = ImageFont.truetype(str(find_font(bold=True)), size=size // 11)
    _draw_ring_text(img, ring_text, font, radius=(size / 2 - outer * 2 + size / 2 - inner_margin) / 2)
    star_font = ImageFont.truetype(str(_star_font()), size=size // 4)
    draw.text((size / 2, size / 2), centre_text, font=star_font, fill=SEAL_RED, anchor="mm")
    out.parent.mkdir(parents=True, exist_ok=True)
    img.save(out, format="PNG", dpi=(dpi, dpi))
    return out


def _star_font() -> Path:
    dejavu = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    return dejavu if dejavu.is_file() else find_font(bold=True)


def _draw_ring_text(img: Image.Image, text: str, font: ImageFont.FreeTypeFont, radius: float) -> None:
    """Place ``text`` clockwise along the upper arc, centred on the top of the circle."""
    cx = cy = img.width / 2
    widths = [font.getlength(ch) for ch in text]
    spacing = font.size * 0.12
    total = sum(widths) + spacing * (len(text) - 1)
    # Arc length → angle; cap so long names wrap at most 300° around.
    sweep = min(total / radius, math.radians(300))
    scale = sweep / (total / radius)
    angle = -math.pi / 2 - sweep / 2
    glyph_box = int(font.size * 2)
    for ch, width in zip(text, widths, strict=True):
        step = (width * scale) / radius
        mid = angle + step / 2
        if ch.strip():
            glyph = Image.new("RGBA", (glyph_box, glyph_box), (0, 0, 0, 0))
            ImageDraw.Draw(glyph).text((glyph_box / 2, glyph_box / 2), ch, font=font, fill=SEAL_RED, anchor="mm")
            rotated = glyph.rotate(-math.degrees(mid + math.pi / 2), resample=Image.Resampling.BICUBIC)
            x = cx + radius * math.cos(mid) - glyph_box / 2
            y = cy + radius * math.sin(mid) - glyph_box / 2
            img.alpha_composite(rotated, (round(x), round(y)))
        angle += step + (spacing * scale) / radius
