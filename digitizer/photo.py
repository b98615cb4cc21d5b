"""Phone photos of a page lying on a surface: find the sheet, undo the perspective, even out the light.

A citizen's photo shows the page as a bright quadrilateral on a darker desk, turned a few degrees, under
warm and uneven light, often with a shadow across it. ``find_page`` decides on clear evidence only: a
darker surround on (nearly) every side of the frame, one bright sheet whose convex outline is well
described by four corners, of a page's proportions (an ID card, 85.6 x 54 mm, is left to
``preprocess.find_card``). ``correct_page`` maps that quadrilateral onto an upright rectangle and divides
each colour channel by an estimate of the paper's brightness, which removes the shadow and the warm cast
at once. Anything uncertain returns None and the photo is processed as it is, uncropped: losing text to
a wrong crop is worse than keeping the desk.

Everything is measured on a copy about ``ANALYSIS_SIDE`` pixels on its long side; on a flatbed scan the
first check (a bright frame border) ends the work after one box-filter reduction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from digitizer import preprocess
from digitizer.images import SourcePage, estimate_dpi

log = logging.getLogger(__name__)

ANALYSIS_SIDE = 400
# Share of the frame border (a strip 2% deep) that must be darker than the paper/desk split: the page
# may touch or cross the frame in a few places, but a flatbed scan's border is paper nearly everywhere.
MIN_DESK_BORDER = 0.7
# Paper must be clearly brighter than the desk: median paper over median desk (a ratio, so shadows that
# darken both alike do not matter). White paper on a wooden or grey desk is 1.6-3x.
MIN_PAPER_DESK_RATIO = 1.35
# The sheet's share of the frame: below this it is a small object (a card, a receipt) on the desk.
PAGE_AREA = (0.2, 0.97)
# The convex outline of the sheet must fill its quadrilateral: a bad fit (a curled sheet, two papers,
# a hand over a corner) leaves more than this share of the quadrilateral empty.
MIN_HULL_FILL = 0.9
# And the paper itself (text filled in) must cover the quadrilateral: a good find covers 0.99 of it; a
# second paper or a hand bridged by the outline leaves desk inside. The rest allows for dark pictures
# or headings that the filling does not close, and paper a deep shadow took below the threshold.
MIN_SOLID_FILL = 0.93
MAX_CORNER_DEVIATION_DEG = 25.0
# Bright area outside the found sheet, as a share of it, beyond which the find is not trusted.
MAX_LEFT_OUT = 0.02
# Long over short side. Office paper is ISO 216 (sqrt(2) = 1.414: A4, A5) or US Letter (1.294); an ID-1
# card is 1.586. Pages are taken between PAGE_ASPECT (the upper end the geometric mean of A4 and the
# card); anything else (a card, Legal paper, a sheet a deep hard shadow cut short) is left uncorrected.
# Aspects within A4_SNAP of sqrt(2) are taken as A4 (perspective foreshortens a little).
PAGE_ASPECT = (1.22, 1.5)
A4_ASPECT = 2**0.5
A4_SNAP = 0.06
CARD_LINE_SHARE = 0.025
CARD_CHECK_SIDE = 1000
# Paper and desk chromaticities must differ by this much (r, g distance; a brown desk under warm light is
# about 0.08 from the paper, a grey one under the same light under 0.02) before colour is used.
MIN_CHROMA_GAP = 0.04
SHADOW_FLOOR = 0.3  # shadowed paper is taken down to this share of the lit paper's brightness
DARK_AREA = 0.4
MIN_PAGE_DPI = 200.0  # the corrected page is resampled up to at least this (as A4) for OCR

WHITE = (255, 255, 255)

Point = tuple[float, float]


@dataclass(frozen=True)
class PagePhoto:
    """Corners of the sheet in the photo's pixels: top-left, top-right, bottom-right, bottom-left."""

    corners: tuple[Point, Point, Point, Point]

    def size(self) -> tuple[int, int]:
        """Width and height of the upright page at the photo's resolution (A4 proportions when close)."""
        tl, tr, br, bl = (np.array(c) for c in self.corners)
        width = max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl))
        height = max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr))
        long, short = max(width, height), min(width, height)
        if abs(long / short - A4_ASPECT) <= A4_SNAP * A4_ASPECT:
            short = long / A4_ASPECT
        w, h = (long, short) if width >= height else (short, long)
        return max(1, round(w)), max(1, round(h))


