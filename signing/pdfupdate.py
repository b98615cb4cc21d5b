"""Incremental updates written as bytes: what the batch signer appends to a PDF.

The input is parsed once with qpdf (pikepdf) for the few facts an update needs (trailer, catalog,
first page, AcroForm); nothing of the original is rewritten. The update holds new objects and new
versions of changed objects, followed by a cross-reference section of the same kind as the
previous one (table or stream) whose /Prev points at it (ISO 32000-1 §7.5.6).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import pikepdf

from signing.errors import PdfCertified, PdfEncrypted, PdfInvalid

_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF", re.S)


def pdf_text(value: str) -> bytes:
    """A PDF text string: literal for printable ASCII, UTF-16BE with BOM otherwise."""
    if value.isascii() and value.isprintable():
        escaped = value.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        return b"(" + escaped.encode("ascii") + b")"
    return b"<FEFF" + value.encode("utf-16-be").hex().upper().encode("ascii") + b">"


def ref(num: int, gen: int = 0) -> bytes:
    return b"%d %d R" % (num, gen)


def dict_bytes(obj: pikepdf.Dictionary, replace: dict[str, bytes] | None = None) -> bytes:
    """Serialise a dictionary keeping indirect values as references, with some keys replaced/added."""
    replace = dict(replace or {})
    parts = [b"<<"]
    for key in obj:
        if key in replace:
            parts.append(pikepdf.Name(key).unparse() + b" " + replace.pop(key))
            continue
        value = obj.get(key)
        parts.append(pikepdf.Name(key).unparse() + b" " + value.unparse())
    for key, value in replace.items():
        parts.append(pikepdf.Name(key).unparse() + b" " + value)
    parts.append(b">>")
    return b"\n".join(parts)


def array_bytes(items: Iterable[pikepdf.Object], extra: Iterable[bytes] = ()) -> bytes:
    return b"[" + b" ".join([*(item.unparse() for item in items), *extra]) + b"]"


@dataclass
class Revision:
    """Objects of one incremental update, rendered after ``base_len`` bytes of earlier revisions."""

    base_len: int
    prev_xref: int
    next_num: int
    xref_stream: bool
    trailer: dict[str, bytes]
    objects: list[tuple[int, int, bytes]] = field(default_factory=list)

    def allocate(self) -> int:
        self.next_num += 1
        return self.next_num - 1

    def put(self, num: int, gen: int, body: bytes) -> None:
        self.objects.append((num, gen, body))

    def render(self) -> tuple[bytes, dict[int, int]]:
        """The update's bytes and the offset (within them) of each object, for patching."""
        out = io.BytesIO()
        out.write(b"\n")
        offsets: dict[int, int] = {}
        entries: list[tuple[int, int, int]] = []
        for num, gen, body in self.objects:
            offsets[num] = out.tell()
            entries.append((num, gen, self.base_len + out.tell()))
            out.write(b"%d %d obj\n" % (num, gen))
            out.write(body)
            out.write(b"\nendobj\n")
        trailer = dict(self.trailer)
        trailer["/Prev"] = b"%d" % self.prev_xref
        if self.xref_stream:
            xref_num = self.allocate()
            xref_at = self.base_len + out.tell()
            entries.append((xref_num, 0, xref_at))
            out.write(_xref_stream(xref_num, entries, trailer, self.next_num))
        else:
            xref_at = self.base_len + out.tell()
            out.write(_xref_table(entries, trailer, self.next_num))
        out.write(b"startxref\n%d\n%%%%EOF\n" % xref_at)
        return out.getvalue(), offsets


def _subsections(entries: list[tuple[int, int, int]]) -> list[list[tuple[int, int, int]]]:
    groups: list[list[tuple[int, int, int]]] = []
    for entry in sorted(entries):
        if groups and groups[-1][-1][0] + 1 == entry[0]:
            groups[-1].append(entry)
        else:
            groups.append([entry])
    return groups


def _trailer_items(trailer: dict[str, bytes], size: int) -> bytes:
    items = {"/Size": b"%d" % size, **trailer}
    return b"".join(b"%s %s\n" % (key.encode("ascii"), value) for key, value in items.items())


