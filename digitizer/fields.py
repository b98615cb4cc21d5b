"""Extract labelled fields (số định danh, name, dates, document number, place) from OCR'd lines.

Labels are matched on folded tokens ("Họ, chữ đệm và tên" -> "ho chu dem va ten"), the value is
the rest of the line up to the next known label. Each field keeps its page and the union of the
boxes of the words it came from.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from digitizer.citizen_id import parse_citizen_id
from digitizer.model import Box, Field, Page, Word
from digitizer.textnorm import fold_words

LABELS: dict[str, tuple[str, ...]] = {
    "full_name": ("ho chu dem va ten", "ho chu dem ten", "ho va ten", "ho ten", "full name"),
    "date_of_birth": ("ngay thang nam sinh", "ngay sinh", "sinh ngay", "date of birth"),
    "issue_date": ("ngay thang nam cap", "ngay cap", "cap ngay", "date of issue"),
    "issuing_place": ("noi cap", "place of issue"),
    "birth_year": ("nam sinh",),
    "so_dinh_danh": ("so dinh danh ca nhan", "so dinh danh", "so can cuoc", "so cccd"),
}
STOP_LABELS = (
    "gioi tinh",
    "dan toc",
    "quoc tich",
    "ghi bang chu",
    "noi sinh",
    "que quan",
    "noi cu tru",
    "noi thuong tru",
    "sex",
    "nationality",
    "co gia tri den",
)
_DATE_NUMERIC = re.compile(r"(?<!\d)(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})(?!\d)")
_DATE_WORDS = re.compile(r"ngay (\d{1,2}) thang (\d{1,2}) nam (\d{4})")
_PLACE_DATE = re.compile(r"^(?P<place>[a-z ]{2,40}?) ngay \d{1,2} thang \d{1,2} nam \d{4}")


@dataclass(frozen=True)
class TextLine:
    page: int
    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


def lines_of(pages: Sequence[Page]) -> list[TextLine]:
    """Group each page's words into lines, in reading order."""
    out: list[TextLine] = []
    for page in pages:
        current: list[Word] = []
        for word in page.words:
            if current and word.line != current[-1].line:
                out.append(TextLine(page.index, tuple(current)))
                current = []
            current.append(word)
        if current:
            out.append(TextLine(page.index, tuple(current)))
    return out


def union_box(words: Sequence[Word]) -> Box | None:
    if not words:
        return None
    left = min(w.box[0] for w in words)
    top = min(w.box[1] for w in words)
    right = max(w.box[0] + w.box[2] for w in words)
    bottom = max(w.box[1] + w.box[3] for w in words)
    return (left, top, right - left, bottom - top)


def _tokens(words: Sequence[Word]) -> list[tuple[str, int]]:
    """Folded tokens of the words, each with the index of the word it came from."""
    return [(token, i) for i, w in enumerate(words) for token in fold_words(w.text).split()]


def _find(tokens: list[tuple[str, int]], phrase: str, start: int = 0) -> int | None:
    """Index (in tokens) just past the first occurrence of ``phrase`` at or after ``start``."""
    target = phrase.split()
    flat = [t for t, _ in tokens]
    for i in range(start, len(flat) - len(target) + 1):
        if flat[i : i + len(target)] == target:
            return i + len(target)
    return None


def _value_words(line: TextLine, label_end: int, tokens: list[tuple[str, int]]) -> list[Word]:
    """Words after a label (past a trailing "/ English label:" if any) up to the next label."""
    first_word = tokens[label_end - 1][1] + 1
    words = list(line.words[first_word:])
    if not line.words[first_word - 1].text.endswith(":"):
        for i, word in enumerate(words[:4]):
            if word.text.endswith(":"):
                words = words[i + 1 :]
                break
    while words and not fold_words(words[0].text):
        words = words[1:]
    rest = _tokens(words)
    cut = len(words)
    all_labels = [p for phrases in LABELS.values() for p in phrases] + list(STOP_LABELS)
    for phrase in all_labels:
        end = _find(rest, phrase)
        if end is not None:
            cut = min(cut, rest[end - len(phrase.split())][1])
    return words[:cut]


def _labelled(lines: Sequence[TextLine], name: str) -> list[tuple[TextLine, list[Word]]]:
    found = []
    for line in lines:
        tokens = _tokens(line.words)
        for phrase in LABELS[name]:
            end = _find(tokens, phrase)
            if end is not None:
                value = _value_words(line, end, tokens)
                if value:
                    found.append((line, value))
                break
    return found


def parse_date(text: str) -> str | None:
    """ISO date from "15/03/1990", "15-03-1990", "15.03.1990" or "ngày 15 tháng 3 năm 1990"."""
    for pattern, source in ((_DATE_NUMERIC, text), (_DATE_WORDS, fold_words(text))):
        for match in pattern.finditer(source):
            day, month, year = (int(g) for g in match.groups())
            try:
                return dt.date(year, month, day).isoformat()
            except ValueError:
                continue
    return None


