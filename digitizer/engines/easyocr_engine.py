"""EasyOCR engine for GPU pools: weights come from a model directory, never downloaded at run time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from digitizer.errors import OcrEngineUnavailable
from digitizer.model import Word

_LANGUAGE_MAP = {"vie": "vi", "eng": "en"}


class EasyOcrEngine:
    name = "easyocr"

    def __init__(self, *, model_dir: Path | None = None, gpu: bool = True, **_ignored: Any) -> None:
        try:
            import easyocr
        except ImportError as exc:
            raise OcrEngineUnavailable("easyocr is not installed (pip install 'sohoa[easyocr]')") from exc
        if model_dir is None:
            raise OcrEngineUnavailable("easyocr needs a model directory (ocr.model_dir)")
        self._easyocr = easyocr
        self.model_dir = Path(model_dir)
        self.gpu = gpu
        self._readers: dict[tuple[str, ...], Any] = {}

    def _reader(self, languages: str) -> Any:
        langs = tuple(_LANGUAGE_MAP.get(code, code) for code in languages.split("+"))
        if langs not in self._readers:
            try:
                self._readers[langs] = self._easyocr.Reader(
                    list(langs), gpu=self.gpu, model_storage_directory=str(self.model_dir),
                    download_enabled=False, verbose=False,
                )
            except (FileNotFoundError, ValueError, RuntimeError) as exc:
                raise OcrEngineUnavailable(f"easyocr models for {langs} in {self.model_dir}: {exc}") from exc
        return self._readers[langs]

    def recognize(self, image: Image.Image, *, languages: str) -> list[Word]:
        results = self._reader(languages).readtext(np.asarray(image.convert("RGB")), paragraph=False)
        words: list[Word] = []
        for line, (points, text, conf) in enumerate(results):
            xs = [int(p[0]) for p in points]
            ys = [int(p[1]) for p in points]
            for token in str(text).split():
                words.append(
                    Word(token, (min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)), float(conf), line)
                )
        return words
