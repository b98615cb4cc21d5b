"""Write the bundled sample batch to dossiers/samples/batch/: manifest.json, JPEG scans and ground truth.

Run from the repository root: ``python -m bench.corpus.make_sample_batch``. The output is
deterministic (fixed seeds) and each JPEG stays well under 400 KB.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bench.corpus import templates
from bench.corpus.render import Degradation, RenderedPage, render_card, render_page, save_scan

OUT_DIR = Path(__file__).resolve().parents[2] / "dossiers" / "samples" / "batch"
MANIFEST = {
    "dossier_code": "000.00.12.H26-261121-0001",
    "procedure_code": "1.001193",
    "applicant_id": templates.FATHER["id"],
    "applicant_name": templates.FATHER["name"],
    "receiving_centre": "Trung tâm Phục vụ hành chính công phường Ba Đình",
    "components": [
        {"id": "c1", "declared_type": "application_form", "name": "Tờ khai đăng ký khai sinh", "files": ["c1_p1.jpg"]},
        {
            "id": "c2",
            "declared_type": "citizen_id_card",
            "name": "Căn cước công dân",
            "files": ["c2_front.jpg", "c2_back.jpg"],
        },
        {"id": "c3", "declared_type": "birth_certificate", "name": "Giấy khai sinh", "files": ["c3_p1.jpg"]},
    ],
}


def _card(lines: list[templates.Line], skew: float, seed: int) -> RenderedPage:
    return render_card(lines, degradation=Degradation(skew_deg=skew, blur=0.4, noise=4.0), seed=seed)


def build(out_dir: Path = OUT_DIR) -> dict[str, str]:
    """Render every scan of the batch into ``out_dir``; return {file name: ground-truth text}."""
    out_dir.mkdir(parents=True, exist_ok=True)
    a4 = {"dpi": 200, "font_pt": 12.0}
    scans: list[tuple[str, RenderedPage, int | None]] = [
        (
            "c1_p1.jpg",
            render_page(
                templates.application_form(),
                **a4,
                degradation=Degradation(skew_deg=1.6, blur=0.4, noise=4.0, uneven_light=0.08),
                seed=1,
            ),
            None,
        ),
        ("c2_front.jpg", _card(templates.citizen_id_front(), -1.5, 2), None),
        ("c2_back.jpg", _card(templates.citizen_id_back(), 1.8, 3), None),
        (
            "c3_p1.jpg",
            render_page(
                templates.birth_certificate(), **a4, degradation=Degradation(skew_deg=-1.9, blur=0.4, noise=4.0), seed=4
            ),
            6,
        ),
    ]
    truth: dict[str, str] = {}
    for name, page, orientation in scans:
        save_scan(page, out_dir / name, quality=75, exif_orientation=orientation)
        truth[name] = page.text
    (out_dir / "manifest.json").write_text(json.dumps(MANIFEST, ensure_ascii=False, indent=2) + "\n", "utf-8")
    (out_dir / "groundtruth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=2) + "\n", "utf-8")
    return truth


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out_dir = Path(args[0]) if args else OUT_DIR
    for name in build(out_dir):
        path = out_dir / name
        print(f"{path} {path.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
