"""Result types of the digitizer: words, pages, extracted fields and the digitised component."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from digitizer.review import describe

DOCUMENT_TYPES: tuple[str, ...] = (
    "application_form",
    "citizen_id_card",
    "birth_certificate",
    "marriage_certificate",
    "land_use_certificate",
    "power_of_attorney",
    "diploma",
    "contract",
    "residence_confirmation",
    "other",
)

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Word:
    """One recognised word; box is (left, top, width, height) in pixels of the stored page image."""

    text: str
    box: Box
    confidence: float
    line: int = 0


@dataclass
class Page:
    """One scanned page after orientation, deskew and OCR.

    ``rotation`` is the clockwise quarter-turn applied to make the page upright (EXIF and
    orientation detection together); ``skew_deg`` is the skew detected on the scan
    (counter-clockwise positive), which was corrected by rotating the image by ``-skew_deg``.
    """

    index: int
    width_px: int
    height_px: int
    dpi: float
    text: str
    confidence: float
    words: list[Word] = field(default_factory=list)
    rotation: int = 0
    skew_deg: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def to_dict(self, include_words: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "text": self.text,
            "confidence": round(self.confidence, 4),
            "width_px": self.width_px,
            "height_px": self.height_px,
            "dpi": round(self.dpi, 2),
            "rotation": self.rotation,
            "skew_deg": round(self.skew_deg, 2),
            "warnings": list(self.warnings),
        }
        if include_words:
            out["words"] = [
                {"text": w.text, "box": list(w.box), "confidence": round(w.confidence, 4), "line": w.line}
                for w in self.words
            ]
        return out


@dataclass(frozen=True)
class Field:
    """A value extracted from the text, with the page and box it came from."""

    name: str
    value: str
    page: int
    box: Box | None
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "page": self.page,
            "box": list(self.box) if self.box is not None else None,
            "confidence": round(self.confidence, 4),
        }


PARTY_FIELDS = ("full_name", "so_dinh_danh", "date_of_birth", "birth_year")


@dataclass
class Party:
    """One person a document names, with the role its heading or label gives them (husband, wife,
    principal, agent, party_a, seller, child, father, ...; ``person`` when nothing says).

    ``fields`` holds the party's own full_name, so_dinh_danh (only a number that decodes, see
    ``digitizer.citizen_id``), date_of_birth (ISO) or birth_year; ``page`` and ``box`` are the
    first page the party appears on and the union of the boxes of its fields there.
    """

    role: str
    fields: dict[str, Field]
    page: int
    box: Box | None
    warnings: list[str] = field(default_factory=list)

    @property
    def id_number(self) -> str | None:
        found = self.fields.get("so_dinh_danh")
        return found.value if found is not None else None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"role": self.role}
        for name in PARTY_FIELDS:
            found = self.fields.get(name)
            out[name] = found.to_dict() if found is not None else None
        out["page"] = self.page
        out["box"] = list(self.box) if self.box is not None else None
        out["warnings"] = list(self.warnings)
        return out


@dataclass
class DigitizedComponent:
    """Everything the digitizer produced for one dossier component."""

    doc_type: str
    confidence: float
    needs_review: bool
    pages: list[Page]
    fields: dict[str, Field]
    pdf: bytes
    warnings: list[str] = field(default_factory=list)
    parties: list[Party] = field(default_factory=list)
    # The classifier's best type; ``confidence`` is its probability. It differs from ``doc_type`` when
    # the guess was not trusted (``other`` for unfamiliar text, or the declared type).
    guess: str | None = None

    @property
    def text(self) -> str:
        return "\n\f".join(page.text for page in self.pages)

    def to_dict(self, include_words: bool = False) -> dict[str, Any]:
        return {
            "type": self.doc_type,
            "confidence": round(self.confidence, 4),
            "needs_review": self.needs_review,
            "pages": [page.to_dict(include_words) for page in self.pages],
            "fields": {name: f.to_dict() for name, f in self.fields.items()},
            "parties": [p.to_dict() for p in self.parties],
            "warnings": list(self.warnings),
            "reasons": describe(self.warnings),
            "guess": {"type": self.guess or self.doc_type, "confidence": round(self.confidence, 4)},
        }
