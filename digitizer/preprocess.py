"""Page geometry: quarter-turn orientation and skew estimated on a small binarised copy.

Everything is measured on a downscaled grayscale copy with numpy; the corrections are then
applied to the full-resolution colour image, so the stored page keeps 100% scale.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps

log = logging.getLogger(__name__)

ANALYSIS_SIDE = 1200
MAX_SKEW_DEG = 10.0
MIN_CORRECTED_SKEW_DEG = 0.05
WHITE = (255, 255, 255)


@dataclass(frozen=True)
class Geometry:
    rotation: int
    skew_deg: float


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


def is_sideways(mask: np.ndarray) -> bool:
    """True when the text lines run vertically (the page is turned a quarter)."""
    ys, xs = _points(mask)
    if ys.size < 200:
        return False
    upright = _best_angle(ys, xs)[1]
    turned = _best_angle(xs, ys)[1]
    return turned > 1.25 * upright


def looks_upside_down(mask: np.ndarray) -> bool:
    """Compare ink above and below the x-height band of each text line.

    Latin script, and Vietnamese even more with its tone marks, has more ink above the
    core band (capitals, ascenders, diacritics) than below it (descenders).
    """
    rows = mask.sum(axis=1).astype(np.float64)
    if rows.max(initial=0) == 0:
        return False
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
    return below > 1.15 * above and below - above > 0.01 * rows.sum()


def detect_geometry(image: Image.Image) -> Geometry:
    """Clockwise quarter-turn that makes the page upright, and the residual skew after that turn."""
    mask = ink_mask(image)
    rotation = 0
    if is_sideways(mask):
        rotation = 90
        mask = np.rot90(mask, k=-1)
    skew = estimate_skew(mask)
    if looks_upside_down(_straighten_mask(mask, skew)):
        rotation = (rotation + 180) % 360
    return Geometry(rotation=rotation, skew_deg=skew)


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
    return image.rotate(-skew_deg, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=WHITE)


def straighten(image: Image.Image) -> tuple[Image.Image, Geometry]:
    """Apply detected quarter-turn and deskew to the colour image; return it with the geometry used."""
    geometry = detect_geometry(image)
    log.debug("page geometry: rotation=%s skew=%.2f", geometry.rotation, geometry.skew_deg)
    out = deskew(rotate_quarter(image, geometry.rotation), geometry.skew_deg)
    return out, geometry


def ocr_copy(image: Image.Image) -> Image.Image:
    """Grayscale, contrast-stretched copy of the same geometry for the OCR engine."""
    return ImageOps.autocontrast(image.convert("L"), cutoff=1)
