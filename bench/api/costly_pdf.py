"""PDFs that look signed and cost a verifier much: what one client floods public verification with.

Each file is a well-formed one-page PDF (classic cross-reference table, correct offsets) whose
signature fields carry a real CMS taken from a file we signed, padded with zeros to the hex length
asked for, and a ``/ByteRange`` that excludes exactly that ``/Contents``. A verifier has to read
the whole hex string to find the signature (pyHanko's lexer does it byte by byte) and hash the
file once per signature before it can say the digest does not match. Nothing here is
malformed: only the sizes are hostile.

Used by ``bench.api.verify_flood`` and by the tests of the admission of public verification.
"""

from __future__ import annotations

import re

PLACEHOLDER = b"/ByteRange [0 0000000000 0000000000 0000000000]"


def cms_hex_of(signed_pdf: bytes) -> bytes:
    """The hex CMS of the first signature in ``signed_pdf``, without its zero padding."""
    match = re.search(rb"/Contents\s*<([0-9A-Fa-f]+)>", signed_pdf)
    if match is None:
        raise ValueError("no signature /Contents in that file")
    return match.group(1).rstrip(b"0") or b"00"


def signature_heavy_pdf(
    cms_hex: bytes, *, contents_hex_digits: int, signatures: int = 1, reason_bytes: int = 0
) -> bytes:
    """A one-page PDF with ``signatures`` signature fields, each ``/Contents`` ``contents_hex_digits`` long
    (and a ``/Reason`` literal string of ``reason_bytes``, when asked)."""
    if contents_hex_digits < len(cms_hex) or contents_hex_digits % 2:
        raise ValueError("the /Contents must hold the CMS and be an even number of hex digits")
    contents = cms_hex + b"0" * (contents_hex_digits - len(cms_hex))
    fields = [4 + 2 * n for n in range(signatures)]
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [%s] /SigFlags 3 >> >>"
        % b" ".join(b"%d 0 R" % f for f in fields),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Annots [%s] >>"
        % b" ".join(b"%d 0 R" % f for f in fields),
    ]
    for n, field in enumerate(fields):
        objects.append(
            b"<< /Type /Annot /Subtype /Widget /FT /Sig /T (Chu ky %d) /Rect [0 0 0 0] /F 132 /P 3 0 R /V %d 0 R >>"
            % (n + 1, field + 1)
        )
        objects.append(
            b"<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached "
            + (b"/Reason (" + b"x" * reason_bytes + b") " if reason_bytes else b"")
            + PLACEHOLDER
            + b" /Contents <"
            + contents
            + b"> >>"
        )
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref_at)
    return _fill_byte_ranges(bytes(out))


def _fill_byte_ranges(pdf: bytes) -> bytes:
    """Each placeholder ``/ByteRange`` set to cover the whole file but its own ``/Contents`` string."""
    out = bytearray(pdf)
    at = 0
    while (start := out.find(PLACEHOLDER, at)) >= 0:
        open_at = out.index(b"<", start + len(PLACEHOLDER))
        close_at = out.index(b">", open_at)
        after = close_at + 1
        ranges = b"/ByteRange [0 %010d %010d %010d]" % (open_at, after, len(out) - after)
        out[start : start + len(PLACEHOLDER)] = ranges  # same length: no offset moves
        at = after
    return bytes(out)


def costliest_under_bounds(cms_hex: bytes, *, total_bytes: int = 19_900_000) -> bytes:
    """As costly a file as passes ``signing.validation.declared_cost``: four signatures sharing the hex-digit bound,
    each with a long ``/Reason`` (literal strings are not bounded there), ``total_bytes`` in all."""
    from signing.validation import MAX_HEX_DIGITS_TOTAL, MAX_SIGNATURE_HEX_DIGITS

    signatures = 4
    digits = min(MAX_SIGNATURE_HEX_DIGITS, MAX_HEX_DIGITS_TOTAL // signatures) - 16
    reason = max(0, (total_bytes - signatures * digits) // signatures - 2048)
    return signature_heavy_pdf(cms_hex, contents_hex_digits=digits, signatures=signatures, reason_bytes=reason)
