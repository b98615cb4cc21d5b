"""Render a simple e-result PDF from lines of Vietnamese text (vector text, embedded font).

Used by the demo and as the plain template for officers who do not upload their own PDF.
"""

from __future__ import annotations

import io

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter
from pyhanko.stamp import TextStamp, TextStampStyle

from signing.signers import VietnameseFontFactory, find_font

A4 = (595.28, 841.89)


def render_result_pdf(lines: list[str], *, font_size: int = 12) -> bytes:
    writer = PdfFileWriter()
    contents = writer.add_object(generic.StreamObject(stream_data=b""))
    writer.insert_page(PageObject(contents=contents, media_box=(0, 0, *A4)))
    style = TextStampStyle(
        stamp_text="\n".join(line.replace("%", "%%") for line in lines),
        text_box_style=TextBoxStyle(
            font=VietnameseFontFactory(str(find_font())), font_size=font_size, leading=font_size * 3 // 2
        ),
        border_width=0,
        background=None,
    )
    stamp = TextStamp(writer, style)
    height = font_size * 3 // 2 * (len(lines) + 1)
    stamp.apply(0, 70, int(A4[1]) - 90 - height)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
