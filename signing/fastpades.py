"""The batch signer's fast path: PAdES B-B … B-LTA written as bytes, invisible signatures.

Per document: parse once with qpdf, append one incremental update (signature dictionary with a
fixed-size /Contents, field + widget, new page /Annots and AcroForm versions, xref, trailer),
hash the byte ranges with hashlib and fill in a CMS assembled from cached parts
(:mod:`signing.cmsbuild`). B-T adds an RFC 3161 signature time-stamp, B-LT a DSS revision with
the chain and cached OCSP/CRL responses, B-LTA a document time-stamp revision after it.
Visible appearances (copy stamp, seal) go through pyHanko's staged path in :mod:`signing.pades`.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime

import pikepdf
from asn1crypto import cms

from signing.cmsbuild import CmsTemplate, RawSigner, timestamp_attribute
from signing.errors import SigningLevelUnsupported, TimestamperRequired
from signing.pdfupdate import ParsedPdf, Revision, array_bytes, dict_bytes, parse, pdf_text, ref
from signing.revocation import LtvMaterial, RevocationCache, check_validity_period, has_revocation_pointers
from signing.tsa_fast import TokenSource
from signing.vntime import to_vn

log = logging.getLogger(__name__)

LEVELS = ("B-B", "B-T", "B-LT", "B-LTA")
_BR_PLACEHOLDER = b"[0 0000000000 0000000000 0000000000]"
_ESIC = b"<< /ESIC << /Type /DeveloperExtensions /BaseVersion /1.7 /ExtensionLevel 1 >> >>"


def pdf_date(when: datetime) -> bytes:
    """PDF date string in Vietnam time, e.g. ``(D:20250301093000+07'00')``."""
    vn = to_vn(when)
    return b"(D:" + vn.strftime("%Y%m%d%H%M%S").encode("ascii") + b"+07'00')"


@dataclass
class _Doc:
    """Running state of one document across the revisions the signer appends."""

    parsed: ParsedPdf
    out: bytearray
    prev_xref: int
    next_num: int
    page_ref: tuple[int, int]
    widgets: list[int] = field(default_factory=list)
    acroform_num: int | None = None
    root_extra: dict[str, bytes] = field(default_factory=dict)
    root_written: bytes | None = None
    taken: set[str] = field(default_factory=set)

    @classmethod
    def open(cls, pdf: bytes) -> _Doc:
        parsed = parse(pdf)
        doc = parsed.doc
        page = doc.pages[0].obj
        state = cls(parsed, bytearray(pdf), parsed.prev_xref, parsed.size, page.objgen)
        acroform = doc.Root.get("/AcroForm")
        if acroform is not None:
            state.taken = {str(f.get("/T", "")) for f in acroform.get("/Fields", [])}
            if acroform.is_indirect:
                state.acroform_num = acroform.objgen[0]
        return state

    def free_name(self, wanted: str) -> str:
        name, n = wanted, 2
        stem = wanted.rstrip("0123456789") or "Signature"
        while name in self.taken:
            name, n = f"{stem}{n}", n + 1
        self.taken.add(name)
        return name

    def revision(self) -> Revision:
        rev = self.parsed.new_revision(len(self.out), self.prev_xref)
        rev.next_num = self.next_num
        return rev

    def add_field(self, rev: Revision, sig_num: int, name: str) -> None:
        """Widget + field for ``sig_num``, and new versions of the page, AcroForm and catalog."""
        widget = rev.allocate()
        rev.put(
            widget,
            0,
            b"<< /Type /Annot /Subtype /Widget /FT /Sig /F 132 /Rect [0 0 0 0] /P %s /T %s /V %s >>"
            % (ref(*self.page_ref), pdf_text(name), ref(sig_num)),
        )
        self.widgets.append(widget)
        new_refs = [ref(w) for w in self.widgets]
        doc = self.parsed.doc
        page = doc.get_object(self.page_ref)
        annots = page.get("/Annots")
        if annots is not None and annots.is_indirect:
            rev.put(*annots.objgen, array_bytes(annots, new_refs))
        else:
            rev.put(*self.page_ref, dict_bytes(page, {"/Annots": array_bytes(annots or [], new_refs)}))
        acroform = doc.Root.get("/AcroForm")
        fields = acroform.get("/Fields") if acroform is not None else None
        if fields is not None and fields.is_indirect:
            rev.put(*fields.objgen, array_bytes(fields, new_refs))
            fields_value = ref(*fields.objgen)
        else:
            fields_value = array_bytes(fields or [], new_refs)
        if self.acroform_num is None:
            self.acroform_num = rev.allocate()
            self.root_extra["/AcroForm"] = ref(self.acroform_num)
        body = {"/Fields": fields_value, "/SigFlags": b"3"}
        rev.put(self.acroform_num, 0, dict_bytes(acroform, body) if acroform is not None else _plain_dict(body))
        self.root_extra.setdefault("/Extensions", _ESIC)
        self.put_root(rev)

    def put_root(self, rev: Revision) -> None:
        root = self.parsed.doc.Root
        body = dict_bytes(root, self.root_extra)
        if body != self.root_written:
            rev.put(*root.objgen, body)
            self.root_written = body

    def append(self, rev: Revision) -> int:
        """Render ``rev`` after the current bytes; returns where the update starts."""
        body, _offsets = rev.render()
        start = len(self.out)
        self.out += body
        self.prev_xref = _xref_offset(body, start)
        self.next_num = rev.next_num
        return start


def _plain_dict(items: dict[str, bytes]) -> bytes:
    return b"<< " + b" ".join(pikepdf.Name(k).unparse() + b" " + v for k, v in items.items()) + b" >>"


def _xref_offset(body: bytes, start: int) -> int:
    tail = body[body.rindex(b"startxref") + len(b"startxref") :]
    return int(tail.split()[0])


class FastPadesSigner:
    """Signs many PDFs with one key: B-B, B-T, B-LT or B-LTA, invisible signature field.

    ``tokens`` provides RFC 3161 tokens (B-T and up); ``revocation`` the OCSP/CRL cache (B-LT
    and up, and a revocation check at start when the certificate names a responder).
    """

    def __init__(
        self,
        signer: RawSigner,
        *,
        level: str = "B-B",
        tokens: TokenSource | None = None,
        revocation: RevocationCache | None = None,
        name: str | None = None,
    ):
        if level not in LEVELS:
            raise SigningLevelUnsupported(level)
        if level != "B-B" and tokens is None:
            raise TimestamperRequired(f"level {level}")
        if level in ("B-LT", "B-LTA"):
            if not has_revocation_pointers(signer.cert):
                raise SigningLevelUnsupported(f"{level}: the certificate names no OCSP/CRL responder")
            revocation = revocation or RevocationCache()
        check_validity_period(signer.cert)
        self.signer = signer
        self.level = level
        self.tokens = tokens
        self.revocation = revocation
        self.template = CmsTemplate(signer)
        self.digest = signer.digest
        self._chain = [signer.cert, *signer.chain]
        self._name = pdf_text(name or str(signer.cert.subject.native.get("common_name", "")))
        self._token_size = 0
        self._tsa_chain: list = []
        self._material: LtvMaterial | None = None
        if revocation is not None:
            self.ltv_material()  # refuses a revoked chain before any document is touched
        if tokens is not None:
            probe = tokens.timestamp(hashlib.new(self.digest, b"probe").digest(), self.digest)
            self._token_size = len(probe) + 512
            self._tsa_chain = list(cms.ContentInfo.load(probe)["content"]["certificates"])
            self._material = None
            if level in ("B-LT", "B-LTA"):
                self.ltv_material()  # the TSA chain's status too, before the first document
        self._reserved = self.template.max_size(self._token_size) + 64

    def ltv_material(self) -> LtvMaterial:
        """The signer's (and TSA's) chain with cached revocation data; refuses revoked chains."""
        assert self.revocation is not None
        cached = self._material
        if cached is not None and (cached.expires is None or cached.expires > self.revocation.now()):
            return cached
        material = self.revocation.material(self._chain)
        if self._tsa_chain:
            tsa = [c.chosen for c in self._tsa_chain]
            leaf = next((c for c in tsa if c.extended_key_usage_value is not None), tsa[0])
            tsa_material = self.revocation.material([leaf, *tsa, *self._chain])
            material = material.merged(tsa_material)
        self._material = material
        return material

    def sign(
        self,
        pdf: bytes,
        *,
        signing_time: datetime | None = None,
        reason: str | None = None,
        location: str | None = None,
        field_name: str = "Signature1",
    ) -> bytes:
        """Return ``pdf`` with the signature (and LTV revisions for B-LT/B-LTA) appended."""
        when = signing_time or datetime.now().astimezone()
        extra = b""
        if reason:
            extra += b" /Reason " + pdf_text(reason)
        if location:
            extra += b" /Location " + pdf_text(location)
        for attempt in (1, 2):
            doc = _Doc.open(pdf)
            try:
                self._sign_revision(doc, when, extra, field_name)
                if self.level in ("B-LT", "B-LTA"):
                    append_dss(doc, self.ltv_material())
                if self.level == "B-LTA":
                    assert self.tokens is not None
                    append_doc_timestamp(doc, self.tokens, self.digest, self._token_size)
                return bytes(doc.out)
            except OverflowError:
                if attempt == 2:
                    raise
                log.info("Signature container outgrew its reservation; reserving more")
                self._token_size += 4096
                self._reserved += 4096
            finally:
                doc.parsed.close()
        raise AssertionError("unreachable")

    def _sign_revision(self, doc: _Doc, when: datetime, extra: bytes, field_name: str) -> None:
        rev = doc.revision()
        sig_num = rev.allocate()
        rev.put(
            sig_num,
            0,
            b"<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /M %s /Name %s%s"
            b" /ByteRange %s /Contents <%s> >>"
            % (pdf_date(when), self._name, extra, _BR_PLACEHOLDER, b"0" * (2 * self._reserved)),
        )
        doc.add_field(rev, sig_num, doc.free_name(field_name))
        start = doc.append(rev)
        digest, c_start, c_end = _fill_byte_range(doc.out, start, self.digest)
        der, signature = self.template.build(digest)
        if self.tokens is not None:
            token = self.tokens.timestamp(hashlib.new(self.digest, signature).digest(), self.digest)
            der, _ = self.template.build(digest, signature=signature, unsigned_attrs=[timestamp_attribute(token)])
        _fill_contents(doc.out, c_start, c_end, der)


def append_dss(doc: _Doc, material: LtvMaterial) -> None:
    """Append a revision adding ``material`` to the DSS (merged with an existing DSS, if any)."""
    rev = doc.revision()
    root = doc.parsed.doc.Root
    old = root.get("/DSS")
    arrays: dict[str, list[bytes]] = {}
    seen: set[bytes] = set()
    for key in ("/Certs", "/OCSPs", "/CRLs"):
        for item in old.get(key, []) if old is not None else []:
            arrays.setdefault(key, []).append(item.unparse())
            seen.add(hashlib.sha256(item.read_bytes()).digest())
    for key, items in (("/Certs", material.certs), ("/OCSPs", material.ocsps), ("/CRLs", material.crls)):
        for der in items:
            if hashlib.sha256(der).digest() in seen:
                continue
            num = rev.allocate()
            rev.put(num, 0, b"<< /Length %d >>\nstream\n%s\nendstream" % (len(der), der))
            arrays.setdefault(key, []).append(ref(num))
    values = {key: b"[" + b" ".join(refs) + b"]" for key, refs in arrays.items()}
    if old is not None and old.is_indirect:
        rev.put(*old.objgen, dict_bytes(old, values))
    else:
        dss = rev.allocate()
        body = dict_bytes(old, values) if old is not None else _plain_dict({"/Type": b"/DSS", **values})
        rev.put(dss, 0, body)
        doc.root_extra["/DSS"] = ref(dss)
    doc.put_root(rev)
    doc.append(rev)


def append_doc_timestamp(doc: _Doc, tokens: TokenSource, digest_name: str, token_size: int) -> None:
    """Append a document time-stamp revision (PAdES B-LTA, ETSI.RFC3161)."""
    rev = doc.revision()
    sig_num = rev.allocate()
    rev.put(
        sig_num,
        0,
        b"<< /Type /DocTimeStamp /Filter /Adobe.PPKLite /SubFilter /ETSI.RFC3161 /ByteRange %s /Contents <%s> >>"
        % (_BR_PLACEHOLDER, b"0" * (2 * token_size)),
    )
    doc.add_field(rev, sig_num, doc.free_name("DocTimeStamp1"))
    start = doc.append(rev)
    digest, c_start, c_end = _fill_byte_range(doc.out, start, digest_name)
    _fill_contents(doc.out, c_start, c_end, tokens.timestamp(digest, digest_name))


def add_ltv(
    pdf: bytes,
    material: LtvMaterial,
    tokens: TokenSource | None = None,
    *,
    digest: str = "sha256",
) -> bytes:
    """Append a DSS revision with ``material`` and, when ``tokens`` is given, a document time-stamp.

    Works on any signed PDF (from either signing path); this is how B-T becomes B-LT/B-LTA
    and how stored B-LTA documents are extended before their last time-stamp expires.
    """
    token_size = 0
    if tokens is not None:
        token_size = len(tokens.timestamp(hashlib.new(digest, b"probe").digest(), digest)) + 4096
    doc = _Doc.open(pdf)
    try:
        append_dss(doc, material)
        if tokens is not None:
            append_doc_timestamp(doc, tokens, digest, token_size)
        return bytes(doc.out)
    finally:
        doc.parsed.close()


def _fill_byte_range(out: bytearray, start: int, digest_name: str) -> tuple[bytes, int, int]:
    """Write /ByteRange of the signature dictionary appended at ``start``; digest the covered bytes."""
    br_at = out.index(b"/ByteRange " + _BR_PLACEHOLDER, start) + len(b"/ByteRange ")
    c_start = out.index(b"/Contents <", br_at) + len(b"/Contents ")
    c_end = out.index(b">", c_start) + 1
    value = b"[0 %d %d %d]" % (c_start, c_end, len(out) - c_end)
    out[br_at : br_at + len(_BR_PLACEHOLDER)] = value.ljust(len(_BR_PLACEHOLDER))
    h = hashlib.new(digest_name)
    with memoryview(out) as view:
        h.update(view[:c_start])
        h.update(view[c_end:])
    return h.digest(), c_start, c_end


def _fill_contents(out: bytearray, c_start: int, c_end: int, der: bytes) -> None:
    hexed = der.hex().upper().encode("ascii")
    room = c_end - c_start - 2
    if len(hexed) > room:
        raise OverflowError(f"signature container of {len(der)} bytes exceeds the {room // 2} reserved")
    out[c_start + 1 : c_start + 1 + len(hexed)] = hexed
