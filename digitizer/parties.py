"""Every person a document names, with their role: chồng/vợ, bên ủy quyền/bên được ủy quyền, bên A/bên B,
người được khai sinh/cha/mẹ, ... each with their own name, số định danh and date of birth.

The page is read as rows of cells, not as OCR lines:

- **rows**: OCR lines whose vertical extents overlap are one printed row (Tesseract may cut a
  two-column form into blocks, or run both columns into one line);
- **cells**: a row is cut where the space between two words is wider than the row's median word
  height. An inter-word space is about a third of an em and a word box is at least the x-height
  (half an em), so a normal space never reaches that, while the space between a form's label and its
  value, or between two columns, does.

A **role heading** opens a party: a role phrase ("bên được ủy quyền", "người chồng", "bên A", ...)
that starts a cell (after numbering such as "I." or "1.", or "thông tin") and is followed by nothing,
a colon or a parenthesis ("BÊN A (Bên bán):"), or a role phrase inside a person label
("Họ, chữ đệm, tên người chồng:"). A role phrase inside prose ("Bên A đồng ý chuyển giao cho Bên B")
opens nothing.

When one row holds two or more headings side by side (a marriage certificate: "Chồng" and "Vợ" above
two columns) the rows below are split into **columns**: each cell, or each value of a label, goes to
the column whose span holds its centre; a value without its own label takes the label that precedes
it in the row (a table with one label column) or, when a label ends its cell with nothing after it,
the value under it on the next row ("Số định danh cá nhân:" with the number below). Column mode ends
at a row that runs across the column boundary where no column starts, or at the next headings.

Labelled fields (name, số định danh, date or year of birth) go to the current party of their column;
a party keeps the first value of each field. A second name in a party whose role is a side of a
contract (several people can be "bên A") starts another person with the same role; in a one-person
role (chồng, cha, ...) it starts a person without a role.
"""

from __future__ import annotations

import itertools
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from digitizer.citizen_id import parse_citizen_id
from digitizer.fields import STOP_LABELS, parse_date, union_box
from digitizer.model import Field, Page, Party, Word
from digitizer.textnorm import fold_words

# Role phrases (folded) -> role code. A longer phrase wins at the same position.
ROLES: dict[str, str] = {
    "nguoi chong": "husband",
    "ben chong": "husband",
    "chong": "husband",
    "nguoi vo": "wife",
    "ben vo": "wife",
    "vo": "wife",
    "ben uy quyen": "principal",
    "nguoi uy quyen": "principal",
    "ben giao uy quyen": "principal",
    "nguoi giao uy quyen": "principal",
    "ben duoc uy quyen": "agent",
    "nguoi duoc uy quyen": "agent",
    "ben nhan uy quyen": "agent",
    "nguoi nhan uy quyen": "agent",
    "ben a": "party_a",
    "ben b": "party_b",
    "ben c": "party_c",
    "ben ban": "seller",
    "ben mua": "buyer",
    "ben cho thue": "lessor",
    "ben thue": "lessee",
    "ben chuyen nhuong": "transferor",
    "ben nhan chuyen nhuong": "transferee",
    "ben tang cho": "donor",
    "ben duoc tang cho": "donee",
    "ben nhan tang cho": "donee",
    "ben cho vay": "lender",
    "ben vay": "borrower",
    "ben the chap": "mortgagor",
    "ben nhan the chap": "mortgagee",
    "ben bao lanh": "guarantor",
    "ben duoc bao lanh": "guaranteed",
    "ben dat coc": "depositor",
    "ben nhan dat coc": "deposit_holder",
    "ben trao doi": "party_a",
    "ben gui giu": "bailor",
    "ben nhan gui giu": "bailee",
    "nguoi duoc khai sinh": "child",
    "nguoi duoc dang ky khai sinh": "child",
    "con": "child",
    "nguoi cha": "father",
    "cha": "father",
    "nguoi me": "mother",
    "me": "mother",
    "nguoi yeu cau": "requester",
    "nguoi lam chung": "witness",
}
# Roles named by letter only: a heading that also names the side ("BÊN A (Bên bán)") takes the side.
GENERIC_ROLES = {"party_a", "party_b", "party_c"}
# Roles one person holds; a second name there is somebody else.
SINGLE_PERSON_ROLES = {"husband", "wife", "child", "father", "mother", "requester"}
# The other half of a pair, for a second person whose heading OCR lost.
COUNTERPARTS = {"husband": "wife", "wife": "husband", "father": "mother", "mother": "father"}
# The role of a person named before any heading, by document type.
DEFAULT_ROLES = {"birth_certificate": "child", "citizen_id_card": "holder"}
DEFAULT_ROLE = "person"

