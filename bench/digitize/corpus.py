"""The bench's pages: generated components written as JPEG scans, plus one PDF of all pages for OCRmyPDF."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import img2pdf

from bench.corpus.generate import Component, corpus
from bench.corpus.render import save_scan


@dataclass
class BenchComponent:
    doc_type: str
    files: list[Path]
    page_texts: list[str]
    expected_id: str | None
    tags: dict[str, str]


@dataclass
class BenchCorpus:
    components: list[BenchComponent]
    all_pages_pdf: Path

    @property
    def page_count(self) -> int:
        return sum(len(c.files) for c in self.components)

    @property
    def page_texts(self) -> list[str]:
        return [text for c in self.components for text in c.page_texts]


def _write(component: Component, index: int, folder: Path) -> BenchComponent:
    files = []
    for page_no, page in enumerate(component.pages):
        path = folder / f"c{index:03d}_{component.doc_type}_p{page_no + 1}.jpg"
        save_scan(page, path, quality=85)
        files.append(path)
    return BenchComponent(
        component.doc_type, files, [p.text for p in component.pages], component.expected_id, component.tags
    )


def build(folder: Path, pages: int, seed: int, max_skew: float = 3.0) -> BenchCorpus:
    """At least ``pages`` pages of mixed types (200/300 dpi, skew up to ``max_skew``°) under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    components: list[BenchComponent] = []
    source = corpus(10**6, seed=seed, max_skew=max_skew)
    while sum(len(c.files) for c in components) < pages:
        components.append(_write(next(source), len(components), folder))
    pdf = folder / "all-pages.pdf"
    pdf.write_bytes(img2pdf.convert([str(f) for c in components for f in c.files]))
    manifest = [
        {"type": c.doc_type, "files": [f.name for f in c.files], "expected_id": c.expected_id, **c.tags}
        for c in components
    ]
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), "utf-8")
    return BenchCorpus(components, pdf)
