"""Where the QR code and the visible signature go on a copy or an e-result, without growing a page.

* A digitised copy (:func:`mark_copy`): page 1's content is scaled down to free a band at the
  top; the QR code sits top-left in it and the copy stamp to its right.
* An e-result (:func:`mark_result`): a form sohoa rendered records where it left room (a
  page-piece dictionary, ISO 32000-1 §14.5, under ``/Sohoa``: ``/QrBox`` on page 1,
  ``/SignatureBox`` on the page of the signer's block); an uploaded PDF is rendered at low
  resolution (poppler) and the QR code goes to the first blank place at the top-left of page 1,
  the signature to the first blank place at the bottom-right of the last page. What finds no
  room goes on an added last page (A4). Every page keeps its size.
"""

from __future__ import annotations

import dataclasses
import io
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pikepdf
from PIL import Image

from signing.signers.appearance import CM, Appearance, make_room
from signing.signers.drawing import A4, MM, new_document, overlay_page
from signing.signers.qr import QR_GAP_PT, QR_SIZE_PT, RESULT_QR_SIZE_PT, QrBlock, QrPayload, add_qr, caption_block_width

PIECE = "/Sohoa"
Box = tuple[float, float, float, float]  # x1, y1, x2, y2 in the page's user space
# Where marks may go on a page: inside the NĐ 30/2020 margins of an A4 form (top 20, bottom 20, left 30, right 15 mm)
PAGE_MARGINS = (30 * MM, 20 * MM, 15 * MM, 20 * MM)  # left, bottom, right, top
DPI = 36


BAND_GAP_PT = 0.3 * CM  # between the band's marks and the shrunk content (make_room's default)


def mark_copy(pdf: bytes, stamp: Appearance, payload: QrPayload) -> tuple[bytes, Appearance]:
    """A digitised copy with room made on page 1 (content scaled down, page size kept), the QR code
    top-left and the stamp right of it; returns the PDF and the stamp where it now goes."""
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        left, bottom, right, top = (float(v) for v in doc.pages[0].mediabox)
    margin_x, margin_y = stamp.margin_x, stamp.margin_y
    needed = 2 * margin_x + QR_SIZE_PT + QR_GAP_PT + stamp.width
    # The band takes at most half the page (make_room): a short page (a receipt strip) shrinks the marks too.
    band = margin_y + max(stamp.height, QR_SIZE_PT) + BAND_GAP_PT
    factor = min(1.0, (right - left) / needed, (top - bottom) / 2 / band)
    qr_size = QR_SIZE_PT * factor
    placed = dataclasses.replace(
        stamp.scaled(factor), page=0, anchor="top-left", margin_x=margin_x * factor + qr_size + QR_GAP_PT * factor
    )
    placed = dataclasses.replace(placed, margin_y=margin_y * factor)
    room = make_room(pdf, placed, min_band=qr_size, gap=BAND_GAP_PT * factor)
    return add_qr(room, payload, size_pt=qr_size, margin_x=margin_x * factor, margin_y=margin_y * factor), placed


@dataclass(frozen=True)
class Reserved:
    """The room a sohoa form left: QR box on page 1, signature box on some page, and its printed code."""

    qr: Box | None = None
    signature: tuple[int, Box] | None = None
    code: str | None = None


def reserve(
    pdf: bytes,
    *,
    qr: Box,
    signature: tuple[int, Box],
    code: str | None,
    modified: str,
    document_id: bytes | None = None,
) -> bytes:
    """Record in ``pdf`` where its form left room (``modified``: a PDF date, e.g. ``D:20261205000000+07'00'``)."""
    with pikepdf.open(io.BytesIO(pdf)) as doc:

        def piece(private: pikepdf.Dictionary) -> pikepdf.Dictionary:
            return pikepdf.Dictionary(
                {PIECE: pikepdf.Dictionary(LastModified=pikepdf.String(modified), Private=private)}
            )

        first = pikepdf.Dictionary(QrBox=pikepdf.Array(list(qr)))
        if code:
            first.Code = pikepdf.String(code)
        index, box = signature
        if index == 0:
            first.SignatureBox = pikepdf.Array(list(box))
        else:
            doc.pages[index].obj.PieceInfo = piece(pikepdf.Dictionary(SignatureBox=pikepdf.Array(list(box))))
        doc.pages[0].obj.PieceInfo = piece(first)
        if document_id is not None:
            doc.trailer.ID = pikepdf.Array([pikepdf.String(document_id), pikepdf.String(document_id)])
        out = io.BytesIO()
        doc.save(out, deterministic_id=document_id is None)
        return out.getvalue()


