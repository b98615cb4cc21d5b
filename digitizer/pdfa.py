"""PDF/A-2b ingredients (sRGB output intent, XMP identification, an embeddable glyph-less font) and a
structural check of the rules a scanned-page PDF can break.

The check is not a full validator (veraPDF is not on our registries): it covers what our writer
controls — header and version, no encryption, an sRGB output intent, XMP ``pdfaid`` part 2 / B in an
unfiltered metadata stream, every font embedded with widths matching its program, no transparency,
no JavaScript or actions, a trailer /ID — and tests pair it with ``qpdf --check``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import pikepdf

ICC_CANDIDATES = (
    Path("/usr/share/color/icc/sRGB.icc"),  # Debian icc-profiles-free (ICC v2)
    Path("/usr/share/color/icc/ghostscript/srgb.icc"),  # Debian libgs-common, comes with ghostscript
    Path("/usr/share/color/icc/colord/sRGB.icc"),  # Debian colord-data
)
SRGB_CONDITION = "sRGB IEC61966-2.1"
GLYPH_ADVANCE = 500  # 1/1000 em: the /DW of the text layer's CIDFont


@lru_cache(maxsize=1)
def srgb_profile() -> bytes:
    """A freely distributable sRGB ICC profile: a system one (v2) if present, else lcms2's built-in."""
    for path in ICC_CANDIDATES:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if data[12:20] == b"mntrRGB ":
            return data
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


@lru_cache(maxsize=1)
def glyphless_font() -> bytes:
    """A TrueType font with one empty glyph of ``GLYPH_ADVANCE`` width (what Tesseract's pdf.ttf is)."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    units = 1000
    builder = FontBuilder(units, isTTF=True)
    builder.setupGlyphOrder([".notdef", "space"])
    builder.setupCharacterMap({0x20: "space"})
    empty = TTGlyphPen(None).glyph()
    builder.setupGlyf({".notdef": empty, "space": TTGlyphPen(None).glyph()})
    builder.setupHorizontalMetrics({".notdef": (GLYPH_ADVANCE, 0), "space": (GLYPH_ADVANCE, 0)})
    builder.setupHorizontalHeader(ascent=1000, descent=0)
    builder.setupNameTable({"familyName": "GlyphLessFont", "styleName": "Regular"})
    builder.setupOS2(sTypoAscender=1000, sTypoDescender=0, usWinAscent=1000, usWinDescent=0)
    builder.setupPost()
    out = io.BytesIO()
    builder.save(out)
    return out.getvalue()


def add_pdfa_identity(pdf: pikepdf.Pdf, *, producer: str, title: str = "") -> None:
    """sRGB output intent and XMP metadata declaring PDF/A-2b (docinfo kept in sync)."""
    profile = pdf.make_stream(srgb_profile())
    profile.N = 3
    pdf.Root.OutputIntents = pikepdf.Array(
        [
            pikepdf.Dictionary(
                Type=pikepdf.Name.OutputIntent,
                S=pikepdf.Name.GTS_PDFA1,
                OutputConditionIdentifier=pikepdf.String(SRGB_CONDITION),
                Info=pikepdf.String(SRGB_CONDITION),
                DestOutputProfile=profile,
            )
        ]
    )
    pdf.docinfo[pikepdf.Name.Producer] = producer
    pdf.docinfo[pikepdf.Name.Creator] = producer
    if title:
        pdf.docinfo[pikepdf.Name.Title] = title
    with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
        meta["pdf:Producer"] = producer
        meta["xmp:CreatorTool"] = producer
        if title:
            meta["dc:title"] = title
        meta["pdfaid:part"] = "2"
        meta["pdfaid:conformance"] = "B"


def _fonts(pdf: pikepdf.Pdf) -> list[pikepdf.Object]:
    found: list[pikepdf.Object] = []
    for page in pdf.pages:
        for font in page.resources.get("/Font", {}).values():
            found.append(font)
            found.extend(font.get("/DescendantFonts", []))
    return found


def pdfa2b_problems(data: bytes) -> list[str]:
    """Rules of PDF/A-2b that ``data`` breaks, as short English sentences; empty when none found."""
    problems: list[str] = []
    if not re.match(rb"%PDF-1\.[4-7]\r?\n%[\x80-\xff]{4}", data[:32]):
        problems.append("header must be %PDF-1.4..1.7 followed by a binary comment")
    with pikepdf.open(io.BytesIO(data)) as pdf:
        if pdf.is_encrypted:
            problems.append("encrypted")
        if "/ID" not in pdf.trailer:
            problems.append("trailer has no /ID")
        intents: Iterable[pikepdf.Object] = pdf.Root.get("/OutputIntents", [])
        if not any(i.get("/S") == pikepdf.Name.GTS_PDFA1 and "/DestOutputProfile" in i for i in intents):
            problems.append("no GTS_PDFA1 output intent with an ICC profile")
        metadata = pdf.Root.get("/Metadata")
        if metadata is None:
            problems.append("no XMP metadata stream")
        else:
            if "/Filter" in metadata:
                problems.append("metadata stream is filtered")
            meta = pdf.open_metadata()
            if (meta.get("pdfaid:part"), meta.get("pdfaid:conformance")) != ("2", "B"):
                problems.append("XMP does not declare pdfaid part 2 conformance B")
        for font in _fonts(pdf):
            descriptor = font.get("/FontDescriptor")
            if font.get("/Subtype") == pikepdf.Name.Type0 or descriptor is None:
                continue
            if not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                problems.append(f"font {font.get('/BaseFont')} is not embedded")
        for obj in pdf.objects:
            if not isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
                continue
            if "/SMask" in obj and obj.get("/SMask") != pikepdf.Name.None_:
                problems.append("soft mask (transparency)")
            group = obj.get("/Group")
            if isinstance(group, pikepdf.Dictionary) and group.get("/S") == pikepdf.Name.Transparency:
                problems.append("transparency group")
            if any(k in obj for k in ("/JS", "/JavaScript", "/AA")) or obj.get("/S") == pikepdf.Name.JavaScript:
                problems.append("JavaScript or additional actions")
    return sorted(set(problems))