def _field(name: str, value: str, line: TextLine, words: Sequence[Word], factor: float = 1.0) -> Field:
    conf = sum(w.confidence for w in words) / len(words) if words else 0.0
    return Field(name, value, line.page, union_box(words), round(conf * factor, 4))


def _date_field(lines: Sequence[TextLine], name: str) -> Field | None:
    for line, words in _labelled(lines, name):
        iso = parse_date(" ".join(w.text for w in words))
        if iso:
            return _field(name, iso, line, words)
    return None


def _text_field(lines: Sequence[TextLine], name: str) -> Field | None:
    for line, words in _labelled(lines, name):
        value = " ".join(w.text for w in words).strip(" ,.;:")
        if value:
            return _field(name, value, line, words)
    return None


def _dated_place_line(lines: Sequence[TextLine]) -> tuple[TextLine, str, str] | None:
    """The "<place>, ngày dd tháng mm năm yyyy" line: (line, place words, ISO date)."""
    for line in lines:
        folded = fold_words(line.text)
        match = _PLACE_DATE.match(folded)
        iso = parse_date(line.text) if match else None
        if match and iso:
            count = len(match.group("place").split())
            place = " ".join(w.text for w in line.words[:count]).strip(" ,")
            return line, place, iso
    return None


def _id_candidates(lines: Sequence[TextLine]) -> list[tuple[TextLine, Word, bool]]:
    """Every 12-digit word, with whether its line carries an ID label."""
    out = []
    for line in lines:
        tokens = _tokens(line.words)
        labelled = any(_find(tokens, p) is not None for p in (*LABELS["so_dinh_danh"], "so no", "so"))
        for word in line.words:
            digits = word.text.strip(" .,:;")
            if len(digits) == 12 and digits.isdigit():
                out.append((line, word, labelled))
    return sorted(out, key=lambda c: not c[2])


def _birth_years(lines: Sequence[TextLine]) -> set[int]:
    years = {
        int(iso[:4])
        for line, words in _labelled(lines, "date_of_birth")
        if (iso := parse_date(" ".join(w.text for w in words)))
    }
    for _line, words in _labelled(lines, "birth_year"):
        match = re.match(r"(\d{4})\b", words[0].text)
        if match:
            years.add(int(match.group(1)))
    return years


def _document_number(lines: Sequence[TextLine]) -> Field | None:
    for line in lines:
        tokens = _tokens(line.words)
        if not tokens or tokens[0][0] not in ("so", "no"):
            continue
        head = line.words[0].text
        label_end = 2 if len(tokens) > 1 and tokens[1][0] == "no" else 1
        if not (head.endswith(":") or ":" in line.words[min(len(line.words) - 1, tokens[label_end - 1][1])].text):
            continue
        value = _value_words(line, label_end, tokens)
        if value and any(ch.isdigit() for ch in value[0].text):
            return _field("document_number", value[0].text.strip(" ,.;"), line, value[:1])
    return None


def extract_fields(pages: Sequence[Page]) -> tuple[dict[str, Field], list[str]]:
    """Fields found in the pages and warnings about them (invalid or inconsistent số định danh)."""
    lines = lines_of(pages)
    fields: dict[str, Field] = {}
    warnings: list[str] = []

    for name, getter in (
        ("full_name", _text_field),
        ("date_of_birth", _date_field),
        ("issue_date", _date_field),
        ("issuing_place", _text_field),
    ):
        found = getter(lines, name)
        if found is not None:
            fields[name] = found
    number = _document_number(lines)
    if number is not None:
        fields["document_number"] = number
    dated = _dated_place_line(lines)
    if dated is not None:
        line, place, iso = dated
        if "issue_date" not in fields:
            fields["issue_date"] = _field("issue_date", iso, line, line.words)
        if "issuing_place" not in fields and place:
            fields["issuing_place"] = _field("issuing_place", place, line, line.words[: len(place.split())])

    candidates = _id_candidates(lines)
    valid = [(line, word) for line, word, _ in candidates if parse_citizen_id(word.text.strip(" .,:;"))]
    if candidates and not valid:
        warnings.append("ID_NUMBER_INVALID")
    if valid:
        line, word = valid[0]
        number_text = word.text.strip(" .,:;")
        years = _birth_years(lines)
        parsed = parse_citizen_id(number_text)
        factor = 1.0
        if parsed is not None and years and parsed.birth_year not in years:
            warnings.append("ID_BIRTH_YEAR_MISMATCH")
            factor = 0.5
        fields["so_dinh_danh"] = _field("so_dinh_danh", number_text, line, [word], factor)
    return fields, warnings
