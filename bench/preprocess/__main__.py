"""bench/preprocess: what page preparation costs on clean pages, beside Tesseract alone and the whole digitisation.

    .venv/bin/python -m bench.preprocess [--pages 8]

Clean 200 dpi A4 pages of the corpus templates, 1-2° skew, scanner noise, JPEG. Per page: the OCR copy's
preparation (ink-colour separation, orientation and skew, straightened gray, light flattening; best of 5),
Tesseract alone on the page, and ``digitize_files`` on the page as a file (type, fields and PDF included),
and whether orientation had to ask OSD. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from bench.corpus import templates
from bench.corpus.render import Degradation, render_page
from digitizer import inkcolour, orientation, preprocess
from digitizer.pipeline import DigitizeOptions, default_engine, digitize_files

NAMES = [name for name in templates.TEMPLATES if name != "citizen_id_card"]


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.preprocess")
    parser.add_argument("--pages", type=int, default=8)
    args = parser.parse_args()
    osd_calls = 0
    detect = orientation.detect

    def counting(image):  # type: ignore[no-untyped-def]
        nonlocal osd_calls
        osd_calls += 1
        return detect(image)

    orientation.detect = counting
    options = DigitizeOptions()
    engine = default_engine(options)
    prep, tesseract, whole = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.pages):
            name = NAMES[i % len(NAMES)]
            skew = (1.0 + 0.8 * (i % 3) / 2) * (-1) ** i
            degradation = Degradation(skew_deg=skew, noise=4, blur=0.5, jpeg_quality=85)
            image = render_page(templates.TEMPLATES[name](), dpi=200, degradation=degradation, seed=i).image
            best = float("inf")
            for _ in range(5):
                start = time.perf_counter()
                gray = inkcolour.ocr_gray(image)
                preprocess.ocr_copy(preprocess.straighten_gray(gray, preprocess.detect_geometry(gray)))
                best = min(best, time.perf_counter() - start)
            prep.append(best)
            plain = image.convert("L")
            plain.info["dpi"] = (200, 200)
            start = time.perf_counter()
            engine.recognize(plain, languages=options.languages)
            tesseract.append(time.perf_counter() - start)
            path = Path(tmp) / f"{i}.png"
            image.save(path, dpi=(200, 200))
            start = time.perf_counter()
            digitize_files([path], options)
            whole.append(time.perf_counter() - start)
    result = {
        "pages": args.pages,
        "prepare_ms_per_page": round(statistics.mean(prep) * 1000, 1),
        "tesseract_s_per_page": round(statistics.mean(tesseract), 3),
        "digitize_s_per_page": round(statistics.mean(whole), 3),
        "digitize_over_tesseract": round(statistics.mean(whole) / statistics.mean(tesseract), 2),
        "osd_calls_per_page": round(osd_calls / (args.pages * 6), 3),
    }
    print(f"prepare (colour, geometry, OCR copy): {result['prepare_ms_per_page']} ms/page")
    print(f"tesseract alone: {result['tesseract_s_per_page']} s/page; digitize: {result['digitize_s_per_page']} s/page")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
