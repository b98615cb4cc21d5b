"""The batch signer's fast path: PAdES B-B … B-LTA written as bytes, invisible signatures.

Per document: parse once with qpdf, append one incremental update (signature dictionary with a
fixed-size /Contents, field + widget, new page /Annots and AcroForm versions, xref, trailer),
hash the byte ranges with hashlib and fill in a CMS assembled from cached parts
(:mod:`signing.cms.cmsbuild`). B-T adds an RFC 3161 signature time-stamp, B-LT a DSS revision with
the signer's chain and the chain of the TSA that signed *that* time-stamp, with OCSP/CRL answers
fetched after the time-stamp (so the DSS never holds status older than the signature it backs),
B-LTA a document time-stamp revision after it. :meth:`FastPadesSigner.sign_many` signs a batch
first and fetches status once for all of it, after the last time-stamp.
Visible appearances (copy stamp, seal) go through pyHanko's staged path in :mod:`signing.signers.pades`.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import pikepdf
from asn1crypto import cms
from asn1crypto import x509 as asn1_x509

from signing.cms.cmsbuild import CmsTemplate, RawSigner, timestamp_attribute
from signing.errors import SigningFailed, SigningLevelUnsupported, TimestamperRequired
from signing.keys.keys import SigningKey
from signing.keys.rawsign import raw_signer
from signing.signers.pdfupdate import (
    ParsedPdf,
    Revision,
    array_bytes,
    dict_bytes,
    open_for_update,
    pdf_text,
    ref,
    unparse,
)
from signing.timestamps.source import TimestampSource
from signing.timestamps.tsa_fast import token_signer
from signing.validation.revocation import (
    LtvMaterial,
    RevocationCache,
    check_validity_period,
    default_cache,
    has_revocation_pointers,
    order_chain,
)
from signing.vntime import to_vn
from sohoa.errors import SohoaError

log = logging.getLogger(__name__)

PadesLevel = Literal["B-B", "B-T", "B-LT", "B-LTA"]
LEVELS: tuple[PadesLevel, ...] = ("B-B", "B-T", "B-LT", "B-LTA")
_BR_PLACEHOLDER = b"[0 0000000000 0000000000 0000000000]"
_ESIC = b"<< /Type /DeveloperExtensions /BaseVersion /1.7 /ExtensionLevel 1 >>"


def pdf_date(when: datetime) -> bytes:
    """PDF date string in Vietnam time, e.g. ``(D:20250301093000+07'00')``."""
    vn = to_vn(when)
    return b"(D:" + vn.strftime("%Y%m%d%H%M%S").encode("ascii") + b"+07'00')"


def _signature_dict(kind: bytes, reserved: int, rest: bytes) -> tuple[bytes, int, int]:
    """A signature dictionary whose /ByteRange and /Contents come first, at offsets known here.

    Returns the body and, within it, where the /ByteRange array and the /Contents hex string start:
    the writer places them, so nothing is searched for in the bytes afterwards.
    """
    head = b"<< /ByteRange "
    contents_at = len(head) + len(_BR_PLACEHOLDER) + len(b" /Contents ")
    body = head + _BR_PLACEHOLDER + b" /Contents <" + b"0" * (2 * reserved) + b"> /Type " + kind + rest + b" >>"
    return body, len(head), contents_at


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
    token_at: datetime | None = None
    tsa_chain: list[asn1_x509.Certificate] = field(default_factory=list)

    @classmethod
    def open(cls, pdf: bytes) -> _Doc:
        data, parsed = open_for_update(pdf)
        doc = parsed.doc
        page = doc.pages[0].obj
        state = cls(parsed, bytearray(data), parsed.prev_xref, parsed.size, page.objgen)
        acroform = doc.Root.get("/AcroForm")
        if acroform is not None:
            state.taken = {
                str(f.get("/T", "")) for f in acroform.get("/Fields", []) if isinstance(f, pikepdf.Dictionary)
            }
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
        self._declare_extension(rev)
        self.put_root(rev)

    def _declare_extension(self, rev: Revision) -> None:
        """Add the ESIC developer extension (ETSI EN 319 142-1) to the catalog's /Extensions, keeping others."""
        if "/Extensions" in self.root_extra:
            return
        existing = self.parsed.doc.Root.get("/Extensions")
        if not isinstance(existing, pikepdf.Dictionary):
            self.root_extra["/Extensions"] = b"<< /ESIC " + _ESIC + b" >>"
        elif "/ESIC" in existing:
            self.root_extra["/Extensions"] = unparse(existing)
        elif existing.is_indirect:
            rev.put(*existing.objgen, dict_bytes(existing, {"/ESIC": _ESIC}))
            self.root_extra["/Extensions"] = unparse(existing)
        else:
            self.root_extra["/Extensions"] = dict_bytes(existing, {"/ESIC": _ESIC})

    def put_root(self, rev: Revision) -> None:
        root = self.parsed.doc.Root
        body = dict_bytes(root, self.root_extra)
        if body != self.root_written:
            rev.put(*root.objgen, body)
            self.root_written = body

    def append(self, rev: Revision) -> tuple[int, dict[int, int]]:
        """Render ``rev`` after the current bytes; where the update starts and each object's body."""
        body, offsets = rev.render()
        start = len(self.out)
        self.out += body
        self.prev_xref = _xref_offset(body, start)
        self.next_num = rev.next_num
        return start, {num: start + at for num, at in offsets.items()}