def reserved(pdf: bytes) -> Reserved:
    """The room a sohoa form recorded (nothing for other PDFs); boxes outside their page are ignored."""
    found = Reserved()
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        for index, page in enumerate(doc.pages):
            private = _dictionary(_dictionary(_dictionary(page.obj).get("/PieceInfo")).get(PIECE)).get("/Private")
            if not isinstance(private, pikepdf.Dictionary):
                continue
            page_box = _box(page.mediabox)
            qr, signature = private.get("/QrBox"), private.get("/SignatureBox")
            if index == 0 and isinstance(qr, pikepdf.Array) and _inside(qr, page_box):
                code = private.get("/Code")
                found = dataclasses.replace(
                    found, qr=_box(qr), code=str(code) if isinstance(code, pikepdf.String) else None
                )
            if isinstance(signature, pikepdf.Array) and _inside(signature, page_box):
                found = dataclasses.replace(found, signature=(index, _box(signature)))
    return found


def _dictionary(value: object) -> pikepdf.Dictionary:
    return value if isinstance(value, pikepdf.Dictionary) else pikepdf.Dictionary()


def _box(value: pikepdf.Array) -> Box:
    x1, y1, x2, y2 = (float(v) for v in value)
    return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)


def _inside(value: pikepdf.Array, page: Box) -> bool:
    if len(value) != 4:
        return False
    try:
        x1, y1, x2, y2 = _box(value)
    except (TypeError, ValueError):
        return False
    left, bottom, right, top = page
    return left <= x1 < x2 <= right and bottom <= y1 < y2 <= top


def mark_result(
    pdf: bytes, payload: QrPayload, signature: Appearance, *, caption: Sequence[str] = ()
) -> tuple[bytes, Appearance]:
    """An e-result with its QR code (and ``caption`` under it) drawn, and ``signature`` moved to its place.

    The places are the form's reserved boxes, else blank room found on the pages, else an added
    A4 last page. The appearance keeps its size; in a reserved box it is centred.
    """
    room = reserved(pdf)
    printed = room.code is not None and room.code in " ".join(caption)  # the form printed the code itself
    block = QrBlock(RESULT_QR_SIZE_PT, () if printed else tuple(caption))
    qr_w, qr_h = caption_block_width(block), block.height
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        pages = len(doc.pages)
        media = [_box(p.mediabox) for p in doc.pages]
        boxes = [_box(p.cropbox) for p in doc.pages]  # the visible box: what an appearance is placed against
        rotated = [int(p.obj.get("/Rotate", 0)) % 360 != 0 for p in doc.pages]
    qr_at: tuple[int, float, float] | None = None  # page, x1, y2
    if room.qr is not None:
        qr_at = (0, room.qr[0], room.qr[3])
    elif not rotated[0]:
        spot = _blank_spot(pdf, 0, boxes[0], qr_w, qr_h, corner="top-left")
        qr_at = None if spot is None else (0, *spot)
    sig_at: tuple[int, float, float] | None = None
    if room.signature is not None:
        index, (x1, y1, x2, y2) = room.signature
        sig_at = (index, (x1 + x2 - signature.width) / 2, (y1 + y2 + signature.height) / 2)
    elif not rotated[-1]:
        spot = _blank_spot(pdf, pages - 1, boxes[-1], signature.width, signature.height, corner="bottom-right")
        sig_at = None if spot is None else (pages - 1, *spot)
    if qr_at is None or sig_at is None:
        pdf = _append_a4(pdf)
        left, bottom, right, top = 0.0, 0.0, *A4
        m_left, _m_bottom, m_right, m_top = PAGE_MARGINS
        boxes.append((left, bottom, right, top))
        media.append((left, bottom, right, top))
        if qr_at is None:
            qr_at = (pages, left + m_left, top - m_top)
        if sig_at is None:
            below_qr = top - m_top - (qr_h + 1 * CM if qr_at[0] == pages else 0)
            sig_at = (pages, right - m_right - signature.width, below_qr)
    q_page, q_x, q_y = qr_at
    q_left, _b, _r, q_top = media[q_page]
    text = payload.text()
    pdf = overlay_page(pdf, q_page, lambda doc, _h: block.draw(doc, text, q_x - q_left, q_top - q_y))
    s_page, s_x, s_y = sig_at
    return pdf, signature.at(s_page, boxes[s_page], s_x, s_y)


