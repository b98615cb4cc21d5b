"""Hand-written PDF files, byte by byte, for the shapes no tool writes on request.

pikepdf/qpdf normalise whatever they save (inherited page attributes pushed down, one EOL
style, a correct /Size, a plain or stream xref, never both), so the corpus writes these
shapes itself. Every page draws text and filled shapes, so a page lost or blanked by a
signer shows in the pixel comparison.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"


@dataclass(frozen=True)
class Stream:
    """A stream object: its dictionary entries (without /Length) and its data."""

    entries: bytes
    data: bytes
    binary: bool = False  # binary data keeps its bytes; text data takes the file's EOL style


Obj = bytes | Stream


@dataclass
class RawPdf:
    """Objects numbered by hand, serialised with a chosen EOL, header and (possibly wrong) trailer."""

    version: str = "1.7"
    eol: bytes = b"\n"
    objects: dict[int, Obj] = field(default_factory=dict)
    gens: dict[int, int] = field(default_factory=dict)
    free: dict[int, tuple[int, int]] = field(default_factory=dict)  # free entries: number -> (next free, gen)

    def _eol(self, data: bytes) -> bytes:
        return data.replace(b"\n", self.eol)

    def serialise(self, num: int, obj: Obj) -> bytes:
        head = self._eol(b"%d %d obj\n" % (num, self.gens.get(num, 0)))
        if isinstance(obj, Stream):
            data = obj.data if obj.binary else self._eol(obj.data)
            # after "stream" only CRLF or LF is allowed, even in a CR-only file (ISO 32000-1, 7.3.8.1)
            after = b"\r\n" if self.eol == b"\r" else self.eol
            body = self._eol(b"<< %s /Length %d >>\nstream" % (obj.entries, len(data))) + after
            body += data + self._eol(b"\nendstream")
        else:
            body = self._eol(obj)
        return head + body + self._eol(b"\nendobj\n")

    def xref_line(self, offset: int, gen: int, kind: bytes) -> bytes:
        """One 20-byte xref entry; the two-byte EOL follows the file's style."""
        end = {b"\n": b" \n", b"\r\n": b"\r\n", b"\r": b" \r"}[self.eol]
        return b"%010d %05d %s%s" % (offset, gen, kind, end)

    def write(
        self,
        *,
        root: int,
        info: int | None = None,
        size: int | None = None,
        trailer_extra: bytes = b"",
        startxref_delta: int = 0,
        header_comment: bytes = b"%\xe2\xe3\xcf\xd3",
    ) -> bytes:
        """The whole file with one xref table over every object (subsections where numbers skip)."""
        out = bytearray(self._eol(b"%%PDF-%s\n" % self.version.encode()) + header_comment + self.eol)
        offsets: dict[int, int] = {}
        for num in sorted(self.objects):
            offsets[num] = len(out)
            out += self.serialise(num, self.objects[num])
        xref_at = len(out)
        out += self._eol(b"xref\n")
        out += self._xref_sections(offsets)
        highest = max(self.objects)
        trailer = b"/Size %d /Root %d 0 R" % (size if size is not None else highest + 1, root)
        if info is not None:
            trailer += b" /Info %d 0 R" % info
        out += self._eol(
            b"trailer\n<< %s %s >>\nstartxref\n%d\n%%%%EOF\n" % (trailer, trailer_extra, xref_at + startxref_delta)
        )
        return bytes(out)

    def _xref_sections(self, offsets: Mapping[int, int], *, with_free_head: bool = True) -> bytes:
        entries: dict[int, bytes] = {n: self.xref_line(off, self.gens.get(n, 0), b"n") for n, off in offsets.items()}
        if with_free_head:
            entries[0] = self.xref_line(min(self.free, default=0), 65535, b"f")
            entries |= {n: self.xref_line(nxt, gen, b"f") for n, (nxt, gen) in self.free.items()}
        out = b""
        nums = sorted(entries)
        start = 0
        while start < len(nums):
            end = start
            while end + 1 < len(nums) and nums[end + 1] == nums[end] + 1:
                end += 1
            out += self._eol(b"%d %d\n" % (nums[start], end - start + 1))
            out += b"".join(entries[n] for n in nums[start : end + 1])
            start = end + 1
        return out


