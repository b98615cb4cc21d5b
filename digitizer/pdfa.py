"""PDF/A-2b ingredients (sRGB output intent, XMP identification, an embeddable glyph-less font) and
validation of the result with ``pikepdf.pdfa`` (an allowlist validator implementing veraPDF's rules:
it approves a file only when every construct in it is known to conform).
"""

from __future__ import annotations

import io
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


PDFA_FLAVOUR = "2b"


def pdfa_findings(data: bytes, flavour: str = PDFA_FLAVOUR) -> list[str]:
    """Why ``data`` is not approved as PDF/A (``flavour``), by ``pikepdf.pdfa``'s allowlist validator:
    ``"<rule> at <where>: <message>"`` per finding, empty when the file passes. Constructs the validator
    does not check count as findings too: an approval is what is promised, never a guess."""
    import pikepdf.pdfa

    report = pikepdf.pdfa.validate_written(io.BytesIO(data), flavour)
    return [f"{f.rule} at {f.where}: {f.message}" for f in report.findings]