def _append_a4(pdf: bytes) -> bytes:
    doc = new_document(*A4)
    doc.add_page()
    with pikepdf.open(io.BytesIO(pdf)) as target, pikepdf.open(io.BytesIO(bytes(doc.output()))) as blank:
        target.pages.append(blank.pages[0])
        out = io.BytesIO()
        target.save(out, deterministic_id=True)
        return out.getvalue()


def _blank_spot(
    pdf: bytes, index: int, page_box: Box, width: float, height: float, *, corner: str, clearance: float = 6.0
) -> tuple[float, float] | None:
    """Top-left corner (x1, y2, user space) of the first ink-free ``width``×``height`` place nearest
    ``corner`` inside the form margins of the page's visible box, scanning its nearer half; None if none."""
    ink = _ink(pdf, index)
    if ink is None:
        return None
    left, bottom, right, top = page_box
    scale = DPI / 72
    rows, cols = ink.shape
    if abs(cols / scale - (right - left)) > 3 or abs(rows / scale - (top - bottom)) > 3:
        return None  # poppler saw another box than this one: do not guess
    m_left, m_bottom, m_right, m_top = (v * scale for v in PAGE_MARGINS)
    want_w, want_h = int(width * scale) + 1, int(height * scale) + 1
    pad = int(clearance * scale) + 1
    summed = np.pad(ink.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    x_lo, x_hi = int(m_left), int(cols - m_right) - want_w
    y_lo, y_hi = int(m_top), int(rows - m_bottom) - want_h
    if x_hi < x_lo or y_hi < y_lo:
        return None
    top_side = corner.startswith("top")
    ys = range(y_lo, min(y_hi, rows // 2) + 1) if top_side else range(y_hi, max(y_lo, rows // 2) - 1, -1)
    xs = range(x_lo, x_hi + 1) if corner.endswith("left") else range(x_hi, x_lo - 1, -1)
    for y in ys:
        for x in xs:
            t, b = max(0, y - pad), min(rows, y + want_h + pad)
            lft, rgt = max(0, x - pad), min(cols, x + want_w + pad)
            if summed[b, rgt] - summed[t, rgt] - summed[b, lft] + summed[t, lft] == 0:
                return left + x / scale, top - y / scale
    return None


def _ink(pdf: bytes, index: int) -> np.ndarray | None:
    """Page ``index`` rendered at :data:`DPI` over its crop box: True where there is ink; None if poppler fails."""
    with tempfile.TemporaryDirectory(prefix="sohoa-marks-") as tmp:
        source = Path(tmp) / "in.pdf"
        source.write_bytes(pdf)
        page = str(index + 1)
        args = ["pdftoppm", "-f", page, "-l", page, "-r", str(DPI), "-gray", "-cropbox", str(source), f"{tmp}/p"]
        try:
            subprocess.run(args, check=True, capture_output=True, timeout=60)
            rendered = next(Path(tmp).glob("p*.pgm"))
        except (OSError, subprocess.SubprocessError, StopIteration):
            return None
        with Image.open(rendered) as image:
            return np.asarray(image.convert("L")) < 235