# -- content ---------------------------------------------------------------------------------


def page_content(label: str, width: float, height: float, *, x0: float = 0, y0: float = 0) -> bytes:
    """Text and drawn shapes spread over the page (so any blanking or shift shows in a render)."""
    text = label.encode("latin-1")
    return b"\n".join(
        [
            b"q 0.85 0.1 0.1 rg %.1f %.1f 40 40 re f Q" % (x0 + 20, y0 + 20),
            b"q 0.1 0.5 0.1 rg %.1f %.1f 40 40 re f Q" % (x0 + width - 60, y0 + height - 60),
            b"q 0.1 0.2 0.8 RG 3 w %.1f %.1f %.1f %.1f re S Q" % (x0 + 10, y0 + 10, width - 20, height - 20),
            b"q 0.2 0.2 0.2 rg %.1f %.1f m %.1f %.1f l %.1f %.1f l f Q"
            % (
                x0 + width / 2,
                y0 + height / 2,
                x0 + width / 2 + 60,
                y0 + height / 2,
                x0 + width / 2,
                y0 + height / 2 + 80,
            ),
            b"BT /F1 16 Tf %.1f %.1f Td (%s) Tj 0 -22 Td (Ho so so hoa - ban sao dien tu) Tj ET"
            % (x0 + 40, y0 + height - 90, text),
            b"BT /F1 10 Tf %.1f %.1f Td (%s - chan trang) Tj ET" % (x0 + 80, y0 + 30, text),
            b"",
        ]
    )