def _xref_table(entries: list[tuple[int, int, int]], trailer: dict[str, bytes], size: int) -> bytes:
    lines = [b"xref\n"]
    for group in _subsections(entries):
        lines.append(b"%d %d\n" % (group[0][0], len(group)))
        lines += [b"%010d %05d n\r\n" % (offset, gen) for _, gen, offset in group]
    lines.append(b"trailer\n<<\n" + _trailer_items(trailer, size) + b">>\n")
    return b"".join(lines)


def _xref_stream(num: int, entries: list[tuple[int, int, int]], trailer: dict[str, bytes], size: int) -> bytes:
    groups = _subsections(entries)
    index = b" ".join(b"%d %d" % (g[0][0], len(g)) for g in groups)
    data = b"".join(
        b"\x01" + offset.to_bytes(5, "big") + gen.to_bytes(2, "big") for g in groups for _, gen, offset in g
    )
    head = b"%d 0 obj\n<<\n/Type /XRef\n/W [1 5 2]\n/Index [%s]\n/Length %d\n" % (num, index, len(data))
    return head + _trailer_items(trailer, size) + b">>\nstream\n" + data + b"\nendstream\nendobj\n"


@dataclass
class ParsedPdf:
    """What an incremental update needs to know about the input."""

    doc: pikepdf.Pdf
    length: int
    prev_xref: int
    xref_stream: bool
    size: int
    trailer: dict[str, bytes]

    def new_revision(self, base_len: int | None = None, prev_xref: int | None = None) -> Revision:
        return Revision(
            base_len=self.length if base_len is None else base_len,
            prev_xref=self.prev_xref if prev_xref is None else prev_xref,
            next_num=self.size,
            xref_stream=self.xref_stream,
            trailer=dict(self.trailer),
        )

    def close(self) -> None:
        self.doc.close()


def parse(pdf: bytes | memoryview) -> ParsedPdf:
    """Open ``pdf`` for an update; refuse encrypted, certified (no changes) and page-less files."""
    try:
        doc = pikepdf.open(io.BytesIO(pdf))
    except pikepdf.PasswordError:
        raise PdfEncrypted("password-protected PDF") from None
    except pikepdf.PdfError as exc:
        raise PdfInvalid(type(exc).__name__) from None
    try:
        if doc.is_encrypted:
            raise PdfEncrypted("encrypted PDF")
        check_not_certified(doc)
        if len(doc.pages) < 1:
            raise PdfInvalid("PDF has no pages")
        tail = bytes(pdf[-1024:])
        found = list(_STARTXREF.finditer(tail))
        if not found:
            raise PdfInvalid("no startxref")
        prev_xref = int(found[-1].group(1))
        xref_stream = bytes(pdf[prev_xref : prev_xref + 4]) != b"xref"
        trailer = doc.trailer
        kept = {"/Root": doc.Root.objgen}
        items: dict[str, bytes] = {"/Root": ref(*kept["/Root"])}
        info = trailer.get("/Info")
        if info is not None and info.is_indirect:
            items["/Info"] = ref(*info.objgen)
        ids = trailer.get("/ID")
        if ids is not None and len(ids) == 2:
            items["/ID"] = b"[" + ids[0].unparse() + b" " + ids[1].unparse() + b"]"
        size = int(trailer.get("/Size", 0))
    except (PdfEncrypted, PdfCertified, PdfInvalid):
        doc.close()
        raise
    except (pikepdf.PdfError, ValueError, TypeError, KeyError, IndexError) as exc:
        doc.close()
        raise PdfInvalid(type(exc).__name__) from None
    return ParsedPdf(doc, len(pdf), prev_xref, xref_stream, size, items)


def check_not_certified(doc: pikepdf.Pdf) -> None:
    """Refuse a document certified with DocMDP permission 1 (no changes allowed)."""
    perms = doc.Root.get("/Perms")
    if perms is None or "/DocMDP" not in perms:
        return
    level = 2
    for reference in perms.DocMDP.get("/Reference", []):
        params = reference.get("/TransformParams")
        if params is not None and "/P" in params:
            level = int(params.P)
    if level == 1:
        raise PdfCertified("DocMDP P=1")
