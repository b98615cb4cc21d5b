"""Colour separation for OCR: red seals and blue pen signatures dropped, black print kept.

Vietnamese papers carry a red round seal (con dấu) and a blue signature over their last lines. In plain
luminance both are as dark as print, so the OCR engine reads the seal's ring and the pen's loops as
glyphs and cuts the lines under them. Coloured ink is a filter that passes at least one channel, black
print absorbs all three: on a ``(R, G, B)`` pixel the darkest channel measures the print, whatever ink lies
over it. So on strongly coloured pixels the OCR gray is the darkest channel divided by the darkest channel
of that ink alone (its typical value among the pixels of its hue), which maps bare seal or pen ink to paper
white while print under it stays dark, in proportion to its coverage. Neutral pixels keep their luminance.

Only the OCR copy changes; the stored page keeps its colour. Pages without coloured ink (gray scans,
black-on-white prints) are recognised from a strided sample and pay one grayscale conversion, as before.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageChops, ImageFilter

# Chroma (brightest minus darkest channel, 0-255). Black print, gray paper, scanner noise and JPEG stay
# under ~25 on the pages we see; seal and ballpoint inks are 100-200. Between LOW and HIGH a pixel is
# blended from its luminance to its ink-separated value.
CHROMA_LOW = 32
CHROMA_HIGH = 64
# A page is worth separating when this share of a strided sample is strongly coloured: a seal ring and
# a signature cover 0.3-1% of an A4 page; 1e-4 is about 25 sample pixels of a 200 dpi A4 page.
MIN_COLOUR_SHARE = 1e-4
SAMPLE_STEP = 4
# Ink darker than this (0-255, darkest channel) counts as print when telling whether the colour is the text.
DARK = 128


def _hue_sector(rgb: np.ndarray) -> np.ndarray:
    """The brightest channel per pixel: 0 for red and magenta-red inks, 2 for blue ones, 1 for green.

    Coarse on purpose: a seal's red has green and blue about equally dark, so a finer split by the
    darkest channel would scatter one ink over two sectors at the whim of scanner noise."""
    return rgb.argmax(axis=-1).astype(np.intp)


def _sample(image: Image.Image) -> np.ndarray:
    """Every ``SAMPLE_STEP``-th pixel in both directions, unblurred (a nearest-neighbour resize, in C)."""
    size = (max(1, image.width // SAMPLE_STEP), max(1, image.height // SAMPLE_STEP))
    return np.asarray(image.resize(size, Image.Resampling.NEAREST))


def _low_high(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Darkest and brightest channel per pixel (channel by channel: numpy reduces a length-3 axis slowly)."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return np.minimum(np.minimum(r, g), b), np.maximum(np.maximum(r, g), b)


def _sampled_chroma(image: Image.Image) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The strided sample of an RGB ``image`` with its darkest channel, brightest channel and chroma."""
    sample = _sample(image)
    low, high = _low_high(sample)
    return sample, low, high, high - low


def coloured_share(image: Image.Image) -> float:
    """Share of a strided sample of ``image`` whose pixels are strongly coloured (0.0 for gray images)."""
    if image.mode != "RGB":
        return 0.0
    chroma = _sampled_chroma(image)[3]
    return float(np.count_nonzero(chroma >= CHROMA_HIGH)) / max(1, chroma.size)


def ocr_gray(image: Image.Image) -> Image.Image:
    """Grayscale copy of ``image`` for OCR with coloured ink (seals, signatures) turned to paper white."""
    if image.mode != "RGB":
        return image.convert("L")
    sample, low, high, chroma = _sampled_chroma(image)
    strong = chroma >= CHROMA_HIGH
    count = int(np.count_nonzero(strong))
    if count < MIN_COLOUR_SHARE * chroma.size:
        return image.convert("L")
    # When the coloured ink outweighs the dark neutral print, the colour is the text (a page printed or
    # written in blue): nothing to drop.
    print_count = int(np.count_nonzero((chroma < CHROMA_LOW) & (high < DARK)))
    if count > print_count:
        return image.convert("L")
    # The darkest channel of each ink alone: the mode of its strongly coloured sample pixels. Fully inked
    # pixels pile up there; stroke edges spread evenly towards paper white and print under translucent ink
    # sits apart, darker, so neither a median nor a low percentile would do.
    sectors = _hue_sector(sample[strong])
    lows = low[strong]

    def mode(values: np.ndarray) -> float:
        hist = np.convolve(np.bincount(values, minlength=256), np.ones(9), mode="same")
        return max(8.0, float(np.argmax(hist)))

    everywhere = mode(lows)
    ink_low = np.array([mode(lows[sectors == k]) if np.any(sectors == k) else everywhere for k in range(3)])
    red, green, blue = image.split()
    low_image = ImageChops.darker(ImageChops.darker(red, green), blue)
    chroma_image = ImageChops.subtract(ImageChops.lighter(ImageChops.lighter(red, green), blue), low_image)
    # JPEG keeps colour at half resolution: a thin pen stroke's own pixels lose most of their chroma while
    # staying dark. A pixel counts as coloured by the strongest chroma in its 3x3 neighbourhood.
    spread = np.asarray(chroma_image.filter(ImageFilter.MaxFilter(3)))
    gray_image = image.convert("L")
    ys, xs = np.nonzero(spread >= CHROMA_LOW)
    if ys.size == 0:
        return gray_image
    pixels = np.stack([np.asarray(band)[ys, xs] for band in (red, green, blue)], axis=-1)
    lows = np.asarray(low_image)[ys, xs]
    separated = np.minimum(255.0, lows * (255.0 / ink_low[_hue_sector(pixels)]))
    weight = np.clip((spread[ys, xs].astype(np.float32) - CHROMA_LOW) / (CHROMA_HIGH - CHROMA_LOW), 0.0, 1.0)
    gray = np.array(gray_image)
    luminance = gray[ys, xs].astype(np.float32)
    # Separation only ever lightens: what it cannot explain as coloured ink stays as dark as it was.
    separated = np.maximum(separated, luminance)
    gray[ys, xs] = np.clip(luminance * (1.0 - weight) + separated * weight + 0.5, 0, 255).astype(np.uint8)
    return Image.fromarray(gray, "L")
