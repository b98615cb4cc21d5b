"""The active-content scan on what other producers write: no false alarm on an ordinary file.

Ghostscript, cairo, LibreOffice, qpdf, pyHanko and the rest of the third-party corpus write links,
outlines, forms and open actions their own way; a scan that cried "active content" at them would
refuse honest e-results. Every corpus file is scanned, and what it finds must be nothing but what
the file really carries.
"""

from __future__ import annotations

import pikepdf

from signing.validation.active_content import scan
from testkit.thirdparty_corpus import CorpusFile


def test_ordinary_files_of_other_producers_hold_no_active_content(thirdparty_corpus: list[CorpusFile]) -> None:
    found: dict[str, list[str]] = {}
    for item in thirdparty_corpus:
        try:
            with pikepdf.open(item.path) as doc:
                findings = scan(doc)
        except pikepdf.PasswordError:
            continue  # encrypted: refused before any scan
        if findings:
            found[item.name] = [str(f) for f in findings]
    assert found == {}