# Person labels (folded) -> field. ID labels cover the wordings and abbreviations of forms in use.
LABELS: dict[str, str] = {
    "ho chu dem va ten": "full_name",
    "ho chu dem ten": "full_name",
    "ho va ten": "full_name",
    "ho ten": "full_name",
    "toi ten la": "full_name",
    "toi la": "full_name",
    "full name": "full_name",
    "ten": "full_name",
    "ong ba": "full_name",
    "ong": "full_name",
    "ba": "full_name",
    "ngay thang nam sinh": "date_of_birth",
    "ngay sinh": "date_of_birth",
    "sinh ngay": "date_of_birth",
    "date of birth": "date_of_birth",
    "nam sinh": "birth_year",
    "sinh nam": "birth_year",
    "so dinh danh ca nhan": "so_dinh_danh",
    "so dinh danh": "so_dinh_danh",
    "dinh danh ca nhan": "so_dinh_danh",
    "so ddcn": "so_dinh_danh",
    "so cccd": "so_dinh_danh",
    "cccd so": "so_dinh_danh",
    "cccd": "so_dinh_danh",
    "so can cuoc cong dan": "so_dinh_danh",
    "can cuoc cong dan so": "so_dinh_danh",
    "so can cuoc": "so_dinh_danh",
    "can cuoc so": "so_dinh_danh",
    "can cuoc cong dan": "so_dinh_danh",
    "the can cuoc": "so_dinh_danh",
    "can cuoc": "so_dinh_danh",
    "so giay to tuy than": "so_dinh_danh",
    "giay to tuy than": "so_dinh_danh",
    "so cmnd": "so_dinh_danh",
    "cmnd so": "so_dinh_danh",
    "cmnd": "so_dinh_danh",
    "so chung minh nhan dan": "so_dinh_danh",
    "chung minh nhan dan so": "so_dinh_danh",
    "chung minh nhan dan": "so_dinh_danh",
}
# Short labels that are also common words: a label only at the start of a cell and with a colon.
STRICT_LABELS = {"ten", "ong ba", "ong", "ba", "toi la", "toi ten la"}
# Labels of other things: they end a value and take nothing.
STOP = (
    *STOP_LABELS,
    "cu tru",
    "thuong tru",
    "noi o hien tai",
    "dia chi",
    "dien thoai",
    "so dien thoai",
    "email",
    "so tai khoan",
    "tai khoan",
    "ma so thue",
    "chuc vu",
    "dai dien",
    "cap ngay",
    "ngay cap",
    "noi cap",
    "nghe nghiep",
    "quan he",
)
PREFIX_TOKENS = {"thong", "tin", "ve", "cua", "phan", "i", "ii", "iii", "iv", "v", "vi", "1", "2", "3", "4", "5"}
HONORIFICS = {"ong", "ba", "anh", "chi", "cu"}

_ALL_LABELS: list[tuple[tuple[str, ...], str | None]] = sorted(
    [(tuple(p.split()), f) for p, f in LABELS.items()] + [(tuple(p.split()), None) for p in STOP],
    key=lambda item: -len(item[0]),
)
_ROLE_PHRASES = sorted(((tuple(p.split()), r) for p, r in ROLES.items()), key=lambda item: -len(item[0]))


