"""Phone photos of pages: CER of the digitizer on generated photos, and the cost of photo detection.

    python -m bench.photo --photos 5 --seed 100 --flatbed 5
    python -m bench.photo --photos 5 --flatbed 0 --hard-shadow   # or --light-desk: harder shapes, partly handled

Prints one line per photo (CER, whether the last line of the page was read, whether it was corrected as
a photo) and the time ``photo.find_page`` takes on clean 200 dpi flatbed pages (it runs on every page).
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from bench.corpus import generate, photos
from bench.corpus.render import render_page
from digitizer import DigitizeOptions, digitize_files, photo
from digitizer.accuracy import cer
from digitizer.textnorm import fold_whitespace, nfc


def _has_line(line: str, text: str) -> bool:
    return fold_whitespace(nfc(line)) in fold_whitespace(nfc(text))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.photo")
    parser.add_argument("--photos", type=int, default=5)
    parser.add_argument("--seed", type=int, default=100)
    parser.add_argument("--flatbed", type=int, default=5)
    parser.add_argument("--hard-shadow", action="store_true", help="a deep hard shadow (grey desks: not yet)")
    parser.add_argument("--light-desk", action="store_true", help="a pale desk (not corrected yet)")
    args = parser.parse_args(argv)
    total_err = total_len = 0.0
    summary: dict[str, object] = {"photos": args.photos, "seed": args.seed}
    last_lines = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.photos):
            shot = photos.make_page_photo(args.seed + i, hard_shadow=args.hard_shadow, light_desk=args.light_desk)
            path = Path(tmp) / f"photo{i}.jpg"
            shot.image.save(path, "JPEG", quality=95)
            start = time.perf_counter()
            result = digitize_files([path], DigitizeOptions())
            took = time.perf_counter() - start
            (page,) = result.pages
            rate = cer(shot.text, page.text)
            total_err += rate * len(shot.text)
            total_len += len(shot.text)
            last_lines += _has_line(shot.lines[-1], page.text)
            print(
                f"photo seed={args.seed + i} cer={rate:.4f} last_line={_has_line(shot.lines[-1], page.text)} "
                f"corrected={photo.find_page(shot.image) is not None} "
                f"size={page.width_px}x{page.height_px} dpi={page.dpi:.0f} warnings={','.join(page.warnings) or '-'} "
                f"{took:.1f}s " + " ".join(f"{k}={v:.3g}" for k, v in shot.params.items())
            )
    if args.photos:
        print(f"photos: corpus CER {total_err / total_len:.4f} over {args.photos}")
        summary.update(photo_cer=round(total_err / total_len, 4), last_line_read=last_lines)
    if args.flatbed:
        rng = random.Random(args.seed)
        times = []
        for _ in range(args.flatbed):
            page = render_page(
                generate.templates.residence_confirmation(generate.random_cast(rng)),
                dpi=200,
                degradation=generate.scan_degradation(rng, 2.0),
                seed=rng.randrange(999),
            ).image
            page.load()
            start = time.perf_counter()
            found = photo.find_page(page)
            times.append(time.perf_counter() - start)
            assert found is None, "a flatbed page was taken for a photo"
        print(f"flatbed: photo detection {1000 * sum(times) / len(times):.1f} ms/page (max {1000 * max(times):.1f})")
        summary["flatbed_detect_ms"] = round(1000 * sum(times) / len(times), 2)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
