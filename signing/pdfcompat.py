"""pyHanko's strict PDF reader, minus one check that rejects harmless files.

Why strict mode at all: with ``strict=False`` pyHanko skips its cross-reference consistency checks
(objects redefined without being freed, clobbered xref streams, section sizes that shrink), repairs a
wrong ``startxref`` by guessing, substitutes ``null`` for objects it cannot resolve, and validates
hybrid-reference files. Those are exactly the tricks of incremental-update attacks on signed PDFs
(showing one content to the signer and another to the reader), so verification keeps strict mode.

The one check relaxed here: strict mode refuses any cross-reference entry whose generation exceeds
65535, *including the entry of object 0*. Object 0 is only the head of the free list: no reference can
name it, and pyHanko ignores its entry right after that check. Pillow (``Image.save(..., "PDF")``) writes
``0000000000 65536 f``, so every PDF Pillow makes was "unreadable" to us while poppler (pdfsig), qpdf,
MuPDF and Acrobat read it. Dropping object 0's entries before pyHanko processes a section changes
nothing else: an out-of-range generation on any other object is still refused.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator

from pyhanko.pdf_utils.xref import XRefEntry, XRefSectionData

_MARK = "_sohoa_free_list_head_tolerated"


def _without_object_zero(process: Callable[..., int]) -> Callable[..., int]:
    @functools.wraps(process)
    def process_entries(self: XRefSectionData, entries: Iterator[XRefEntry], strict: bool) -> int:
        return process(self, (entry for entry in entries if entry.idnum != 0), strict)

    setattr(process_entries, _MARK, True)
    return process_entries


def install() -> None:
    """Tolerate any generation on object 0's cross-reference entry (idempotent, process-wide)."""
    current = XRefSectionData.process_entries
    if not getattr(current, _MARK, False):
        # the one check we relax lives inside this method: wrapping it is the only way in
        XRefSectionData.process_entries = _without_object_zero(current)  # type: ignore[method-assign]


def keep_need_appearances() -> None:
    """pyHanko's signer keeps an AcroForm's /NeedAppearances instead of deleting it (idempotent).

    pyHanko deletes /NeedAppearances when it signs, so that viewers stop regenerating field
    appearances. On a form whose filled fields have no (or stale) appearance streams that changes
    what the document shows: the filled values disappear or a checkbox flips, which is exactly what
    signing must never do. Generating the appearances first (qpdf) changes the rendering too, so the
    flag is kept as the producer wrote it; the fast path keeps it as well. pyHanko's difference
    analysis allows the flag either way.
    """
    from pyhanko.pdf_utils.writer import BasePdfFileWriter
    from pyhanko.sign import fields
    from pyhanko.sign.signers import cms_embedder

    # cms_embedder imports ensure_sig_flags from fields without exporting it: that import is what we replace
    if getattr(cms_embedder.ensure_sig_flags, _MARK, False):  # type: ignore[attr-defined]
        return
    original = fields.ensure_sig_flags

    @functools.wraps(original)
    def ensure_sig_flags(writer: BasePdfFileWriter, lock_sig_flags: bool = True) -> None:
        form = writer.root["/AcroForm"]
        kept = form.get("/NeedAppearances")
        original(writer, lock_sig_flags=lock_sig_flags)
        if kept is not None and "/NeedAppearances" not in form:
            form["/NeedAppearances"] = kept
            writer.update_container(form)

    setattr(ensure_sig_flags, _MARK, True)
    cms_embedder.ensure_sig_flags = ensure_sig_flags  # type: ignore[attr-defined]  # not exported, as above
