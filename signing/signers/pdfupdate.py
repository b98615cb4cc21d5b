"""Incremental updates written as bytes: what the batch signer appends to a PDF.

The input is parsed once with qpdf (pikepdf) for the few facts an update needs (trailer, catalog,
first page, AcroForm); nothing of the original is rewritten. The update holds new objects and new
versions of changed objects, followed by a cross-reference section of the same kind as the
previous one (table or stream) whose /Prev points at it (ISO 32000-1 §7.5.6).

What makes an update correct on files other producers wrote:

* the file is opened *without* pushing inherited page attributes down (qpdf's default), so a page
  is written back exactly as the file holds it, never with references to objects that exist only
  in qpdf's memory;
* every value is serialised by pikepdf (qpdf hands integers, reals and booleans back as Python
  values, which are encoded through a pikepdf array);
* new objects are numbered from max(trailer /Size, highest object number + 1), so a trailer /Size
  that is too small cannot make them overwrite existing objects;
* a file qpdf had to repair (wrong startxref, broken cross-reference data) or that uses hybrid
  cross-reference sections is not appended to as it is: an unsigned single-revision file is
  rewritten by qpdf first (nothing to preserve yet), anything else is refused
  (:func:`open_for_update`).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pikepdf
from pyhanko.pdf_utils.reader import PdfFileReader

from signing.errors import PdfCertified, PdfEncrypted, PdfHybridXref, PdfInvalid, PdfRepaired
from signing.pdfcompat import install as tolerate_pillow_xref

tolerate_pillow_xref()  # the readability check below must read what verification reads

_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF", re.S)
_OBJ_AT = re.compile(rb"\s*\d+\s+\d+\s+obj\b")
# qpdf's warnings when it had to rebuild or guess cross-reference data.
_REPAIR_WARNINGS = ("reconstruct", "xref not found", "file is damaged", "invalid xref")


def pdf_text(value: str) -> bytes:
    """A PDF text string: literal for printable ASCII, UTF-16BE with BOM otherwise."""
    if value.isascii() and value.isprintable():
        escaped = value.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        return b"(" + escaped.encode("ascii") + b")"
    return b"<FEFF" + value.encode("utf-16-be").hex().upper().encode("ascii") + b">"


def ref(num: int, gen: int = 0) -> bytes:
    return b"%d %d R" % (num, gen)


def unparse(value: Any) -> bytes:
    """PDF syntax of a value read through pikepdf; indirect objects stay references (``N G R``).

    pikepdf returns PDF integers, reals and booleans as ``int``, ``Decimal`` and ``bool``, which
    have no ``unparse``: they are written here (reals in full, as pikepdf would round them); anything
    else goes through pikepdf as the one element of an array.
    """
    if isinstance(value, pikepdf.Object):
        return value.unparse()
    if isinstance(value, bool):
        return b"true" if value else b"false"
    if isinstance(value, int):
        return b"%d" % value
    if isinstance(value, Decimal | float):  # PDF reals have no exponent; keep every digit the file had
        text = format(Decimal(str(value)) if isinstance(value, float) else value, "f")
        return text.encode("ascii")
    return pikepdf.Array([value]).unparse()[1:-1].strip()


def dict_bytes(obj: pikepdf.Object, replace: dict[str, bytes] | None = None) -> bytes:
    """Serialise a dictionary keeping indirect values as references, with some keys replaced/added."""
    replace = dict(replace or {})
    parts = [b"<<"]
    for name in obj:
        key = str(name)  # pikepdf types a dictionary's keys as Object: they are str
        value = replace.pop(key) if key in replace else unparse(obj.get(key))
        parts.append(pikepdf.Name(key).unparse() + b" " + value)
    for key, value in replace.items():
        parts.append(pikepdf.Name(key).unparse() + b" " + value)
    parts.append(b">>")
    return b"\n".join(parts)


def array_bytes(items: Iterable[Any], extra: Iterable[bytes] = ()) -> bytes:
    return b"[" + b" ".join([*(unparse(item) for item in items), *extra]) + b"]"


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
        """The update's bytes and where (within them) each object's body starts, for patching."""
        out = io.BytesIO()
        out.write(b"\n")
        offsets: dict[int, int] = {}
        entries: list[tuple[int, int, int]] = []
        for num, gen, body in self.objects:
            entries.append((num, gen, self.base_len + out.tell()))
            out.write(b"%d %d obj\n" % (num, gen))
            offsets[num] = out.tell()
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


@dataclass(frozen=True)
class InputFacts:
    """What decides whether a file may take an incremental update as it is.

    ``repaired``: qpdf had to rebuild or guess cross-reference data, startxref points nowhere
    useful, or the trailer's /Size does not cover every object (readers disagree on such files).
    """

    repaired: bool
    hybrid: bool
    signed: bool
    certified: bool
    revisions: int

    @property
    def has_history(self) -> bool:
        """Signatures, a certification or earlier incremental updates: nothing a rewrite may touch."""
        return self.signed or self.certified or self.revisions > 1


@dataclass
class ParsedPdf:
    """What an incremental update needs to know about the input."""

    doc: pikepdf.Pdf
    length: int
    prev_xref: int
    xref_stream: bool
    size: int
    trailer: dict[str, bytes]
    facts: InputFacts

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


class _NeedsRewrite(Exception):
    """An unsigned single-revision file qpdf had to repair, or one with hybrid cross-references."""


def open_for_update(pdf: bytes) -> tuple[bytes, ParsedPdf]:
    """Parse ``pdf`` for an incremental update; returns the bytes to append to and the parse.

    Refuses encrypted files (PDF_ENCRYPTED: signing must neither decrypt them silently nor
    sign what a reader cannot see), DocMDP P=1 certified files (PDF_CERTIFIED), and damaged or
    hybrid-reference files that carry signatures or history (PDF_REPAIRED, PDF_HYBRID_XREF).
    A damaged or hybrid file with no history is first rewritten by qpdf, which is what the
    issue calls rewrite-before-first-signature: there is no earlier signature to break.
    """
    try:
        return pdf, parse(pdf)
    except _NeedsRewrite:
        pass
    fixed = rewrite(pdf)
    try:
        return fixed, parse(fixed)
    except _NeedsRewrite:
        raise PdfInvalid("damaged even after a rewrite") from None


def prepare_input(pdf: bytes) -> tuple[bytes, InputFacts]:
    """The bytes an incremental signer may append to (see :func:`open_for_update`), and what they hold."""
    data, parsed = open_for_update(pdf)
    parsed.close()
    return data, parsed.facts


def is_certified(pdf: bytes) -> bool:
    """True when ``pdf`` carries a certification (DocMDP) signature; unreadable files say False here
    and are refused later by :func:`open_for_update`."""
    try:
        with pikepdf.open(io.BytesIO(pdf), inherit_page_attributes=False) as doc:
            return _certification(doc) is not None
    except (pikepdf.PdfError, ValueError, TypeError, AttributeError):
        return False


def rewrite(pdf: bytes) -> bytes:
    """A full qpdf rewrite: only for a file with nothing to preserve (no signature, no history)."""
    try:
        with pikepdf.open(io.BytesIO(pdf), inherit_page_attributes=False) as doc:
            out = io.BytesIO()
            doc.save(out, fix_metadata_version=False)
            return out.getvalue()
    except pikepdf.PdfError as exc:
        raise PdfInvalid(type(exc).__name__) from None


def parse(pdf: bytes | memoryview) -> ParsedPdf:
    """Open ``pdf`` for an update; refuse encrypted, certified (no changes) and page-less files."""
    try:
        doc = pikepdf.open(io.BytesIO(pdf), inherit_page_attributes=False)
    except pikepdf.PasswordError:
        raise PdfEncrypted("password-protected PDF") from None
    except pikepdf.PdfError as exc:
        raise PdfInvalid(type(exc).__name__) from None
    try:
        if doc.is_encrypted:
            raise PdfEncrypted("encrypted PDF")
        certified = check_not_certified(doc)
        if len(doc.pages) < 1:
            raise PdfInvalid("PDF has no pages")
        found = list(_STARTXREF.finditer(bytes(pdf[-1024:])))
        if not found:
            raise PdfInvalid("no startxref")
        prev_xref = int(found[-1].group(1))
        at = bytes(pdf[prev_xref : prev_xref + 64])
        xref_stream = not at.startswith(b"xref")
        highest = max((num for num, _gen in doc.get_xref_table()), default=0)
        len(doc.objects)  # reads every object: qpdf warns here about offsets it had to guess
        declared_size = int(doc.trailer.get("/Size", 0))
        strict = _strict_reader(pdf)
        facts = InputFacts(
            repaired=_repaired(doc.get_warnings())
            or (xref_stream and not _OBJ_AT.match(at))
            or declared_size <= highest
            or strict is None,
            hybrid=strict is not None and strict.xrefs.hybrid_xrefs_present,
            signed=has_signatures(doc),
            certified=certified,
            revisions=_revisions(pdf, doc),
        )
        _check_facts(facts)
        trailer = doc.trailer
        items: dict[str, bytes] = {"/Root": ref(*doc.Root.objgen)}
        info = trailer.get("/Info")
        if info is not None:
            items["/Info"] = unparse(info)
        ids = trailer.get("/ID")
        if ids is not None and len(ids) == 2:
            items["/ID"] = array_bytes(ids)
        size = max(declared_size, highest + 1)
    except (PdfEncrypted, PdfCertified, PdfInvalid, PdfRepaired, PdfHybridXref, _NeedsRewrite):
        doc.close()
        raise
    except (pikepdf.PdfError, ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        doc.close()
        raise PdfInvalid(type(exc).__name__) from None
    return ParsedPdf(doc, len(pdf), prev_xref, xref_stream, size, items, facts)


def _check_facts(facts: InputFacts) -> None:
    if not (facts.repaired or facts.hybrid):
        return
    if facts.has_history:
        raise (PdfHybridXref if facts.hybrid else PdfRepaired)("signed or updated before")
    raise _NeedsRewrite


def _strict_reader(pdf: bytes | memoryview) -> PdfFileReader | None:
    """pyHanko's strict reader (what verification uses) on ``pdf``, or None when it refuses the file.

    A file it refuses (e.g. an object generation with no freed predecessor) would be signed
    correctly and then reported unreadable by ``sohoa verify``: such a file is treated as damaged.
    Its view of hybrid cross-references is the one verification acts on, so it decides that too.
    Costs well under a millisecond for a one-page file, 3 ms for 200 pages.
    """
    try:
        reader = PdfFileReader(io.BytesIO(bytes(pdf)), strict=True)
        reader.root  # noqa: B018 - forces the trailer
    except MemoryError:
        raise
    except Exception:  # pyHanko fails on hostile input with anything (zlib.error, struct.error...)
        return None
    return reader


def _repaired(warnings: list[str]) -> bool:
    return any(marker in w.lower() for w in warnings for marker in _REPAIR_WARNINGS)


def _revisions(pdf: bytes | memoryview, doc: pikepdf.Pdf) -> int:
    """Count of revisions: one per end-of-file marker, less the first-page section of a linearized file."""
    count = bytes(pdf).count(b"%%EOF")
    if count > 1 and doc.is_linearized:
        count -= 1
    return max(count, 1)


_FIELD_LIMIT = 10_000


def has_signatures(doc: pikepdf.Pdf) -> bool:
    """Whether the document carries any signature, erring on "yes": this guards every full rewrite.

    Any /Perms (DocMDP, usage rights), or a form field (field type inherited from its parent) whose
    value is a signature, or more fields than are worth walking, counts as signed.
    """
    root = doc.Root
    if "/Perms" in root:
        return True
    acroform = root.get("/AcroForm")
    if not isinstance(acroform, pikepdf.Dictionary):
        return False
    fields: list[tuple[object, object]] = [(f, None) for f in acroform.get("/Fields", [])]
    seen = 0
    while fields:
        seen += 1
        if seen > _FIELD_LIMIT:
            return True
        item, inherited = fields.pop()
        if not isinstance(item, pikepdf.Dictionary):
            continue
        kind = item.get("/FT", inherited)
        value = item.get("/V")
        if isinstance(value, pikepdf.Dictionary) and ("/ByteRange" in value or kind == pikepdf.Name.Sig):
            return True
        kids: object = item.get("/Kids", [])
        fields.extend((kid, kind) for kid in (kids if isinstance(kids, pikepdf.Array) else []))
    return False


def check_not_certified(doc: pikepdf.Pdf) -> bool:
    """Refuse a document locked against any change; True when it is certified (DocMDP).

    Locked: a certification with DocMDP P=1, a signed field whose signature carries a DocMDP
    transform with P=1 (an approval signature may declare one), or a signed field whose /Lock
    dictionary says P=1 (ISO 32000-2 §12.7.5.5). P=2 (form filling and signing) and P=3 (also
    annotations) allow a new signature; pyHanko's difference analysis in the tests checks that
    what sohoa appends stays within them.
    """
    certification = _certification(doc)
    if certification is not None and _docmdp_level(certification) == 1:
        raise PdfCertified("DocMDP P=1")
    for sig_field in _signed_fields(doc):
        lock = sig_field.get("/Lock")
        if isinstance(lock, pikepdf.Dictionary) and _int(lock.get("/P")) == 1:
            raise PdfCertified(f"field {sig_field.get('/T', '')} locks the document (P=1)")
        if _docmdp_level(sig_field.V) == 1:
            raise PdfCertified(f"signature {sig_field.get('/T', '')} carries DocMDP P=1")
    return certification is not None


def _certification(doc: pikepdf.Pdf) -> pikepdf.Dictionary | None:
    """The certification signature's dictionary (catalog /Perms /DocMDP), if the document has one."""
    perms = doc.Root.get("/Perms")
    docmdp = perms.get("/DocMDP") if isinstance(perms, pikepdf.Dictionary) else None
    return docmdp if isinstance(docmdp, pikepdf.Dictionary) else None


def _docmdp_level(signature: pikepdf.Object) -> int | None:
    """The P of a signature dictionary's DocMDP transform (2 when it names none), or None without one."""
    level = None
    references: object = signature.get("/Reference", [])
    for reference in references if isinstance(references, pikepdf.Array) else []:
        if not isinstance(reference, pikepdf.Dictionary) or reference.get("/TransformMethod") != "/DocMDP":
            continue
        params = reference.get("/TransformParams")
        level = _int(params.get("/P")) if isinstance(params, pikepdf.Dictionary) else None
        level = 2 if level is None else level
    return level


def _signed_fields(doc: pikepdf.Pdf) -> list[pikepdf.Dictionary]:
    acroform = doc.Root.get("/AcroForm")
    fields: Iterable[object] = acroform.get("/Fields", []) if isinstance(acroform, pikepdf.Dictionary) else []
    return [
        f
        for f in list(fields)[:_FIELD_LIMIT]
        if isinstance(f, pikepdf.Dictionary) and isinstance(f.get("/V"), pikepdf.Dictionary)
    ]


def _int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload]  # whatever the PDF holds: int() decides what is a number
    except (TypeError, ValueError):
        return None