def _by_first_token(phrases: list[tuple[tuple[str, ...], Any]]) -> dict[str, list[tuple[tuple[str, ...], Any]]]:
    """Phrases by their first token, longest first: each token position tries only those that can match."""
    out: dict[str, list[tuple[tuple[str, ...], Any]]] = {}
    for phrase, value in phrases:
        out.setdefault(phrase[0], []).append((phrase, value))
    return out


_LABELS_AT = _by_first_token(_ALL_LABELS)
_ROLES_AT = _by_first_token(_ROLE_PHRASES)
_RULE = re.compile(r"[|¦‖\[\]]+")
_DIGIT_FIX = str.maketrans({"O": "0", "o": "0", "D": "0", "l": "1", "I": "1", "|": "1"})


@dataclass
class _Cell:
    words: list[Word]
    page: int
    tokens: list[tuple[str, int]] = field(default_factory=list)  # folded token, index of its word

    def __post_init__(self) -> None:
        self.tokens = [(t, i) for i, w in enumerate(self.words) for t in fold_words(w.text).split()]

    @property
    def left(self) -> int:
        return self.words[0].box[0]

    @property
    def right(self) -> int:
        return max(w.box[0] + w.box[2] for w in self.words)


@dataclass
class _Person:
    role: str
    page: int
    fields: dict[str, Field] = field(default_factory=dict)
    weak_name: bool = False
    id_invalid: bool = False
    headed: bool = False  # a heading or label gave the role

    @property
    def id_number(self) -> str | None:
        found = self.fields.get("so_dinh_danh")
        return found.value if found is not None else None


@dataclass
class _Label:
    name: str | None
    start: int  # token index of the label's first token
    end: int  # token index just past the label
    value_start: int  # token index where its value starts (past the colon)
    assignable: bool


# --- rows and cells -------------------------------------------------------------------------------


def _rows(page: Page) -> list[list[Word]]:
    """The page's OCR lines merged into printed rows (lines that overlap vertically and not
    horizontally), top to bottom, each row's words left to right."""
    lines: dict[int, list[Word]] = {}
    for word in page.words:
        lines.setdefault(word.line, []).append(word)
    spans = []
    for words in lines.values():
        top = min(w.box[1] for w in words)
        bottom = max(w.box[1] + w.box[3] for w in words)
        spans.append((top, bottom, words))
    spans.sort(key=lambda s: (s[0] + s[1]) / 2)
    rows: list[tuple[int, int, list[Word]]] = []
    for top, bottom, words in spans:
        if rows:
            r_top, r_bottom, r_words = rows[-1]
            overlap = min(bottom, r_bottom) - max(top, r_top)
            left, right = min(w.box[0] for w in words), max(w.box[0] + w.box[2] for w in words)
            crosses = any(w.box[0] < right and w.box[0] + w.box[2] > left for w in r_words)
            if overlap >= 0.5 * min(bottom - top, r_bottom - r_top) and not crosses:
                rows[-1] = (min(top, r_top), max(bottom, r_bottom), r_words + words)
                continue
        rows.append((top, bottom, list(words)))
    return [sorted(words, key=lambda w: w.box[0]) for _, _, words in rows]


def _cells(row: list[Word], page: int) -> list[_Cell]:
    """The row cut where the space between two words is wider than its median word height, and at
    vertical rules ("|")."""
    if not row:
        return []
    gap = statistics.median(w.box[3] for w in row)
    cells: list[list[Word]] = [[]]
    for word in row:
        if _RULE.fullmatch(word.text):  # a table's vertical rule read as text: a cell border
            cells.append([])
            continue
        previous = cells[-1][-1] if cells[-1] else None
        if previous is not None and word.box[0] - (previous.box[0] + previous.box[2]) > gap:
            cells.append([])
        cells[-1].append(word)
    return [_Cell(words, page) for words in cells if words]


# --- labels, headings, values ---------------------------------------------------------------------


def _match(tokens: list[tuple[str, int]], at: int, phrase: tuple[str, ...]) -> bool:
    return tuple(t for t, _ in tokens[at : at + len(phrase)]) == phrase