def _unforeseen(exc: Exception) -> SohoaError:
    """A coded error for a fault nobody foresaw on one document, logged with its traceback."""
    log.error("Signing one document failed: %s", type(exc).__name__, exc_info=exc)
    return SigningFailed(type(exc).__name__)


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

    @classmethod
    def for_key(
        cls,
        key: SigningKey,
        *,
        level: str = "B-B",
        tokens: TimestampSource | None = None,
        revocation: RevocationCache | None = None,
        digest: str = "sha256",
        check_revocation: bool = True,
    ) -> FastPadesSigner:
        """A fast signer for a loaded ``key``; checks revocation up front when the certificate names a responder."""
        needs_status = level in ("B-LT", "B-LTA") or (check_revocation and has_revocation_pointers(key.cert))
        if revocation is None and needs_status:
            revocation = default_cache()
        return cls(raw_signer(key, digest), level=level, tokens=tokens, revocation=revocation)

    def __init__(
        self,
        signer: RawSigner,
        *,
        level: str = "B-B",
        tokens: TimestampSource | None = None,
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
            revocation = revocation or default_cache()
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
        if revocation is not None and has_revocation_pointers(signer.cert):
            revocation.material(self._chain)  # refuses a revoked chain before any document is touched
        if tokens is not None:
            probe = tokens.timestamp(hashlib.new(self.digest, b"probe").digest(), self.digest)
            self._token_size = len(probe) + 512
            if level in ("B-LT", "B-LTA"):
                assert revocation is not None
                leaf, certs = token_signer(cms.ContentInfo.load(probe))
                revocation.material(order_chain(leaf, [*certs, *self._chain]))  # a revoked TSA unit: refused now
        self._reserved = self.template.max_size(self._token_size) + 64

    def ltv_material(
        self, tsa_chains: list[list[asn1_x509.Certificate]], not_before: datetime | None = None
    ) -> LtvMaterial:
        """The signer's chain and each TSA chain with revocation data obtained after ``not_before``.

        Refuses a revoked signer or TSA chain (SIGNER_CERT_REVOKED).
        """
        assert self.revocation is not None
        material = self.revocation.material(self._chain, not_before=not_before)
        seen: set[bytes] = set()
        for chain in tsa_chains:
            if chain and chain[0].sha256 not in seen:
                seen.add(chain[0].sha256)
                material = material.merged(self.revocation.material(chain, not_before=not_before))
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
        result = self.sign_many(
            [pdf], signing_time=signing_time, reason=reason, location=location, field_name=field_name
        )
        if isinstance(result[0], SohoaError):
            raise result[0]
        return result[0]

    def sign_many(
        self,
        pdfs: Sequence[bytes],
        *,
        signing_time: datetime | None = None,
        reason: str | None = None,
        location: str | None = None,
        field_name: str = "Signature1",
    ) -> list[bytes | SohoaError]:
        """Sign each of ``pdfs``; a document that cannot be signed gets its coded error in its place.

        For B-LT/B-LTA every signature (and its time-stamp) is made first; status is then fetched
        once for the whole batch, after the last time-stamp, and the DSS (and document time-stamp)
        revisions are appended to each document.
        """
        when = signing_time or datetime.now().astimezone()
        extra = b""
        if reason:
            extra += b" /Reason " + pdf_text(reason)
        if location:
            extra += b" /Location " + pdf_text(location)
        results: list[bytes | SohoaError | _Doc] = []
        try:
            for pdf in pdfs:
                try:
                    results.append(self._signed_doc(pdf, when, extra, field_name))
                except SohoaError as exc:
                    results.append(exc)
                except Exception as exc:  # a file of a shape nobody foresaw must not stop the others
                    results.append(_unforeseen(exc))
            docs = [d for d in results if isinstance(d, _Doc)]
            if docs and self.level in ("B-LT", "B-LTA"):
                failed = self._extend(docs)
                results = [failed.get(id(d), d) if isinstance(d, _Doc) else d for d in results]
            return [bytes(d.out) if isinstance(d, _Doc) else d for d in results]
        finally:
            for d in results:
                if isinstance(d, _Doc):
                    d.parsed.close()

    def _signed_doc(self, pdf: bytes, when: datetime, extra: bytes, field_name: str) -> _Doc:
        for attempt in (1, 2):
            doc = _Doc.open(pdf)
            try:
                self._sign_revision(doc, when, extra, field_name)
                return doc
            except OverflowError:
                doc.parsed.close()
                if attempt == 2:
                    raise
                log.info("Signature container outgrew its reservation; reserving more")
                self._token_size += 4096
                self._reserved += 4096
            except BaseException:
                doc.parsed.close()
                raise
        raise AssertionError("unreachable")

    def _extend(self, docs: list[_Doc]) -> dict[int, SohoaError]:
        """B-LT/B-LTA revisions for signed documents; status fetched after their last time-stamp.

        Returns the documents (by ``id``) that could not be extended, with their coded error.
        """
        not_before = max(d.token_at for d in docs if d.token_at is not None)
        material = self.ltv_material([d.tsa_chain for d in docs], not_before)
        failed: dict[int, SohoaError] = {}
        for doc in docs:
            try:
                append_dss(doc, material)
                if self.level == "B-LTA":
                    assert self.tokens is not None
                    # A token far larger than the probe was: its reservation is the probe's + 4 KiB.
                    append_doc_timestamp(doc, self.tokens, self.digest, self._token_size + 4096)
            except SohoaError as exc:
                failed[id(doc)] = exc
            except Exception as exc:
                failed[id(doc)] = _unforeseen(exc)
        return failed

    def _sign_revision(self, doc: _Doc, when: datetime, extra: bytes, field_name: str) -> None:
        rev = doc.revision()
        sig_num = rev.allocate()
        rest = b" /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /M %s /Name %s%s" % (
            pdf_date(when),
            self._name,
            extra,
        )
        body, br_at, c_at = _signature_dict(b"/Sig", self._reserved, rest)
        rev.put(sig_num, 0, body)
        doc.add_field(rev, sig_num, doc.free_name(field_name))
        _, bodies = doc.append(rev)
        digest, c_start, c_end = _fill_byte_range(doc.out, bodies[sig_num] + br_at, bodies[sig_num] + c_at, self.digest)
        der, signature = self.template.build(digest)
        if self.tokens is not None:
            token = self.tokens.timestamp(hashlib.new(self.digest, signature).digest(), self.digest)
            doc.token_at = datetime.now(UTC)
            if self.level in ("B-LT", "B-LTA"):
                leaf, certs = token_signer(cms.ContentInfo.load(token))
                doc.tsa_chain = order_chain(leaf, [*certs, *self._chain])
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
            arrays.setdefault(key, []).append(unparse(item))
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


def append_doc_timestamp(doc: _Doc, tokens: TimestampSource, digest_name: str, token_size: int) -> None:
    """Append a document time-stamp revision (PAdES B-LTA, ETSI.RFC3161)."""
    rev = doc.revision()
    sig_num = rev.allocate()
    rest = b" /Filter /Adobe.PPKLite /SubFilter /ETSI.RFC3161"
    body, br_at, c_at = _signature_dict(b"/DocTimeStamp", token_size, rest)
    rev.put(sig_num, 0, body)
    doc.add_field(rev, sig_num, doc.free_name("DocTimeStamp1"))
    _, bodies = doc.append(rev)
    digest, c_start, c_end = _fill_byte_range(doc.out, bodies[sig_num] + br_at, bodies[sig_num] + c_at, digest_name)
    _fill_contents(doc.out, c_start, c_end, tokens.timestamp(digest, digest_name))


def add_ltv(
    pdf: bytes,
    material: LtvMaterial,
    tokens: TimestampSource | None = None,
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


def _fill_byte_range(out: bytearray, br_at: int, c_start: int, digest_name: str) -> tuple[bytes, int, int]:
    """Write the /ByteRange at ``br_at`` around the /Contents string at ``c_start``; digest what it covers."""
    if out[br_at : br_at + len(_BR_PLACEHOLDER)] != _BR_PLACEHOLDER or out[c_start : c_start + 1] != b"<":
        raise AssertionError("signature dictionary is not where the writer put it")
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