def _small(image: Image.Image) -> tuple[Image.Image, float]:
    factor = max(1, max(image.size) // ANALYSIS_SIDE)
    return (image.reduce(factor) if factor > 1 else image), float(factor)


def _shadowed_paper(small: Image.Image, confident: np.ndarray, border_desk: np.ndarray) -> np.ndarray | None:
    """Paper a deep shadow took below the brightness threshold, found by its colour, when the desk's
    colour is clearly another: a shadow dims the light but keeps its hue (chromaticity r, g of
    R, G, B over their sum), so shadowed paper keeps the lit paper's chromaticity. None when the desk
    is about the paper's colour (a grey desk under the same light), where colour cannot tell them apart.
    """
    rgb = np.asarray(small.convert("RGB"), dtype=np.float32)
    total = rgb.sum(axis=2) + 1.0
    chroma = np.stack([rgb[..., 0] / total, rgb[..., 1] / total], axis=2)
    paper_c = np.median(chroma[confident], axis=0)
    desk_c = np.median(chroma[border_desk], axis=0)
    gap = float(np.linalg.norm(paper_c - desk_c))
    desk_spread = float(np.percentile(np.linalg.norm(chroma[border_desk] - desk_c, axis=1), 95))
    if gap < MIN_CHROMA_GAP or desk_spread > 0.5 * gap:
        return None
    to_paper = np.linalg.norm(chroma - paper_c, axis=2)
    to_desk = np.linalg.norm(chroma - desk_c, axis=2)
    # Not the darkest pixels: chromaticity of near-black (ink, deep shade) is noise.
    lit = rgb.mean(axis=2) > SHADOW_FLOOR * float(np.median(rgb[confident].mean(axis=1)))
    return (to_paper < 0.5 * to_desk) & lit


def _border(arr: np.ndarray, depth: int) -> np.ndarray:
    return np.concatenate([arr[:depth].ravel(), arr[-depth:].ravel(), arr[:, :depth].ravel(), arr[:, -depth:].ravel()])


def _largest_pieces(mask: np.ndarray, share: float = 0.1) -> np.ndarray:
    """The 4-connected components of ``mask`` holding at least ``share`` of the largest one's pixels.

    Components are found on runs (row segments) joined by union-find: a few thousand runs on the
    analysis copy, where a per-pixel flood fill in Python would cost a hundred times more.
    """
    padded = np.zeros((mask.shape[0], mask.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    edges = np.diff(padded, axis=1)
    starts_y, starts_x = np.nonzero(edges == 1)
    ends_x = np.nonzero(edges == -1)[1]
    parent = list(range(starts_y.size))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    row_first = np.searchsorted(starts_y, np.arange(mask.shape[0] + 1))
    for y in range(1, mask.shape[0]):
        a, a_end = row_first[y - 1], row_first[y]
        b, b_end = row_first[y], row_first[y + 1]
        while a < a_end and b < b_end:  # two sorted run lists: merge-walk, union the overlapping runs
            if starts_x[a] < ends_x[b] and starts_x[b] < ends_x[a]:
                ra, rb = root(int(a)), root(int(b))
                if ra != rb:
                    parent[ra] = rb
            if ends_x[a] < ends_x[b]:
                a += 1
            else:
                b += 1
    roots = np.array([root(i) for i in range(starts_y.size)], dtype=np.int64)
    out = np.zeros(mask.shape, dtype=bool)
    if roots.size == 0:
        return out
    sizes = np.bincount(roots, weights=ends_x - starts_x)
    keep = sizes >= share * sizes.max()
    for y, x0, x1 in zip(starts_y[keep[roots]], starts_x[keep[roots]], ends_x[keep[roots]], strict=True):
        out[y, x0:x1] = True
    return out


def _hull(points: np.ndarray) -> np.ndarray:
    """Convex hull (Andrew's monotone chain), counter-clockwise in image coordinates (y down)."""
    pts = sorted({(float(x), float(y)) for x, y in points})
    if len(pts) < 3:
        return np.array(pts)

    def cross(o: Point, a: Point, b: Point) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[Point] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[Point] = []
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return np.array(lower[:-1] + upper[:-1])


def _area(poly: np.ndarray) -> float:
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def _quad(hull: np.ndarray) -> np.ndarray | None:
    """Four corners enclosing the convex ``hull``: repeatedly drop the edge whose removal (extending its
    two neighbours until they meet) adds the least area. A corner cut off by a shadow or a fold is
    restored by its two long edges."""
    poly = [np.asarray(p, dtype=np.float64) for p in hull]
    while len(poly) > 4:
        n = len(poly)
        best: tuple[float, int, np.ndarray] | None = None
        for i in range(n):
            p0, p1, p2, p3 = poly[i - 1], poly[i], poly[(i + 1) % n], poly[(i + 2) % n]
            d1, d2 = p1 - p0, p2 - p3
            det = d1[0] * -d2[1] + d2[0] * d1[1]
            if abs(det) < 1e-12:
                continue
            rhs = p2 - p1
            t = (rhs[0] * -d2[1] + d2[0] * rhs[1]) / det
            s = (d1[0] * rhs[1] - d1[1] * rhs[0]) / det
            if t < 0 or s < 0:
                continue  # the neighbouring edges diverge: they never meet beyond this edge
            meet = p1 + t * d1
            added = 0.5 * abs(float((p2 - p1)[0] * (meet - p1)[1] - (p2 - p1)[1] * (meet - p1)[0]))
            if best is None or added < best[0]:
                best = (added, i, meet)
        if best is None:
            return None
        _, i, meet = best
        j = (i + 1) % n
        poly[i] = meet
        del poly[j]
    return np.array(poly)


def _order(quad: np.ndarray) -> np.ndarray:
    """Corners as top-left, top-right, bottom-right, bottom-left (clockwise on screen)."""
    centre = quad.mean(axis=0)
    angles = np.arctan2(quad[:, 1] - centre[1], quad[:, 0] - centre[0])
    ring = quad[np.argsort(angles)]  # clockwise on screen, y pointing down
    start = int(np.argmin(ring.sum(axis=1)))
    return np.roll(ring, -start, axis=0)


def _corner_angles(quad: np.ndarray) -> list[float]:
    out = []
    for i in range(4):
        a, b = quad[i - 1] - quad[i], quad[(i + 1) % 4] - quad[i]
        cos = float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))
        out.append(float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))))
    return out