def _colon_after(cell: _Cell, token_end: int, limit: int = 5) -> int | None:
    """Token index just past the first word ending with ":" from the label's last token on, among the
    next ``limit`` tokens (a trailing "người chồng", "/ Full name")."""
    for k in range(max(0, token_end - 1), min(len(cell.tokens), token_end + limit)):
        word = cell.words[cell.tokens[k][1]]
        last_of_word = k + 1 == len(cell.tokens) or cell.tokens[k + 1][1] != cell.tokens[k][1]
        if last_of_word and word.text.rstrip().endswith(":"):
            return k + 1
    return None


def _at_cell_start(cell: _Cell, at: int) -> bool:
    return all(t in PREFIX_TOKENS or len(t) == 1 for t, _ in cell.tokens[:at])


def _labels(cell: _Cell) -> list[_Label]:
    found: list[_Label] = []
    i = 0
    while i < len(cell.tokens):
        for phrase, name in _LABELS_AT.get(cell.tokens[i][0], ()):
            if _match(cell.tokens, i, phrase):
                end = i + len(phrase)
                colon = _colon_after(cell, end)
                # A role phrase right after the label is part of it ("Họ, chữ đệm, tên người chồng").
                value_start = colon if colon is not None else end
                if colon is None:
                    for role_phrase, _ in _ROLES_AT.get(cell.tokens[end][0], ()) if end < len(cell.tokens) else ():
                        if _match(cell.tokens, end, role_phrase):
                            value_start = end + len(role_phrase)
                            break
                before = cell.words[cell.tokens[i - 1][1]].text if i else ""
                starts = _at_cell_start(cell, i)
                assignable = starts or colon is not None or before.rstrip().endswith((":", ",", ";", ")"))
                if " ".join(phrase) in STRICT_LABELS and not (starts and colon == end):
                    i += 1  # "Bà", "Tên": words, unless they open a cell with a colon
                    break
                found.append(_Label(name, i, end, value_start, assignable))
                i = end
                break
        else:
            i += 1
    for lab, nxt in itertools.pairwise(found):
        if nxt.start < lab.value_start:  # "Họ và tên / Full name:": the colon is the next label's
            lab.value_start = lab.end
    return found


def _anchors(cell: _Cell, labels: list[_Label]) -> list[tuple[int, int, str]]:
    """Role phrases that open a party: (start token, end token, role)."""
    out: list[tuple[int, int, str]] = []
    i = 0
    while i < len(cell.tokens):
        for phrase, role in _ROLES_AT.get(cell.tokens[i][0], ()):
            if not _match(cell.tokens, i, phrase):
                continue
            end = i + len(phrase)
            in_label = any(
                lab.name is not None and lab.assignable and lab.end <= i and end <= lab.value_start for lab in labels
            )
            if in_label or _is_heading(cell, i, end, labels, after_heading=bool(out)):
                out.append((i, end, role))
                i = end - 1
            break
        i += 1
    return out


def _is_heading(cell: _Cell, start: int, end: int, labels: list[_Label], *, after_heading: bool) -> bool:
    """The role phrase starts the cell, or is in the parenthesis of a heading that does ("BÊN A (Bên bán):"),
    and nothing but a colon, a parenthesis or a person label follows it."""
    in_parenthesis = after_heading and cell.words[cell.tokens[start][1]].text.lstrip().startswith("(")
    if not _at_cell_start(cell, start) and not in_parenthesis:
        return False
    if end == len(cell.tokens):
        return True
    word = cell.words[cell.tokens[end - 1][1]].text.rstrip()
    following = cell.words[cell.tokens[end][1]].text.lstrip()
    return (
        word.endswith((":", ")"))
        or following.startswith(("(", ":", "-"))
        or any(lab.start == end and lab.name is not None for lab in labels)
    )


