"""What a PDF declares about its own size, read from its bytes without parsing it: refuse the absurd early.

Verifying an uploaded PDF costs sandbox time roughly in proportion to what the file declares: the
signature's ``/Contents`` is a hex string that pyHanko's lexer reads byte by byte (about a second
of a core per MiB of hex digits), every signature hashes the whole file again, and cross-reference
data is read entry by entry. A file can declare far more of each than any real signed document
holds — a 19.6 MB ``/Contents`` costs half a minute — and one client sending such files kept every
verification process busy. This scan reads the raw bytes once with a few regular expressions and
counts (tens of milliseconds for 20 MiB, no object is parsed), so a file past a bound is refused
with ``PDF_TOO_COSTLY`` before any sandbox process is spent on it.

It sees what a writer puts in the clear: a count hidden inside a compressed object stream is not
seen here. That is the per-client budget's job (``api.verify_admission``): it charges each client
the sandbox seconds its checks really took, whatever the file declared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from signing.errors import PdfTooCostly

# A CMS signature as PAdES embeds it (signer and chain certificates, signed attributes, a signature
# time-stamp token with the TSA's chain) is 5–20 KB; signers that also put revocation data inside the
# CMS (Adobe's revocationInfoArchival: CRLs and OCSP answers) reach a few hundred KB with large CRLs.
# 1 MiB of CMS (2 Mi hex digits, about 2 s of a verifier's core) leaves several times that margin and
# is still a tenth of the 19.6 MB /Contents that held a verifier for half a minute.
MAX_SIGNATURE_HEX_DIGITS = 2 * 1024 * 1024
# Every hex string of the file together (4 MiB of data): a document with many signatures, each with
# embedded revocation data, fits; nine 2 MB /Contents in one 18 MB file (15 s) do not.
MAX_HEX_DIGITS_TOTAL = 8 * 1024 * 1024
# Hex strings shorter than this (IDs, short text strings) are too small to count.
_HEX_COUNTED = 4096
# Each signature is a full pass over the file (its digest) plus a CMS parse and a chain check:
# about 35 ms each for a small file here. Multi-party contracts carry tens; a B-LTA result gains one
# document time-stamp every few years.
MAX_SIGNATURES = 100
# Objects declared (cross-reference /Size, /Index ranges, object headers, object streams' /N): the
# cross-reference data is read entry by entry (about 4 s per million). 20 MiB of real PDF holds at
# most a few hundred thousand objects.
MAX_OBJECTS = 1_000_000
# Pages (the page tree's /Count, page objects in the clear): a scanned dossier of a thousand pages
# exceeds the 20 MiB upload limit many times over; the active-content scan walks every page.
MAX_PAGES = 50_000
# Revisions (startxref keywords): each signature, DSS and document time-stamp adds one or two.
MAX_REVISIONS = 1_000

_HEX_STRING = re.compile(rb"<[0-9A-Fa-f\s]{%d,}" % _HEX_COUNTED)
_SIZE = re.compile(rb"/Size\s+(\d{1,15})")
_INDEX = re.compile(rb"/Index\s*\[([\d\s]{0,4096})\]")
_OBJSTM = re.compile(rb"/Type\s*/ObjStm")
_OBJSTM_N = re.compile(rb"/N\s+(\d{1,15})")
_COUNT = re.compile(rb"/Count\s+-?(\d{1,15})")
_PAGE = re.compile(rb"/Type\s*/Page(?![A-Za-z])")


@dataclass(frozen=True)
class DeclaredCost:
    """The sizes a PDF declares in the clear (see the module docstring)."""

    largest_hex_digits: int
    hex_digits_total: int
    signatures: int
    objects: int
    pages: int
    revisions: int

    def excess(self) -> str | None:
        """What passes its bound, in words for the log; None when nothing does."""
        for what, value, bound in (
            ("hex string digits (one signature's /Contents)", self.largest_hex_digits, MAX_SIGNATURE_HEX_DIGITS),
            ("hex string digits in all", self.hex_digits_total, MAX_HEX_DIGITS_TOTAL),
            ("signatures", self.signatures, MAX_SIGNATURES),
            ("objects", self.objects, MAX_OBJECTS),
            ("pages", self.pages, MAX_PAGES),
            ("revisions", self.revisions, MAX_REVISIONS),
        ):
            if value > bound:
                return f"{value} {what} > {bound}"
        return None


def declared_cost(pdf: bytes) -> DeclaredCost:
    """Read the sizes ``pdf`` declares; linear in its length, whatever its content."""
    hex_lengths = [m.end() - m.start() - 1 for m in _HEX_STRING.finditer(pdf)]
    index_counts = 0
    for m in _INDEX.finditer(pdf):
        numbers = [int(n) for n in m.group(1).split()]
        index_counts = max(index_counts, sum(numbers[1::2]))
    in_streams = 0
    for m in _OBJSTM.finditer(pdf):  # an object stream's dictionary is short: /N is near its /Type
        near = _OBJSTM_N.search(pdf, max(0, m.start() - 256), m.end() + 256)
        in_streams += int(near.group(1)) if near else 0
    headers = pdf.count(b"obj") - pdf.count(b"endobj")
    sizes = [int(n) for n in _SIZE.findall(pdf)]
    counts = [int(n) for n in _COUNT.findall(pdf)]
    page_objects = sum(1 for _ in _PAGE.finditer(pdf))
    return DeclaredCost(
        largest_hex_digits=max(hex_lengths, default=0),
        hex_digits_total=sum(hex_lengths),
        signatures=pdf.count(b"/ByteRange"),
        objects=max(max(sizes, default=0), index_counts, headers + in_streams),
        pages=max(max(counts, default=0), page_objects),
        revisions=pdf.count(b"startxref"),
    )


def refuse_if_too_costly(pdf: bytes) -> DeclaredCost:
    """The file's :class:`DeclaredCost`; raises PdfTooCostly (naming the bound passed) when past one."""
    cost = declared_cost(pdf)
    excess = cost.excess()
    if excess is not None:
        raise PdfTooCostly(excess)
    return cost
