"""Hostile batches: small uploads that would cost the pipeline far more than they weigh (issue 17, item 7).

Each builder returns the bytes a station would push. Nothing here is stored on disk: the corpus
is these functions, so every test builds exactly what it sends.
"""

from __future__ import annotations

import io
import os
import zipfile

import pikepdf
from PIL import Image

from testkit.batches import make_zip, manifest

CODE = "000.00.12.H26-261121-0701"


def tiny_jpeg() -> bytes:
    """A real one-page JPEG of a few hundred bytes."""
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (250, 250, 245)).save(out, "JPEG", quality=50)
    return out.getvalue()


def pdf_of(pages: int) -> bytes:
    """A PDF of ``pages`` blank A4 pages (a few dozen bytes each once compressed in object streams)."""
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=(595, 842))
    out = io.BytesIO()
    pdf.save(out, object_stream_mode=pikepdf.ObjectStreamMode.generate, compress_streams=True)
    return out.getvalue()


def flat_pdf_of(pages: int) -> bytes:
    """A PDF of ``pages`` empty pages written in the clear (about 100 bytes a page, deflating twelvefold)."""
    parts, offsets, pos = [b"%PDF-1.4\n"], [], 9

    def add(obj: bytes) -> None:
        nonlocal pos
        offsets.append(pos)
        parts.append(obj)
        pos += len(obj)

    kids = b" ".join(b"%d 0 R" % (n + 3) for n in range(pages))
    add(b"1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n")
    add(b"2 0 obj<</Type/Pages/Count %d/Kids[%s]>>endobj\n" % (pages, kids))
    for n in range(pages):
        add(b"%d 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n" % (n + 3))
    parts.append(b"xref\n0 %d\n0000000000 65535 f \n" % (pages + 3))
    parts.append(b"".join(b"%010d 00000 n \n" % o for o in offsets))
    parts.append(b"trailer<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (pages + 3, pos))
    return b"".join(parts)


def looping_tiff() -> bytes:
    """A TIFF whose second directory links back to the first: a chain that never ends."""
    entry = b"\x00\x01\x04\x00\x01\x00\x00\x00\x08\x00\x00\x00"  # ImageWidth = 8
    first = b"\x01\x00" + entry + (22).to_bytes(4, "little")  # at 8, links to 22
    second = b"\x01\x00" + entry + (8).to_bytes(4, "little")  # at 22, links back to 8
    return b"II*\x00" + (8).to_bytes(4, "little") + first + second


def tiff_of(frames: int) -> bytes:
    """A multi-frame TIFF of ``frames`` tiny pages."""
    images = [Image.new("L", (8, 8), 255) for _ in range(frames)]
    out = io.BytesIO()
    images[0].save(out, "TIFF", save_all=True, append_images=images[1:])
    return out.getvalue()


def one_scan_named_everywhere(code: str = CODE, components: int = 100, refs: int = 200) -> bytes:
    """One small JPEG named ``refs`` times in each of ``components`` components: 20,000 OCR pages by default."""
    comps = [{"id": f"c{n}", "files": ["a.jpg"] * refs} for n in range(components)]
    return make_zip(manifest(comps, code=code), {"a.jpg": tiny_jpeg()})


def unfolding_member(code: str = CODE, expanded_mib: int = 48) -> bytes:
    """A zip of a few hundred KB whose one scan unpacks to ``expanded_mib`` MiB.

    A random 16 KiB block repeated deflates about 140 to 1: under the per-member ratio bound
    (200), so only a bound on the whole batch's expansion catches it.
    """
    block = os.urandom(16 * 1024)
    body = block * (expanded_mib * 64)
    return make_zip(manifest([{"id": "c1", "files": ["scan.jpg"]}], code=code), {"scan.jpg": b"\xff\xd8\xff" + body})


def long_pdf_named_often(code: str = CODE, pages: int = 400, times: int = 3) -> bytes:
    """One ``pages``-page PDF named ``times`` times: pages counted from the PDF, per reference."""
    comps = [{"id": f"c{n}", "files": ["long.pdf"]} for n in range(times)]
    return make_zip(manifest(comps, code=code), {"long.pdf": pdf_of(pages)})


def batch_of_pages(code: str, pages: int) -> bytes:
    """An ordinary batch of ``pages`` distinct one-page scans (JPEG headers, distinct bytes)."""
    files = {f"p{n}.jpg": tiny_jpeg() + n.to_bytes(4, "big") for n in range(pages)}
    return make_zip(manifest([{"id": "c1", "files": list(files)}], code=code), files, zipfile.ZIP_STORED)