def _value_tokens(cell: _Cell, label: _Label, labels: list[_Label]) -> list[Word]:
    nxt = [lab.start for lab in labels if lab.start >= label.value_start]
    stop = min(nxt) if nxt else len(cell.tokens)
    if stop <= label.value_start:
        return []
    first, last = cell.tokens[label.value_start][1], cell.tokens[stop - 1][1]
    if label.value_start > 0 and cell.tokens[label.value_start - 1][1] == first:
        first += 1  # the colon's word is the label's
    return [w for w in cell.words[first : last + 1] if fold_words(w.text)]


def _id_number(words: Sequence[Word]) -> tuple[str | None, list[Word], bool]:
    """The 12-digit number among ``words`` (digit groups split by OCR joined, O/l read for 0/1 fixed):
    (number, its words, whether a run of 10 to 13 digits was there that is not a valid số định danh)."""
    runs: list[tuple[str, list[Word]]] = [("", [])]
    for word in words:
        raw = word.text.strip(" .,:;()")
        fixed = raw.translate(_DIGIT_FIX) if sum(ch.isdigit() for ch in raw) >= max(3, len(raw) - 2) else raw
        if fixed.isdigit():
            digits, run_words = runs[-1]
            if run_words and len(digits) + len(fixed) <= 12:
                runs[-1] = (digits + fixed, [*run_words, word])  # "001 090 012345": one number in groups
            else:
                runs.append((fixed, [word]))
        else:
            runs.append(("", []))
    seen_invalid = False
    for digits, run_words in runs:
        if len(digits) == 12 and parse_citizen_id(digits):
            return digits, run_words, seen_invalid
        if 10 <= len(digits) <= 13:  # a số định danh misread (9 digits: an old CMND, not one of them)
            seen_invalid = True
    return None, [], seen_invalid


def _anchor_words(cell: _Cell, anchor: tuple[int, int, str]) -> list[Word]:
    return cell.words[cell.tokens[anchor[0]][1] : cell.tokens[anchor[1] - 1][1] + 1]


def _role(anchors: list[tuple[int, int, str]]) -> str:
    roles = [role for _s, _e, role in anchors]
    return next((r for r in roles if r not in GENERIC_ROLES), roles[0])


def _heading_only(anchors: list[tuple[int, int, str]], labels: list[_Label]) -> bool:
    """The first role phrase opens the cell as a heading (it is not inside a person label)."""
    first = anchors[0][0]
    return not any(lab.name is not None and lab.end <= first < lab.value_start for lab in labels)


def _heading_value(cell: _Cell, anchors: list[tuple[int, int, str]], labels: list[_Label]) -> list[Word]:
    """Words after "BÊN A:" / "Chồng:" up to the next label: the party's name, when printed there."""
    colon = _colon_after(cell, anchors[-1][1], limit=4)
    if colon is None or colon >= len(cell.tokens):
        return []
    return _value_tokens(cell, _Label("full_name", anchors[0][0], anchors[-1][1], colon, True), labels)


# --- assembling parties ---------------------------------------------------------------------------