def _dark_border(image: Image.Image) -> bool:
    """A quick look for a darker surround on a point-sampled copy (no filtering of the full image): most
    of a flatbed scan's border is paper as bright as the page, and the check ends there. Lenient (half
    the border, where ``find_page`` asks for MIN_DESK_BORDER): it only spares the scans the full look."""
    factor = max(1, max(image.size) // ANALYSIS_SIDE)
    probe = image.resize((max(1, image.width // factor), max(1, image.height // factor)), Image.Resampling.NEAREST)
    arr = np.asarray(probe.convert("L"), dtype=np.uint8)
    depth = max(1, round(0.02 * min(arr.shape)))
    return float((_border(arr, depth) < preprocess._otsu(arr)).mean()) >= 0.5


def find_page(image: Image.Image) -> PagePhoto | None:
    """The sheet of paper in a photo of a page on a darker surface, or None when that is not clear."""
    if not _dark_border(image):
        return None
    small, factor = _small(image)
    arr = np.asarray(small.convert("L"), dtype=np.uint8)
    h, w = arr.shape
    depth = max(1, round(0.02 * min(h, w)))
    border = _border(arr, depth)
    split = preprocess._otsu(arr)
    # Cheap exit for scans: a flatbed page's border is paper.
    if float((border < split).mean()) < MIN_DESK_BORDER:
        return None
    desk = border[border < split]
    desk_level = float(np.median(desk))
    paper_level = float(np.median(arr[arr > split]))
    if paper_level < MIN_PAPER_DESK_RATIO * max(desk_level, 1.0):
        return None
    # Paper: brighter than halfway from the brightest desk on the border (99th percentile) to the Otsu
    # split. A shadow band takes the paper under it below the split long before it takes it down to the
    # desk; halfway keeps the desk's bright grain from growing on to the sheet's edges.
    paper = arr > (min(split, float(np.percentile(desk, 99))) + split) / 2
    border_desk = np.zeros(arr.shape, dtype=bool)
    border_desk[:depth], border_desk[-depth:], border_desk[:, :depth], border_desk[:, -depth:] = True, True, True, True
    shadowed = _shadowed_paper(small, arr > split, border_desk & (arr < split))
    if shadowed is not None:
        paper |= shadowed
    # Closing fills the text so the sheet is one solid blob; opening then drops the desk's bright grain.
    blob = Image.fromarray(paper.astype(np.uint8) * 255, "L")
    blob = blob.filter(ImageFilter.MaxFilter(5)).filter(ImageFilter.MinFilter(5))
    blob = blob.filter(ImageFilter.MinFilter(5)).filter(ImageFilter.MaxFilter(5))
    # The sheet, and any part of it a shadow band split off (a piece at least a twentieth of the largest).
    solid = np.asarray(blob) > 127
    sheet = _largest_pieces(solid, 0.05)
    if not sheet.any():
        return None
    rows = np.nonzero(sheet.any(axis=1))[0]
    left = sheet[rows].argmax(axis=1)
    right = w - sheet[rows, ::-1].argmax(axis=1)
    points = np.concatenate([np.stack([xs, ys], 1) for xs in (left, right) for ys in (rows, rows + 1)])
    hull = _hull(points)
    if len(hull) < 4:
        return None
    quad = _quad(hull)
    if quad is None:
        return None
    quad = _order(quad)
    quad_area = _area(quad)
    fill = _area(hull) / quad_area if quad_area else 0.0
    share = quad_area / (h * w)
    angles = _corner_angles(quad)
    outside = max(float(-quad.min()), float((quad[:, 0] - w).max()), float((quad[:, 1] - h).max()))
    # Bright matter left outside the quadrilateral (a part of the sheet it missed, a second paper): unsure.
    region = Image.new("L", (w, h), 0)
    ImageDraw.Draw(region).polygon([(float(x), float(y)) for x, y in quad], fill=255)
    solid_fill = float((solid & (np.asarray(region) > 0)).sum()) / max(quad_area, 1.0)
    region = region.filter(ImageFilter.MaxFilter(5))
    left_out = float((solid & (np.asarray(region) == 0)).sum()) / max(quad_area, 1.0)
    if not (
        PAGE_AREA[0] <= share <= PAGE_AREA[1]
        and fill >= MIN_HULL_FILL
        and solid_fill >= MIN_SOLID_FILL
        and max(abs(a - 90.0) for a in angles) <= MAX_CORNER_DEVIATION_DEG
        and outside <= 0.02 * max(h, w)
        and left_out <= MAX_LEFT_OUT
    ):
        log.debug(
            "no page photo: share=%.2f fill=%.2f solid=%.2f angles=%s outside=%.1f left_out=%.3f",
            share,
            fill,
            solid_fill,
            angles,
            outside,
            left_out,
        )
        return None
    found = PagePhoto(tuple((float(x) * factor, float(y) * factor) for x, y in quad))  # type: ignore[arg-type]
    width, height = found.size()
    aspect = max(width, height) / min(width, height)
    if not PAGE_ASPECT[0] <= aspect < PAGE_ASPECT[1]:
        # Not a sheet of office paper: an ID card (1.586), or a find that a hard shadow cut short.
        log.debug("bright object of aspect %.2f (%sx%s): not taken for a page", aspect, width, height)
        return None
    if _card_print(image, found):
        log.debug("an ID card's print (%sx%s): left to the card path", width, height)
        return None
    return found


def _run_heights(profile: np.ndarray) -> np.ndarray:
    on = np.concatenate([[False], profile, [False]])
    edges = np.diff(on.astype(np.int8))
    return np.nonzero(edges == -1)[0] - np.nonzero(edges == 1)[0]


def _card_print(image: Image.Image, found: PagePhoto) -> bool:
    """True when the object's print is large for its size, as on an ID card.

    Measured as the median height of the text-line bands over the object's short side, across the
    lines (the projection that varies most, so a turned object is measured the right way). An ID card's
    6-8 pt print on its 54 mm side gives about 0.035; a page's 10-14 pt body text on 210 mm 0.013-0.02.
    CARD_LINE_SHARE splits them near their geometric mean.
    """
    width, height = found.size()
    scale = min(1.0, CARD_CHECK_SIDE / max(width, height))
    w, h = max(1, round(width * scale)), max(1, round(height * scale))
    coeffs = _perspective_coeffs(list(found.corners), [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)])
    gray = image.convert("L").transform((w, h), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BILINEAR)
    mask = preprocess.ink_mask(preprocess.flatten_light(gray), CARD_CHECK_SIDE)
    inset = max(1, round(0.03 * min(mask.shape)))  # leave out the outline of the object itself
    mask = mask[inset:-inset, inset:-inset]
    profiles = [mask.mean(axis=1), mask.mean(axis=0)]
    across = max(profiles, key=lambda p: float(p.std() / max(float(p.mean()), 1e-9)))
    runs = _run_heights(across > 0.02)
    runs = runs[runs >= 2]
    if runs.size < 3:
        return True  # no lines of text to tell it from a card
    return float(np.median(runs)) / min(mask.shape) >= CARD_LINE_SHARE


def _perspective_coeffs(src: list[Point], dst: list[Point]) -> list[float]:
    """Pillow PERSPECTIVE coefficients mapping output points ``dst`` to input points ``src``."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y])
        rows.append([0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y])
        rhs += [u, v]
    return [float(c) for c in np.linalg.solve(np.array(rows), np.array(rhs))]


def flatten_colour(image: Image.Image) -> Image.Image:
    """Divide each channel by an estimate of the paper under it: shadows, falloff and a warm cast go,
    the paper becomes white, ink and coloured seals keep their contrast and hue.

    The estimate is the brightest value of each cell (about a character wide: a 70th of the page's
    short side: every such cell of a text page holds some paper), lightly smoothed. No wider window: it
    would carry the light side of a sharp shadow edge into the shadow and leave a dark band there.
    """
    arr = np.asarray(image.convert("RGB"), dtype=np.uint8)
    # Maxima are taken on a 2x2-averaged copy: the max of raw pixels would ride on sensor noise and
    # JPEG ringing (worst in the weak blue channel of a warm photo) and leave the paper grey.
    calm = np.asarray(image.convert("RGB").reduce(2), dtype=np.uint8) if min(image.size) >= 64 else arr
    cell = max(2, round(min(calm.shape[:2]) / 70))
    h, w = (calm.shape[0] // cell) * cell, (calm.shape[1] // cell) * cell
    if h == 0 or w == 0:
        return image
    rows = calm[:h].reshape(h // cell, cell, calm.shape[1], 3).max(axis=1)
    cells = np.ascontiguousarray(rows[:, :w].reshape(h // cell, w // cell, cell, 3).max(axis=2))
    # A cell darker than DARK_AREA of the brightest paper near it is a dark picture or a filled box, not
    # paper in shade (a shadow dims paper to half at most): it is divided by that floor, so it stays dark.
    nearby = np.asarray(Image.fromarray(cells, "RGB").filter(ImageFilter.MaxFilter(5)), dtype=np.float32)
    cells = np.maximum(cells, (DARK_AREA * nearby).astype(np.uint8))
    background = Image.fromarray(cells, "RGB").filter(ImageFilter.GaussianBlur(0.7))
    # Stretched over the whole page: the few pixels past the last full cell shift it by under a cell.
    background = background.resize(image.size, Image.Resampling.BILINEAR)
    gain = (255.0 / np.maximum(np.arange(256, dtype=np.float32), 1.0))[np.asarray(background)]
    gain *= arr
    np.minimum(gain, 255.0, out=gain)
    return Image.fromarray(gain.astype(np.uint8), "RGB")


def correct_page(image: Image.Image, found: PagePhoto) -> Image.Image:
    """The sheet as an upright rectangle (at least ``MIN_PAGE_DPI`` as A4), with its light evened out."""
    width, height = found.size()
    dpi = estimate_dpi((width, height))
    if dpi < MIN_PAGE_DPI:
        width, height = round(width * MIN_PAGE_DPI / dpi), round(height * MIN_PAGE_DPI / dpi)
    target = [(0.0, 0.0), (float(width), 0.0), (float(width), float(height)), (0.0, float(height))]
    coeffs = _perspective_coeffs(list(found.corners), target)
    page = image.convert("RGB").transform(
        (width, height), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BILINEAR, fillcolor=WHITE
    )
    page = flatten_colour(page)
    # The quadrilateral hugs the sheet's outline from outside, so a line of desk may run along the
    # edges: paint the outermost millimetre white (no page prints there).
    edge = max(2, round(0.005 * min(width, height)))
    frame = Image.new("L", page.size, 255)
    frame.paste(0, (edge, edge, width - edge, height - edge))
    page.paste(WHITE, (0, 0), frame)
    return page


def correct_source(source: SourcePage) -> SourcePage:
    """The page with a photographed sheet replaced by its corrected page (new pixels: the stored image
    is this page, re-encoded, and the words are in its frame); the page unchanged otherwise."""
    found = find_page(source.image)
    if found is None:
        return source
    page = correct_page(source.image, found)
    log.info("%s: page photo corrected to %sx%s", source.source or "page", *page.size)
    warnings = [*source.warnings, *([] if "DPI_ESTIMATED" in source.warnings else ["DPI_ESTIMATED"])]
    return replace(
        source, image=page, dpi=estimate_dpi(page.size), warnings=warnings, jpeg=None, jpeg_size=None, jpeg_gray=False
    )
