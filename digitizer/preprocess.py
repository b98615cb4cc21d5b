"""Page geometry: quarter-turn orientation and skew estimated on a small binarised copy.

Everything is measured on a downscaled grayscale copy with numpy; the corrections are then
applied to the full-resolution colour image, so the stored page keeps 100% scale. The quarter turn comes
from ink-profile heuristics (ruled lines left out); when they want to turn the page or cannot tell,
Tesseract's OSD is asked and the page turns only when the evidence is clear (``orientation.decide``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter, ImageOps

from digitizer import orientation

log = logging.getLogger(__name__)

ANALYSIS_SIDE = 1200
MAX_SKEW_DEG = 10.0
MIN_CORRECTED_SKEW_DEG = 0.05
WHITE = (255, 255, 255)


@dataclass(frozen=True)
class Geometry:
    rotation: int
    skew_deg: float
    # A photographed card on a darker surface: its box in the deskewed canvas, as fractions.
    card_box: tuple[float, float, float, float] | None = None


def ink_mask(image: Image.Image, max_side: int = ANALYSIS_SIDE) -> np.ndarray:
    """Boolean mask of dark (ink) pixels on a copy no larger than ``max_side``, Otsu threshold."""
    gray = image.convert("L")
    scale = max_side / max(gray.size)
    if scale < 1:
        gray = gray.resize(
            (max(1, round(gray.width * scale)), max(1, round(gray.height * scale))), Image.Resampling.BOX
        )
    arr = np.asarray(gray, dtype=np.uint8)
    return arr < _otsu(arr)


def _otsu(arr: np.ndarray) -> int:
    hist = np.bincount(arr.ravel(), minlength=256).astype(np.float64)
    total = hist.sum()
    weights = np.cumsum(hist)
    means = np.cumsum(hist * np.arange(256))
    w0, w1 = weights, total - weights
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (means[-1] * w0 / total - means) ** 2 / (w0 * w1)
    between = np.nan_to_num(between)
    return int(np.argmax(between))


def _profile_score(ys: np.ndarray, xs: np.ndarray, angle_deg: float) -> float:
    """Sharpness of the row profile after undoing a skew of ``angle_deg`` (sum of squared row counts)."""
    a = np.deg2rad(angle_deg)
    rows = ys * np.cos(a) + xs * np.sin(a)
    rows = np.round(rows - rows.min()).astype(np.int64)
    counts = np.bincount(rows)
    return float(np.dot(counts, counts))


def _best_angle(ys: np.ndarray, xs: np.ndarray) -> tuple[float, float]:
    coarse = np.arange(-MAX_SKEW_DEG, MAX_SKEW_DEG + 1e-9, 0.5)
    scores = [_profile_score(ys, xs, a) for a in coarse]
    best = float(coarse[int(np.argmax(scores))])
    fine = np.arange(best - 0.5, best + 0.5 + 1e-9, 0.05)
    fine_scores = [_profile_score(ys, xs, a) for a in fine]
    i = int(np.argmax(fine_scores))
    return float(fine[i]), fine_scores[i]


def _points(mask: np.ndarray, limit: int = 200_000) -> tuple[np.ndarray, np.ndarray]:
    ys, xs = np.nonzero(mask)
    if ys.size > limit:
        step = ys.size // limit + 1
        ys, xs = ys[::step], xs[::step]
    return ys.astype(np.float64), xs.astype(np.float64)


def estimate_skew(mask: np.ndarray) -> float:
    """Skew of the text lines in degrees, counter-clockwise positive, within ±10°; 0.0 without ink."""
    ys, xs = _points(mask)
    if ys.size < 50:
        return 0.0
    return _best_angle(ys, xs)[0]


# A page whose text lines run vertically profiles this much sharper turned a quarter (as before OSD).
SIDEWAYS_RATIO = 1.25
# Ink below the x-height band over ink above it beyond which a page reads as upside down (as before OSD).
UPSIDE_DOWN_RATIO = 1.15
# Margins beyond which the heuristics count as clear evidence. Between 1/ratio and ratio they cannot tell
# and OSD is asked; below 1/ratio the page is taken as it is without OSD (the cheap path of clean pages).
CLEAR_MARGIN = 1.3
# Straight runs at least this fraction of the mask's longer side are ruled lines or table borders, not
# glyphs (15 mm on A4; a bold capital is under 8 mm wide at title size): left out of the orientation tests.
RULE_FRACTION = 1 / 20
# Fewer ink pixels than this on the analysis copy (a few short words) is no text to orient.
MIN_TEXT_PIXELS = 200


def sideways_ratio(mask: np.ndarray) -> float:
    """Sharpness of the row profile of the page turned a quarter over that of the page as it is."""
    ys, xs = _points(mask)
    if ys.size < MIN_TEXT_PIXELS:
        return 0.0
    upright = _best_angle(ys, xs)[1]
    turned = _best_angle(xs, ys)[1]
    return turned / upright if upright > 0 else 0.0


def upside_down_ratio(mask: np.ndarray) -> float:
    """Ink above and below the x-height band of each text line: below over above (1.0 without text).

    Latin script, and Vietnamese even more with its tone marks, has more ink above the
    core band (capitals, ascenders, diacritics) than below it (descenders).
    """
    rows = mask.sum(axis=1).astype(np.float64)
    if rows.max(initial=0) == 0:
        return 1.0
    in_text = rows > 0.02 * rows.max()
    above = below = 0.0
    start = None
    for y, flag in enumerate([*in_text.tolist(), False]):
        if flag and start is None:
            start = y
        elif not flag and start is not None:
            band = rows[start:y]
            if band.size >= 4:
                core = np.nonzero(band >= 0.5 * band.max())[0]
                above += band[: core[0]].sum()
                below += band[core[-1] + 1 :].sum()
            start = None
    # A difference under 1% of all ink is no evidence either way.
    if abs(below - above) <= 0.01 * rows.sum():
        return 1.0
    return below / above if above > 0 else float("inf")


def _long_runs(mask: np.ndarray, length: int) -> np.ndarray:
    """Pixels of ``mask`` lying on a horizontal run of at least ``length`` ink pixels."""
    w = mask.shape[1]
    candidates = np.nonzero(np.count_nonzero(mask, axis=1) >= length)[0]
    runs = np.zeros_like(mask)
    if length > w or candidates.size == 0:
        return runs
    rows = mask[candidates]
    sums = np.zeros((rows.shape[0], w + 1), dtype=np.int32)
    np.cumsum(rows, axis=1, out=sums[:, 1:])
    full = (sums[:, length:] - sums[:, :-length]) == length  # the window starting at each column is all ink
    starts = np.zeros((rows.shape[0], full.shape[1] + 1), dtype=np.int32)
    np.cumsum(full, axis=1, out=starts[:, 1:])
    # Column j lies on a full window when one starts in [j - length + 1, j]: two shifted views of the counts.
    upto = np.concatenate([starts[:, 1:], np.repeat(starts[:, -1:], length - 1, axis=1)], axis=1)
    before = np.concatenate([np.zeros((rows.shape[0], length - 1), dtype=np.int32), starts[:, :-1]], axis=1)
    runs[candidates] = upto > before
    return runs


def without_rules(mask: np.ndarray) -> np.ndarray:
    """``mask`` less its long horizontal and vertical straight runs (ruled lines, table borders, frames)."""
    length = max(8, round(max(mask.shape) * RULE_FRACTION))
    rules = _long_runs(mask, length) | _long_runs(np.ascontiguousarray(mask.T), length).T
    return mask & ~rules if rules.any() else mask


def _small_gray(image: Image.Image, max_side: int = 600) -> np.ndarray:
    gray = image.convert("L")
    gray.thumbnail((max_side, max_side), Image.Resampling.BOX)
    return np.asarray(gray, dtype=np.uint8)


def _card_mask(arr: np.ndarray) -> np.ndarray | None:
    """Bright card pixels when the picture is a photo of a card on a darker surface (dark border), else None."""
    h, w = arr.shape
    bh, bw = max(1, h // 20), max(1, w // 20)
    threshold = _otsu(arr)
    bright = arr > threshold
    border = np.concatenate(
        [bright[:bh].ravel(), bright[-bh:].ravel(), bright[:, :bw].ravel(), bright[:, -bw:].ravel()]
    )
    contrast = float(arr[bright].mean() - arr[~bright].mean()) if bright.any() and (~bright).any() else 0.0
    if border.mean() > 0.15 or not 0.15 < bright.mean() < 0.85 or contrast < 60:
        return None
    return bright


def find_card(image: Image.Image) -> tuple[float, tuple[float, float, float, float]] | None:
    """A photographed card: its tilt (counter-clockwise positive, from the principal axis of its bright
    area) and its box in the deskewed canvas as fractions (left, top, right, bottom); None otherwise."""
    arr = _small_gray(image)
    bright = _card_mask(arr)
    if bright is None:
        return None
    ys, xs = np.nonzero(bright)
    dx, dy = xs - xs.mean(), ys - ys.mean()
    angle = 0.5 * np.degrees(np.arctan2(2 * (dx * dy).mean(), (dx * dx).mean() - (dy * dy).mean()))
    if abs(angle) > 45:
        angle -= 90 * np.sign(angle)
    skew = float(-angle) if abs(angle) <= MAX_SKEW_DEG else 0.0
    h, w = arr.shape
    cw, ch = canvas_size((w, h), skew)
    a = np.deg2rad(skew)
    u, v = xs - w / 2.0, ys - h / 2.0
    cx = u * np.cos(a) - v * np.sin(a) + cw / 2.0
    cy = u * np.sin(a) + v * np.cos(a) + ch / 2.0
    left, right = np.percentile(cx, (0.5, 99.5))
    top, bottom = np.percentile(cy, (0.5, 99.5))
    pad = 0.01
    box = (max(0.0, left / cw - pad), max(0.0, top / ch - pad), min(1.0, right / cw + pad), min(1.0, bottom / ch + pad))
    return skew, box


def turn_box(box: tuple[float, float, float, float], clockwise_deg: int) -> tuple[float, float, float, float]:
    """A box given as fractions of an image, after the image is turned clockwise by a quarter multiple."""
    left, top, right, bottom = box
    turns = {
        0: box,
        90: (1 - bottom, left, 1 - top, right),
        180: (1 - right, 1 - bottom, 1 - left, 1 - top),
        270: (top, 1 - right, bottom, 1 - left),
    }
    return turns[clockwise_deg % 360]


def detect_geometry(image: Image.Image) -> Geometry:
    """Clockwise quarter-turn that makes the page upright, and the residual skew after that turn."""
    card = find_card(image)
    if card is not None:
        skew, box = card
        small = deskew(image.convert("L").reduce(2), skew)
        left, top, right, bottom = (round(f * n) for f, n in zip(box, small.size * 2, strict=True))
        inside = small.crop((left, top, right, bottom))
        upright = detect_geometry(inside) if min(inside.size) > 50 else Geometry(0, 0.0)
        return Geometry(rotation=upright.rotation, skew_deg=skew, card_box=turn_box(box, upright.rotation))
    raw = ink_mask(image)
    if np.count_nonzero(raw) < MIN_TEXT_PIXELS:  # a blank page (a scanned back side): nothing to turn
        return Geometry(rotation=0, skew_deg=estimate_skew(raw))
    sideways = sideways_ratio(without_rules(raw))
    rotation = 90 if sideways > SIDEWAYS_RATIO else 0
    mask = np.rot90(raw, k=-1) if rotation else raw
    skew = estimate_skew(mask)
    # Ruled lines are straight only once the page is: take them out after the deskew.
    upside = upside_down_ratio(without_rules(_straighten_mask(mask, skew)))
    if upside > UPSIDE_DOWN_RATIO:
        rotation = (rotation + 180) % 360
    # Clear: each test far from its threshold, on the side it chose.
    clear_sideways = sideways > SIDEWAYS_RATIO * CLEAR_MARGIN or sideways < 1 / (SIDEWAYS_RATIO * CLEAR_MARGIN)
    clear_upside = upside > UPSIDE_DOWN_RATIO * CLEAR_MARGIN or upside < 1 / (UPSIDE_DOWN_RATIO * CLEAR_MARGIN)
    clear = clear_sideways and clear_upside
    if rotation == 0 and clear:
        return Geometry(rotation=0, skew_deg=skew)
    osd = orientation.detect(image)
    final = orientation.decide(rotation, clear, osd)
    log.debug(
        "orientation: heuristics %s (sideways %.2f, below/above %.2f), OSD %s -> %s",
        rotation,
        sideways,
        upside,
        osd,
        final,
    )
    if (final - rotation) % 180:
        skew = estimate_skew(np.rot90(raw, k=-(final // 90)))
    return Geometry(rotation=final, skew_deg=skew)


def _straighten_mask(mask: np.ndarray, skew: float) -> np.ndarray:
    if abs(skew) < MIN_CORRECTED_SKEW_DEG:
        return mask
    img = Image.fromarray(mask.astype(np.uint8) * 255, "L").rotate(-skew, resample=Image.Resampling.NEAREST)
    return np.asarray(img) > 127


def rotate_quarter(image: Image.Image, clockwise_deg: int) -> Image.Image:
    """Turn the image clockwise by 0, 90, 180 or 270 degrees (lossless)."""
    turns = {
        0: None,
        90: Image.Transpose.ROTATE_270,
        180: Image.Transpose.ROTATE_180,
        270: Image.Transpose.ROTATE_90,
    }
    method = turns[clockwise_deg % 360]
    return image if method is None else image.transpose(method)


def deskew(image: Image.Image, skew_deg: float) -> Image.Image:
    """Rotate by ``-skew_deg`` with white fill, expanding the canvas so nothing is cut."""
    if abs(skew_deg) < MIN_CORRECTED_SKEW_DEG:
        return image
    fill = WHITE if image.mode == "RGB" else 255
    return image.rotate(-skew_deg, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=fill)


def ocr_copy(image: Image.Image) -> Image.Image:
    """Grayscale, light-flattened, contrast-stretched copy of the same geometry for the OCR engine."""
    return ImageOps.autocontrast(flatten_light(image.convert("L")), cutoff=1)


def canvas_size(size: tuple[int, int], skew_deg: float, scale: float = 1.0) -> tuple[int, int]:
    """Size of the upright page after deskew by ``skew_deg`` (canvas expanded so nothing is cut)."""
    a = np.deg2rad(skew_deg) if abs(skew_deg) >= MIN_CORRECTED_SKEW_DEG else 0.0
    w, h = size
    cw = w * abs(np.cos(a)) + h * abs(np.sin(a))
    ch = w * abs(np.sin(a)) + h * abs(np.cos(a))
    return max(1, round(cw * scale)), max(1, round(ch * scale))


def straighten_gray(gray: Image.Image, geometry: Geometry, scale: float = 1.0) -> Image.Image:
    """Quarter-turn, deskew and resample ``gray`` by ``scale`` in one bilinear pass (white fill).

    The page centre maps to the canvas centre, the convention the searchable PDF uses to place
    the untouched colour scan under the text layer.
    """
    turned = rotate_quarter(gray, geometry.rotation)
    skew = geometry.skew_deg if abs(geometry.skew_deg) >= MIN_CORRECTED_SKEW_DEG else 0.0
    if not skew and scale == 1.0:
        return turned
    out_w, out_h = canvas_size(turned.size, skew, scale)
    a = np.deg2rad(skew)
    cos, sin = float(np.cos(a)), float(np.sin(a))
    cx, cy = turned.width / 2.0, turned.height / 2.0
    ox, oy = out_w / 2.0, out_h / 2.0
    # Output pixel -> input pixel: undo the scale, then turn back counter-clockwise by the skew.
    ax, bx = cos / scale, sin / scale
    ay, by = -sin / scale, cos / scale
    data = (ax, bx, cx - ax * ox - bx * oy, ay, by, cy - ay * ox - by * oy)
    return turned.transform(
        (out_w, out_h), Image.Transform.AFFINE, data, resample=Image.Resampling.BILINEAR, fillcolor=255
    )


def flatten_light(gray: Image.Image, cell: int = 24, even: float = 0.9) -> Image.Image:
    """Divide by an estimate of the paper's brightness (max filter over ``cell``-px cells, smoothed).

    Evens out uneven lighting and broad scanner shadows for OCR; strokes narrower than a cell keep
    their contrast. Pages whose paper is already evenly lit (darkest cell at least ``even`` of the
    brightest) are returned as they are. The stored colour image is never touched.
    """
    small = gray.reduce(cell) if min(gray.size) >= 4 * cell else gray
    background = small.filter(ImageFilter.MaxFilter(5)).filter(ImageFilter.GaussianBlur(2))
    low, high = np.percentile(np.asarray(background), (1, 99))
    if high <= 0 or low / high >= even:
        return gray
    background = background.resize(gray.size, Image.Resampling.BILINEAR)
    arr = np.asarray(gray, dtype=np.float32)
    arr *= 255.0 / np.maximum(np.asarray(background, dtype=np.float32), 1.0)
    np.clip(arr, 0, 255, out=arr)
    return Image.fromarray(arr.astype(np.uint8), "L")