class _Reader:
    def __init__(self, default_role: str) -> None:
        self.default_role = default_role
        self.people: list[_Person] = []
        self.current: list[int | None] = [None]  # per column: index into people
        self.heads: list[tuple[int, int]] = []  # x extents of the column headings
        self.edges: list[set[int]] = [set()]  # observed left x of each column's cells
        self.pending: dict[int, str] = {}  # column -> field whose value is expected on the next row
        self.across = False  # the previous row ran across the columns
        self.tol = 10

    # columns
    def column_of(self, words: Sequence[Word]) -> int:
        """The column whose heading the words overlap most; if none, the nearest heading."""
        if len(self.heads) < 2:
            return 0
        left, right = words[0].box[0], max(w.box[0] + w.box[2] for w in words)

        def closeness(j: int) -> float:
            h_left, h_right = self.heads[j]
            overlap = min(right, h_right) - max(left, h_left)
            return overlap if overlap > 0 else overlap - 1e6  # any overlap beats the nearest gap

        return max(range(len(self.heads)), key=closeness)

    def _overlapped(self, cell: _Cell) -> int:
        return sum(min(cell.right, r) - max(cell.left, le) > 0 for le, r in self.heads)

    def set_columns(self, anchors: list[tuple[_Cell, list[Word], str]], page: int) -> None:
        anchors.sort(key=lambda a: a[0].left)
        self.heads = [(a[0].left, a[0].right) for a in anchors]
        self.edges = [{a[0].left} for a in anchors]
        self.current = []
        for _cell, _words, role in anchors:
            self.people.append(_Person(role, page, headed=True))
            self.current.append(len(self.people) - 1)
        self.pending = {}

    def end_columns(self) -> None:
        if len(self.current) > 1:
            self.current, self.heads, self.edges, self.pending = [None], [], [set()], {}

    def split_crossing(self, cells: list[_Cell]) -> list[_Cell] | None:
        """Cells under two headings cut where a column's cells start; None when one runs across where none does
        (a full-width line: the columns are over)."""
        out: list[_Cell] = []
        starts = sorted({e for edges in self.edges[1:] for e in edges})
        for cell in cells:
            pieces = [cell]
            while self._overlapped(pieces[-1]) > 1:
                last = pieces[-1]
                cut = next(
                    (
                        k
                        for k, w in enumerate(last.words)
                        if k > 0 and any(abs(w.box[0] - e) <= self.tol for e in starts)
                    ),
                    None,
                )
                if cut is None:
                    return None
                pieces[-1:] = [_Cell(last.words[:cut], cell.page), _Cell(last.words[cut:], cell.page)]
            out.extend(pieces)
        return out

    # people
    def person(self, column: int, page: int) -> _Person:
        index = self.current[column] if column < len(self.current) else None
        if index is None:
            self.people.append(_Person(self.default_role, page))
            index = len(self.people) - 1
            self.current[min(column, len(self.current) - 1)] = index
        return self.people[index]

    def open(self, column: int, role: str, page: int, for_field: str | None = None) -> None:
        column = min(column, len(self.current) - 1)
        index = self.current[column]
        if index is not None:
            person = self.people[index]
            if person.role == role and (not person.fields if for_field is None else for_field not in person.fields):
                return
        self.people.append(_Person(role, page, headed=True))
        self.current[column] = len(self.people) - 1
        self.pending.pop(column, None)

    def assign(
        self, column: int, name: str, words: list[Word], page: int, *, weak: bool = False, fill_only: bool = False
    ) -> bool:
        """Give the value in ``words`` to the column's party; False when it holds no such value.
        ``fill_only``: an unlabelled value (under or beside a label) only fills a field still empty."""
        if name == "so_dinh_danh":
            number, number_words, invalid = _id_number(words)
            if number is None:
                if invalid:
                    self.person(column, page).id_invalid = True
                return invalid
            value, words = number, number_words
        elif name == "date_of_birth":
            iso = parse_date(" ".join(w.text for w in words))
            if iso is None:
                year = re.match(r"(\d{4})\b", words[0].text) if words else None
                if year is None:
                    return False
                name, value, words = "birth_year", year.group(1), words[:1]
            else:
                value = iso
        elif name == "birth_year":
            match = re.match(r"(\d{4})\b", words[0].text) if words else None
            if match is None:
                return False
            value, words = match.group(1), words[:1]
        else:
            while words and fold_words(words[0].text) in HONORIFICS | {"ong ba"} and len(words) > 1:
                words = words[1:]
            value = " ".join(w.text for w in words).strip(" ,.;:()")
            if not value or any(ch.isdigit() for ch in value):
                return False
        person = self.person(column, page)
        if name == "so_dinh_danh":
            if any(p.id_number == value for p in self.people):
                return True  # a number said again (a signature block, a clause): its person has it
            if name in person.fields:  # a second number: somebody else, whatever heading OCR missed
                person = self._next_person(column, person, page)
        elif fill_only and name in person.fields:
            return False
        elif name == "full_name" and name in person.fields and not person.weak_name:
            person = self._next_person(column, person, page)
        if name in person.fields and not (name == "full_name" and person.weak_name):
            return True
        conf = sum(w.confidence for w in words) / len(words)
        person.fields[name] = Field(name, value, page, union_box(words), round(conf, 4))
        if name == "full_name":
            person.weak_name = weak
        return True

    def _named_later(self, cell: _Cell, column: int) -> None:
        """ "(sau đây gọi là bên ủy quyền)": the role of the person just named, when nothing gave it yet."""
        flat = [t for t, _ in cell.tokens]
        for i in range(len(flat) - 2):
            if flat[i] != "goi" or not (flat[i + 1] == "la" or flat[i + 1 : i + 3] == ["tat", "la"]):
                continue
            at = i + 2 if flat[i + 1] == "la" else i + 3
            for phrase, role in _ROLES_AT.get(flat[at], ()) if at < len(flat) else ():
                index = self.current[column]
                if _match(cell.tokens, at, phrase) and index is not None:
                    person = self.people[index]
                    if person.role == self.default_role or person.role in GENERIC_ROLES:
                        person.role, person.headed = role, True
                    break

    def _next_person(self, column: int, person: _Person, page: int) -> _Person:
        """Somebody after ``person`` with no heading of their own: another member of a contract side, or the
        other half of a pair (chồng → vợ, bên ủy quyền → bên được ủy quyền) not met yet, or a person."""
        other = COUNTERPARTS.get(person.role)
        if person.headed and person.role not in SINGLE_PERSON_ROLES:
            role, headed = person.role, True
        elif other is not None and not any(p.role == other for p in self.people):
            role, headed = other, True
        else:
            role, headed = DEFAULT_ROLE, False
        self.people.append(_Person(role, page, headed=headed))
        self.current[min(column, len(self.current) - 1)] = len(self.people) - 1
        return self.people[-1]

    # one row
    def read_row(self, cells: list[_Cell], page: int) -> None:
        found = self._scan(cells)
        heads = [(cell, _anchor_words(cell, anchors[0]), _role(anchors)) for cell, _labs, anchors in found if anchors]
        columns_set = False
        if len(heads) >= 2 and len({h[1][0].box[0] for h in heads}) == len(heads):
            self.set_columns(heads, page)
            columns_set = True
        elif len(self.current) > 1:
            split = self.split_crossing(cells)
            leading_head = len(heads) == 1 and heads[0][0].left <= min(c.left for c in cells)
            labelled = any(lab.assignable and lab.name is not None for _c, labs, _a in found for lab in labs)
            if split is None and not leading_head and not labelled and not self.across:
                # One line across the columns (two values run together, a note): skipped, the columns
                # go on; a second one in a row, or one with a person label, is the end of them.
                self.across, self.pending = True, {}
                return
            if split is None or leading_head:
                self.end_columns()
            elif len(split) != len(cells):
                found = self._scan(split)
        self.across = False
        pending, self.pending = self.pending, {}
        row_label: str | None = None  # a label of this row whose value is in the cells after it
        columns = [self.column_of(cell.words) for cell, _labels, _anchors in found]
        used: set[int] = set()  # cells whose words were taken with an earlier one (a number in boxes)

        def boxed_number(first: int, column: int) -> bool:
            """A number printed one digit a box: the label-free cells of this column from ``first`` on."""
            run = [k for k in range(first, len(found)) if columns[k] == column and k not in used]
            run = list(itertools.takewhile(lambda k: not found[k][1], run))
            number, words, _invalid = _id_number([w for k in run for w in found[k][0].words])
            if number is None or not self.assign(column, "so_dinh_danh", words, page):
                return False
            used.update(run)
            return True

        for index, (cell, labels, anchors) in enumerate(found):
            if index in used:
                continue
            column = columns[index]
            if len(self.current) > 1:
                self.edges[column].add(cell.left)
                h_left, h_right = self.heads[column]
                if min(cell.right, h_right) > max(cell.left, h_left):  # under its heading: widen the column
                    self.heads[column] = (min(h_left, cell.left), max(h_right, cell.right))
            consumed = any(lab.assignable for lab in labels)
            if anchors and not columns_set and _heading_only(anchors, labels):
                self.open(column, _role(anchors), page)
                value = _heading_value(cell, anchors, labels)
                if value:
                    self.assign(column, "full_name", value, page, weak=True)
                consumed = True
                anchors = []
            events: list[tuple[int, int, _Label | tuple[int, int, str]]] = []
            if not columns_set:
                events += [(a[0], 0, a) for a in anchors]
            events += [(lab.value_start, 1, lab) for lab in labels if lab.assignable]
            for _pos, _kind, item in sorted(events, key=lambda e: (e[0], e[1])):
                if isinstance(item, tuple):
                    inside = next((lab for lab in labels if lab.end <= item[0] < lab.value_start), None)
                    self.open(column, item[2], page, inside.name if inside else None)
                    continue
                if item.name is None:
                    row_label = ""  # a label of something else: the cells after it are its value
                    continue
                value = _value_tokens(cell, item, labels)
                if value and self.assign(column, item.name, value, page):
                    row_label = ""
                    continue
                row_label = item.name  # the cells after it in the row: its value, under each column
                if item.name == "so_dinh_danh" and boxed_number(index + 1, column):
                    continue
                self.pending[column] = item.name
            self._named_later(cell, column)
            if consumed or not cell.tokens:
                continue
            wanted = row_label if row_label is not None else pending.get(column)
            if wanted == "so_dinh_danh" and boxed_number(index, column):
                continue
            if wanted and self.assign(column, wanted, cell.words, page, fill_only=True):
                continue
            if wanted == "":
                continue  # the value of another label ("Số tài khoản:  0010...")
            number, words, _invalid = _id_number(cell.words)
            if number is not None:
                self.assign(column, "so_dinh_danh", words, page)

    @staticmethod
    def _scan(cells: list[_Cell]) -> list[tuple[_Cell, list[_Label], list[tuple[int, int, str]]]]:
        out = []
        for cell in cells:
            labels = _labels(cell)
            out.append((cell, labels, _anchors(cell, labels)))
        return out

    def parties(self) -> list[Party]:
        out = []
        for person in self.people:
            identified = "so_dinh_danh" in person.fields or person.id_invalid
            if not identified and not (person.headed and "full_name" in person.fields):
                continue  # nobody: a heading with nothing under it, a name with no role and no number
            boxes = [f.box for f in person.fields.values() if f.box is not None and f.page == person.page]
            words = [Word("", box, 1.0) for box in boxes]
            number = person.fields.get("so_dinh_danh")
            warnings = ["ID_NUMBER_INVALID"] if person.id_invalid and number is None else []
            parsed = parse_citizen_id(number.value) if number is not None else None
            years = {int(f.value[:4]) for k, f in person.fields.items() if k in ("date_of_birth", "birth_year")}
            if parsed is not None and years and parsed.birth_year not in years and number is not None:
                warnings.append("ID_BIRTH_YEAR_MISMATCH")
                person.fields["so_dinh_danh"] = Field(
                    number.name, number.value, number.page, number.box, round(number.confidence * 0.5, 4)
                )
            out.append(Party(person.role, dict(person.fields), person.page, union_box(words), warnings))
        return out


def extract_parties(pages: Sequence[Page], doc_type: str | None = None) -> list[Party]:
    """Every person the pages name, in reading order, with their role and own fields (module doc)."""
    reader = _Reader(DEFAULT_ROLES.get(doc_type or "", DEFAULT_ROLE))
    for page in pages:
        reader.end_columns()
        for row in _rows(page):
            heights = [w.box[3] for w in row]
            reader.tol = max(4, round(statistics.median(heights) / 2)) if heights else 10
            reader.read_row(_cells(row, page.index), page.index)
    return reader.parties()


def party_warnings(parties: Sequence[Party]) -> list[str]:
    """Component warnings: a party whose labelled number does not decode (ID_NUMBER_INVALID), a number whose
    birth year disagrees with that party's (ID_BIRTH_YEAR_MISMATCH)."""
    out: list[str] = []
    for party in parties:
        for code in party.warnings:
            if code not in out:
                out.append(code)
    return out