def _simple_doc(pages: list[tuple[str, bytes]], *, version: str = "1.7", eol: bytes = b"\n") -> RawPdf:
    """Catalog 1, page tree 2, font 3, then one page + content per entry: (label, extra page entries)."""
    pdf = RawPdf(version=version, eol=eol)
    kids = []
    num = 4
    for label, extra in pages:
        pdf.objects[num] = b"<< /Type /Page /Parent 2 0 R /Contents %d 0 R %s >>" % (num + 1, extra)
        pdf.objects[num + 1] = Stream(b"", page_content(label, 595, 842))
        kids.append(b"%d 0 R" % num)
        num += 2
    pdf.objects[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    pdf.objects[2] = (
        b"<< /Type /Pages /Kids [%s] /Count %d /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> >>"
        % (
            b" ".join(kids),
            len(pages),
        )
    )
    pdf.objects[3] = FONT
    return pdf


def _info(pdf: RawPdf, num: int, producer: bytes = b"sohoa third-party corpus (hand-written)") -> int:
    pdf.objects[num] = b"<< /Producer (%s) /Title (Ho so so hoa) >>" % producer
    return num


# -- the shapes ------------------------------------------------------------------------------


def rotate_direct() -> bytes:
    """/Rotate 0, 90, 180 and 270 written on each page itself."""
    pdf = _simple_doc([(f"Rotate {r} (direct)", b"/Rotate %d" % r) for r in (0, 90, 180, 270)])
    return pdf.write(root=1, info=_info(pdf, 20))


def rotate_inherited() -> bytes:
    """/Rotate 0/90/180/270 inherited from four intermediate /Pages nodes, one page overriding its node."""
    pdf = RawPdf()
    pdf.objects[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    pdf.objects[3] = FONT
    nodes, num, total = [], 10, 0
    for rotate in (0, 90, 180, 270):
        node = num
        kids = []
        num += 1
        for override in (None, 90 if rotate == 0 else None):
            extra = b"" if override is None else b"/Rotate %d" % override
            label = f"Node /Rotate {rotate}" + ("" if override is None else f", page /Rotate {override}")
            pdf.objects[num] = b"<< /Type /Page /Parent %d 0 R /Contents %d 0 R %s >>" % (node, num + 1, extra)
            pdf.objects[num + 1] = Stream(b"", page_content(label, 595, 842))
            kids.append(b"%d 0 R" % num)
            num += 2
        pdf.objects[node] = b"<< /Type /Pages /Parent 2 0 R /Rotate %d /Kids [%s] /Count %d >>" % (
            rotate,
            b" ".join(kids),
            len(kids),
        )
        nodes.append(b"%d 0 R" % node)
        total += len(kids)
    pdf.objects[2] = (
        b"<< /Type /Pages /Kids [%s] /Count %d /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> >>"
        % (
            b" ".join(nodes),
            total,
        )
    )
    return pdf.write(root=1, info=_info(pdf, 90))


def rotate_unnormalised() -> bytes:
    """/Rotate values that are multiples of 90 but outside 0..270: -90, 450, -180, 720."""
    pdf = _simple_doc([(f"Rotate {r}", b"/Rotate %d" % r) for r in (-90, 450, -180, 720)])
    return pdf.write(root=1, info=_info(pdf, 20))


def inherited_tree() -> bytes:
    """Three-level page tree: pages carry no /MediaBox, /CropBox, /Resources or /Rotate of their own."""
    pdf = RawPdf()
    pdf.objects[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    pdf.objects[3] = FONT
    pdf.objects[4] = b"<< /Font << /F1 3 0 R >> >>"
    # 2 (root: MediaBox A4, Resources) -> 5 (CropBox) -> 6 (Rotate 90) -> pages 20, 22
    #                                  -> 7 (MediaBox Letter-ish, CropBox) -> pages 24, 26
    #                                  -> page 28 (direct child of the root)
    pdf.objects[2] = b"<< /Type /Pages /Kids [5 0 R 7 0 R 28 0 R] /Count 5 /MediaBox [0 0 595 842] /Resources 4 0 R >>"
    pdf.objects[5] = b"<< /Type /Pages /Parent 2 0 R /Kids [6 0 R] /Count 2 /CropBox [20 20 575 822] >>"
    pdf.objects[6] = b"<< /Type /Pages /Parent 5 0 R /Kids [20 0 R 22 0 R] /Count 2 /Rotate 90 >>"
    pdf.objects[7] = (
        b"<< /Type /Pages /Parent 2 0 R /Kids [24 0 R 26 0 R] /Count 2 "
        b"/MediaBox [0 0 612 792] /CropBox [0 0 612 700] >>"
    )
    layout = [(20, 6, 595, 842, "inherits MediaBox+Resources (root), CropBox (node 5), Rotate 90 (node 6)")]
    layout += [(22, 6, 595, 842, "second page under node 6")]
    layout += [(24, 7, 612, 792, "inherits MediaBox+CropBox (node 7), Resources (root)")]
    layout += [(26, 7, 612, 792, "second page under node 7")]
    layout += [(28, 2, 595, 842, "direct child of the root node")]
    for page, parent, w, h, label in layout:
        pdf.objects[page] = b"<< /Type /Page /Parent %d 0 R /Contents %d 0 R >>" % (parent, page + 1)
        pdf.objects[page + 1] = Stream(b"", page_content(label[:60], w, h))
    return pdf.write(root=1, info=_info(pdf, 40))


def page_boxes() -> bytes:
    """CropBox smaller than MediaBox, a MediaBox with a negative origin, and a CropBox reaching outside the MediaBox."""
    pdf = RawPdf()
    pdf.objects[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    pdf.objects[3] = FONT
    pages = [
        (b"/MediaBox [0 0 595 842] /CropBox [50 80 545 762] /TrimBox [60 90 535 752] /BleedBox [55 85 540 757]", 0, 0),
        (b"/MediaBox [-200 -300 395 542]", -200, -300),
        (b"/MediaBox [0 0 595 842] /CropBox [-40 -40 400 600]", 0, 0),
    ]
    kids = []
    for i, (boxes, x0, y0) in enumerate(pages):
        num = 10 + 2 * i
        pdf.objects[num] = b"<< /Type /Page /Parent 2 0 R %s /Contents %d 0 R >>" % (boxes, num + 1)
        pdf.objects[num + 1] = Stream(b"", page_content(f"Page boxes {i + 1}", 595, 842, x0=x0, y0=y0))
        kids.append(b"%d 0 R" % num)
    pdf.objects[2] = b"<< /Type /Pages /Kids [%s] /Count 3 /Resources << /Font << /F1 3 0 R >> >> >>" % b" ".join(kids)
    return pdf.write(root=1, info=_info(pdf, 30))


def pdf20() -> bytes:
    """PDF 2.0: header 2.0, no /Info, an XMP /Metadata stream, a UTF-8 text string and a trailer /ID."""
    pdf = _simple_doc([("PDF 2.0 page 1", b""), ("PDF 2.0 page 2", b"")], version="2.0")
    xmp = (
        b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        b'xmlns:pdf="http://ns.adobe.com/pdf/1.3/" pdf:Producer="sohoa corpus (hand-written PDF 2.0)">'
        b'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">H\xe1\xbb\x93 s\xc6\xa1</rdf:li></rdf:Alt></dc:title>'
        b'</rdf:Description></rdf:RDF></x:xmpmeta>\n<?xpacket end="w"?>'
    )
    pdf.objects[20] = Stream(b"/Type /Metadata /Subtype /XML", xmp, binary=True)
    # PDF 2.0 allows UTF-8 text strings (BOM EF BB BF): "Hồ sơ" as the document language-tagged title of an outline.
    pdf.objects[1] = b"<< /Type /Catalog /Pages 2 0 R /Metadata 20 0 R /Lang (vi-VN) /Outlines 21 0 R >>"
    pdf.objects[21] = b"<< /Type /Outlines /First 22 0 R /Last 22 0 R /Count 1 >>"
    pdf.objects[22] = b"<< /Title (\xef\xbb\xbfH\xe1\xbb\x93 s\xc6\xa1) /Parent 21 0 R /Dest [4 0 R /Fit] >>"
    ident = b"<5e0a2b1c9d3f4e6a7b8c9d0e1f2a3b4c>"
    return pdf.write(root=1, trailer_extra=b"/ID [%s %s]" % (ident, ident))


def line_endings(eol: bytes) -> bytes:
    """Every line (objects, streams, xref entries, trailer) ends in ``eol``."""
    name = {b"\r\n": "CRLF", b"\r": "CR"}[eol]
    pdf = _simple_doc([(f"{name} line endings p1", b""), (f"{name} line endings p2", b"")], eol=eol)
    return pdf.write(root=1, info=_info(pdf, 20))


def wrong_size() -> bytes:
    """Trailer /Size 5 while objects go up to 31 (readers must not trust /Size)."""
    pdf = _simple_doc([("Wrong /Size page 1", b""), ("Wrong /Size page 2", b"")])
    pdf.objects[30] = b"<< /Producer (hand-written, /Size too small) >>"
    pdf.objects[31] = b"(an object numbered beyond /Size)"
    return pdf.write(root=1, info=30, size=5)


def damaged_startxref() -> bytes:
    """startxref points 9 bytes before the xref table: readers have to repair (reconstruct) the xref."""
    pdf = _simple_doc([("Damaged startxref p1", b""), ("Damaged startxref p2", b"")])
    return pdf.write(root=1, info=_info(pdf, 20), startxref_delta=-9)


def trailing_garbage() -> bytes:
    """Bytes after %%EOF (NULs and a mail gateway's footer), and no EOL right after the marker."""
    pdf = _simple_doc([("Trailing bytes after EOF", b"")])
    data = pdf.write(root=1, info=_info(pdf, 20))
    return data.rstrip(b"\n") + b"\x00\x00\x00\r\n-- scanned by mailgw 1.0 --\r\n"


def generations() -> bytes:
    """Objects with generation numbers above 0, a free-list chain and xref subsections with gaps."""
    pdf = _simple_doc([("Generations above zero p1", b""), ("Generations above zero p2", b"")])
    for num in (3, 5, 7):
        pdf.gens[num] = num - 1
    pdf.objects[2] = pdf.objects[2].replace(b"/F1 3 0 R", b"/F1 3 2 R")  # type: ignore[union-attr]
    pdf.objects[4] = pdf.objects[4].replace(b"5 0 R", b"5 4 R")  # type: ignore[union-attr]
    pdf.objects[6] = pdf.objects[6].replace(b"7 0 R", b"7 6 R")  # type: ignore[union-attr]
    pdf.free = {8: (9, 1), 9: (0, 3)}  # 0 -> 8 -> 9 -> 0: objects deleted in earlier editing sessions
    pdf.objects[40] = b"<< /Producer (hand-written, generations) >>"
    return pdf.write(root=1, info=40)


def shared_annots() -> bytes:
    """/Annots as an indirect array shared by no one else, /Contents arrays, a content stream shared by two pages."""
    pdf = RawPdf()
    pdf.objects[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    pdf.objects[2] = b"<< /Type /Pages /Kids [4 0 R 5 0 R] /Count 2 /MediaBox [0 0 595 842] >>"
    pdf.objects[3] = FONT
    pdf.objects[6] = b"<< /Font << /F1 3 0 R >> >>"
    header = b"q 0.9 0.9 0.6 rg 0 792 595 50 re f Q BT /F1 12 Tf 30 810 Td (Shared header stream) Tj ET\n"
    pdf.objects[7] = Stream(b"", header)
    pdf.objects[8] = Stream(b"", page_content("Annotations page 1", 595, 700))
    pdf.objects[9] = Stream(b"", page_content("Annotations page 2", 595, 700))
    pdf.objects[4] = b"<< /Type /Page /Parent 2 0 R /Resources 6 0 R /Contents [7 0 R 8 0 R] /Annots 10 0 R >>"
    pdf.objects[5] = b"<< /Type /Page /Parent 2 0 R /Resources 6 0 R /Contents [7 0 R 9 0 R] /Annots [13 0 R] >>"
    pdf.objects[10] = b"[11 0 R 12 0 R]"
    pdf.objects[11] = (
        b"<< /Type /Annot /Subtype /Link /Rect [40 600 300 630] /Border [0 0 2] /C [0 0 1] "
        b"/A << /S /URI /URI (https://dichvucong.gov.vn/) >> >>"
    )
    pdf.objects[12] = (
        b"<< /Type /Annot /Subtype /Square /Rect [320 560 520 660] /C [1 0 0] /IC [1 0.9 0.2] /BS << /W 4 >> "
        b"/F 4 /Contents (Ghi chu) /AP << /N 14 0 R >> >>"
    )
    pdf.objects[13] = (
        b"<< /Type /Annot /Subtype /Square /Rect [60 420 260 500] /C [0 0.5 0] /F 4 /AP << /N 14 0 R >> >>"
    )
    pdf.objects[14] = Stream(
        b"/Type /XObject /Subtype /Form /BBox [0 0 200 100]",
        b"q 1 0.9 0.2 rg 0 0 200 100 re f 1 0 0 RG 4 w 2 2 196 96 re S Q\n",
    )
    return pdf.write(root=1, info=_info(pdf, 30))


def catalog_extras() -> bytes:
    """A catalog carrying what a signer's rewrite must keep: /Extensions, /StructTreeRoot with /StructParents on
    pages, /MarkInfo, /Lang, /PageLabels, /Outlines, /ViewerPreferences, /PageMode, /OCProperties, /Names."""
    pdf = _simple_doc([("Catalog extras p1", b"/StructParents 0"), ("Catalog extras p2", b"/StructParents 1")])
    pdf.objects[5] = Stream(b"", b"/P << /MCID 0 >> BDC\n" + page_content("Catalog extras p1", 595, 842) + b"EMC\n")
    pdf.objects[7] = Stream(b"", b"/P << /MCID 0 >> BDC\n" + page_content("Catalog extras p2", 595, 842) + b"EMC\n")
    pdf.objects[1] = (
        b"<< /Type /Catalog /Pages 2 0 R /Version /1.7 "
        b"/Extensions << /ADBE << /BaseVersion /1.7 /ExtensionLevel 3 >> >> "
        b"/MarkInfo << /Marked true >> /Lang (vi-VN) /StructTreeRoot 20 0 R "
        b"/PageLabels << /Nums [0 << /S /r >> 1 << /S /D /P (Trang ) >>] >> "
        b"/Outlines 30 0 R /PageMode /UseOutlines /ViewerPreferences << /DisplayDocTitle true >> "
        b"/OCProperties << /OCGs [33 0 R] /D << /ON [33 0 R] >> >> "
        b"/Names << /Dests << /Names [(trang1) [4 0 R /Fit]] >> >> >>"
    )
    pdf.objects[20] = b"<< /Type /StructTreeRoot /K [21 0 R] /ParentTree 24 0 R /ParentTreeNextKey 2 >>"
    pdf.objects[21] = b"<< /Type /StructElem /S /Document /P 20 0 R /K [22 0 R 23 0 R] >>"
    pdf.objects[22] = b"<< /Type /StructElem /S /P /P 21 0 R /Pg 4 0 R /K 0 >>"
    pdf.objects[23] = b"<< /Type /StructElem /S /P /P 21 0 R /Pg 6 0 R /K 0 >>"
    pdf.objects[24] = b"<< /Nums [0 [22 0 R] 1 [23 0 R]] >>"
    pdf.objects[30] = b"<< /Type /Outlines /First 31 0 R /Last 32 0 R /Count 2 >>"
    pdf.objects[31] = b"<< /Title (Trang 1) /Parent 30 0 R /Next 32 0 R /Dest [4 0 R /Fit] >>"
    pdf.objects[32] = b"<< /Title (Trang 2) /Parent 30 0 R /Prev 31 0 R /Dest [6 0 R /Fit] >>"
    pdf.objects[33] = b"<< /Type /OCG /Name (Lop noi dung) >>"
    return pdf.write(root=1, info=_info(pdf, 40))


def _xref_stream(entries: dict[int, tuple[int, int, int]], *, size: int, extra: bytes) -> Stream:
    """An uncompressed cross-reference stream with /W [1 4 2] over the given entries (type, field2, field3)."""
    nums = sorted(entries)
    index, data = [], b""
    start = 0
    while start < len(nums):
        end = start
        while end + 1 < len(nums) and nums[end + 1] == nums[end] + 1:
            end += 1
        index.append(b"%d %d" % (nums[start], end - start + 1))
        for n in nums[start : end + 1]:
            kind, f2, f3 = entries[n]
            data += bytes([kind]) + f2.to_bytes(4, "big") + f3.to_bytes(2, "big")
        start = end + 1
    return Stream(
        b"/Type /XRef /W [1 4 2] /Index [%s] /Size %d %s" % (b" ".join(index), size, extra), data, binary=True
    )


def hybrid_xref() -> bytes:
    """Hybrid-reference file: an xref table for PDF 1.4 readers plus /XRefStm naming objects kept in an
    object stream (the second page and the font), which the table leaves out."""
    pdf = RawPdf(version="1.5")
    content_p2 = page_content("Hybrid xref: page in an object stream", 595, 842)
    pdf.objects[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    pdf.objects[2] = b"<< /Type /Pages /Kids [4 0 R 6 0 R] /Count 2 /MediaBox [0 0 595 842] >>"
    pdf.objects[4] = b"<< /Type /Page /Parent 2 0 R /Contents 5 0 R /Resources << /Font << /F1 3 0 R >> >> >>"
    pdf.objects[5] = Stream(b"", page_content("Hybrid xref: classic page", 595, 842))
    pdf.objects[7] = Stream(b"", content_p2)
    pdf.objects[9] = b"<< /Producer (hand-written hybrid-reference file) >>"
    compressed = {
        3: FONT,
        6: b"<< /Type /Page /Parent 2 0 R /Contents 7 0 R /Resources << /Font << /F1 3 0 R >> >> >>",
    }
    header, body = b"", b""
    for num, obj in compressed.items():
        header += b"%d %d " % (num, len(body))
        body += obj + b"\n"
    pdf.objects[8] = Stream(
        b"/Type /ObjStm /N %d /First %d" % (len(compressed), len(header)), header + body, binary=True
    )

    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    for num in sorted(pdf.objects):
        offsets[num] = len(out)
        out += pdf.serialise(num, pdf.objects[num])
    xrefstm_num = 10
    xrefstm_at = len(out)
    entries = {n: (2, 8, i) for i, n in enumerate(compressed)}
    out += pdf.serialise(xrefstm_num, _xref_stream(entries, size=11, extra=b""))
    offsets[xrefstm_num] = xrefstm_at
    table_at = len(out)
    # the compressed objects are left out of the table (subsection gaps), so a 1.5 reader finds them in the stream
    out += b"xref\n" + pdf._xref_sections(offsets)
    out += b"trailer\n<< /Size 11 /Root 1 0 R /Info 9 0 R /XRefStm %d >>\nstartxref\n%d\n%%%%EOF\n" % (
        xrefstm_at,
        table_at,
    )
    return bytes(out)


def incremental_history() -> bytes:
    """Three revisions: the original (xref table), an update replacing page 1's content and the /Info
    (xref table with /Prev), then an update adding a page (cross-reference stream with /Prev)."""
    pdf = _simple_doc([("Revision 1 page 1 (replaced later)", b""), ("Revision 1 page 2", b"")])
    data = bytearray(pdf.write(root=1, info=_info(pdf, 20, b"original producer")))
    first_xref = int(data.rsplit(b"startxref", 1)[1].split()[0])

    # revision 2: new content for page 1 (same object number 5, generation 0), new /Info
    rev2 = {
        5: Stream(b"", page_content("Revision 2 replaced page 1", 595, 842)),
        20: b"<< /Producer (editor, rev 2) >>",
    }
    offsets = {}
    for num, obj in rev2.items():
        offsets[num] = len(data)
        data += pdf.serialise(num, obj)
    xref2 = len(data)
    data += b"xref\n" + pdf._xref_sections(offsets, with_free_head=False)
    data += b"trailer\n<< /Size 21 /Root 1 0 R /Info 20 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (first_xref, xref2)

    # revision 3: a third page, a new page tree, and an xref stream
    rev3: dict[int, Obj] = {
        21: b"<< /Type /Page /Parent 2 0 R /Contents 22 0 R >>",
        22: Stream(b"", page_content("Revision 3 added page 3", 595, 842)),
        2: pdf.objects[2].replace(b"[4 0 R 6 0 R] /Count 2", b"[4 0 R 6 0 R 21 0 R] /Count 3"),  # type: ignore[union-attr]
    }
    offsets3 = {}
    for num, obj in rev3.items():
        offsets3[num] = len(data)
        data += pdf.serialise(num, obj)
    xref3 = len(data)
    entries = {n: (1, off, 0) for n, off in offsets3.items()} | {23: (1, xref3, 0)}
    stream = _xref_stream(entries, size=24, extra=b"/Root 1 0 R /Info 20 0 R /Prev %d" % xref2)
    data += pdf.serialise(23, stream)
    data += b"startxref\n%d\n%%%%EOF\n" % xref3
    return bytes(data)


def compressed_xref_stream() -> bytes:
    """Acrobat-style PDF 1.5: everything but streams in a Flate object stream, a Flate xref stream with
    a PNG-Up predictor (/DecodeParms), no xref table at all."""
    objs = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [4 0 R] /Count 1 /MediaBox [0 0 595 842] >>",
        3: FONT,
        4: b"<< /Type /Page /Parent 2 0 R /Contents 5 0 R /Resources << /Font << /F1 3 0 R >> >> >>",
        6: b"<< /Producer (hand-written, predictor xref stream) >>",
    }
    header, body = b"", b""
    for num, obj in objs.items():
        header += b"%d %d " % (num, len(body))
        body += obj + b" "
    objstm = zlib.compress(header + body)
    content = zlib.compress(page_content("Compressed object and xref streams", 595, 842))
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    at5 = len(out)
    out += (
        b"5 0 obj\n<< /Filter /FlateDecode /Length %d >>\nstream\n" % len(content) + content + b"\nendstream\nendobj\n"
    )
    at7 = len(out)
    out += b"7 0 obj\n<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>\nstream\n" % (
        len(objs),
        len(header),
        len(objstm),
    )
    out += objstm + b"\nendstream\nendobj\n"
    at8 = len(out)
    rows = (
        [(0, 0, 65535)] + [(2, 7, i) for i in range(3)] + [(2, 7, 3), (1, at5, 0), (2, 7, 4), (1, at7, 0), (1, at8, 0)]
    )
    raw, previous = b"", bytes(7)
    for kind, f2, f3 in rows:
        row = bytes([kind]) + f2.to_bytes(4, "big") + f3.to_bytes(2, "big")
        raw += b"\x02" + bytes((a - b) % 256 for a, b in zip(row, previous, strict=True))  # PNG Up filter
        previous = row
    packed = zlib.compress(raw)
    out += (
        b"8 0 obj\n<< /Type /XRef /Size 9 /W [1 4 2] /Root 1 0 R /Info 6 0 R /Filter /FlateDecode "
        b"/DecodeParms << /Predictor 12 /Columns 7 >> /ID [<0011223344556677> <0011223344556677>] "
        b"/Length %d >>\nstream\n" % len(packed)
    )
    out += packed + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % at8
    return bytes(out)


HANDWRITTEN: dict[str, tuple[Callable[[], bytes], str]] = {
    "raw-rotate-direct": (rotate_direct, "/Rotate 0/90/180/270 on the pages themselves"),
    "raw-rotate-inherited": (rotate_inherited, "/Rotate 0/90/180/270 inherited from intermediate /Pages nodes"),
    "raw-rotate-unnormalised": (rotate_unnormalised, "/Rotate -90, 450, -180, 720"),
    "raw-inherited-tree": (inherited_tree, "3-level page tree, pages inherit MediaBox/CropBox/Resources/Rotate"),
    "raw-page-boxes": (page_boxes, "CropBox inside MediaBox, negative-origin MediaBox, CropBox beyond MediaBox"),
    "raw-pdf20": (pdf20, "PDF 2.0 header, no /Info, XMP metadata, UTF-8 text string, /ID"),
    "raw-crlf": (lambda: line_endings(b"\r\n"), "CRLF line endings everywhere, xref entries included"),
    "raw-cr-only": (lambda: line_endings(b"\r"), "CR-only line endings everywhere, xref entries included"),
    "raw-wrong-size": (wrong_size, "trailer /Size 5 below the highest object number 31"),
    "raw-damaged-startxref": (damaged_startxref, "startxref 9 bytes off: the xref must be reconstructed"),
    "raw-trailing-garbage": (trailing_garbage, "bytes after %%EOF, no EOL after the marker"),
    "raw-generations": (generations, "objects with generation > 0, a free-list chain, xref subsections with gaps"),
    "raw-shared-annots": (shared_annots, "indirect /Annots array, /Contents arrays, a stream shared by 2 pages"),
    "raw-catalog-extras": (catalog_extras, "/Extensions, StructTreeRoot + /StructParents, PageLabels, OCProperties"),
    "raw-hybrid-xref": (hybrid_xref, "hybrid reference: xref table + /XRefStm, a page only in an object stream"),
    "raw-incremental-history": (incremental_history, "3 revisions: table, table with /Prev, xref stream with /Prev"),
    "raw-predictor-xref-stream": (compressed_xref_stream, "Flate object stream + PNG-predictor xref stream only"),
}


def write_handwritten(name: str, out: Path) -> Path:
    out.write_bytes(HANDWRITTEN[name][0]())
    return out
