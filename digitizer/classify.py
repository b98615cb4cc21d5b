"""Classify a component's text into the public taxonomy by weighted keywords on folded text.

Text is folded (no diacritics, lowercase, punctuation as spaces) so OCR that drops or confuses
tone marks still matches. Title phrases count three times as much as supporting keywords, and
twice that again when found in the heading (the top lines of page 1).

The taxonomy is open: counters also receive announcements, letters, minutes… that are none of the
known types. A closed-set classifier still names one of them, so the shipped model carries an
open-set rule (``open_set_reason``): a text whose n-grams are unlike every type's (familiarity
below ``min_familiarity``) or whose best type is too uncertain (below ``min_confidence``) is
``other`` and goes to review, with the best guess kept for the officer. Both thresholds are chosen
on a validation set of generated types plus hand-written unfamiliar texts (``bench.corpus.train_classifier``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from digitizer.learned import NgramModel, default_model
from digitizer.model import DOCUMENT_TYPES
from digitizer.textnorm import fold_words

HEADING_LINES = 10
HEADING_FACTOR = 2.0
TITLE_WEIGHT = 3.0
SUPPORT_WEIGHT = 1.0
SATURATION = 4.0
TITLE_CASE_SHARE = 0.8  # a line at least this share of whose letters are capitals is set as a title

# (title phrases, supporting phrases), all folded.
KEYWORDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "application_form": (
        ("to khai", "don de nghi", "don xin", "phieu de nghi", "don dang ky", "phieu yeu cau"),
        ("kinh gui", "nguoi yeu cau", "nguoi lam don", "de nghi co quan", "toi cam doan", "noi dung de nghi"),
    ),
    "citizen_id_card": (
        ("can cuoc cong dan", "the can cuoc", "citizen identity card", "identity card"),
        (
            "full name",
            "date of birth",
            "place of origin",
            "place of residence",
            "date of expiry",
            "co gia tri den",
            "dac diem nhan dang",
            "ngon tro trai",
            "ngon tro phai",
            "personal identification",
            "quoc tich nationality",
        ),
    ),
    "birth_certificate": (
        ("giay khai sinh", "ban sao giay khai sinh", "trich luc khai sinh"),
        ("noi dang ky khai sinh", "ghi bang chu", "nguoi me", "nguoi cha", "noi sinh"),
    ),
    "marriage_certificate": (
        ("giay chung nhan ket hon", "trich luc ket hon"),
        ("nguoi chong", "nguoi vo", "dang ky ket hon", "vo chong"),
    ),
    "land_use_certificate": (
        ("quyen su dung dat", "giay chung nhan quyen so huu nha"),
        (
            "thua dat so",
            "to ban do so",
            "muc dich su dung",
            "thoi han su dung",
            "nguoi su dung dat",
            "tai san khac gan lien voi dat",
            "so vao so cap gcn",
        ),
    ),
    "power_of_attorney": (
        ("giay uy quyen", "hop dong uy quyen"),
        ("ben uy quyen", "ben duoc uy quyen", "noi dung uy quyen", "thoi han uy quyen"),
    ),
    "diploma": (
        ("bang tot nghiep", "van bang", "bang cu nhan", "bang thac si", "bang tien si", "bang ky su"),
        ("xep loai tot nghiep", "hieu truong", "so vao so cap bang", "cap bang", "nganh"),
    ),
    "contract": (
        ("hop dong",),
        ("ben a", "ben b", "dieu khoan", "hai ben thoa thuan", "dai dien ben", "ky ket"),
    ),
    "residence_confirmation": (
        ("xac nhan thong tin ve cu tru", "thong tin ve cu tru", "giay xac nhan cu tru"),
        ("noi thuong tru", "noi tam tru", "chu ho", "thanh vien trong ho gia dinh", "cong an"),
    ),
}


UNFAMILIAR_TEXT = "UNFAMILIAR_TEXT"
TYPE_UNCERTAIN = "TYPE_UNCERTAIN"


@dataclass(frozen=True)
class Classification:
    """Type, the calibrated probability of the best guess, keyword scores and every type's probability.

    ``doc_type`` is ``other`` with ``reason`` set (UNFAMILIAR_TEXT or TYPE_UNCERTAIN) when the open-set
    rule rejected the best guess; ``guess`` is always the model's best type and ``confidence`` its
    probability. ``familiarity`` is the best type's mean log-probability per known n-gram.
    """

    doc_type: str
    confidence: float
    scores: dict[str, float] = field(default_factory=dict)
    probabilities: dict[str, float] = field(default_factory=dict)
    guess: str = "other"
    familiarity: float = 0.0
    reason: str | None = None


def _count(phrase: str, text: str) -> int:
    return len(re.findall(rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])", text))


def score_types(heading: str, body: str) -> dict[str, float]:
    """Score of every type given the folded heading and folded body text."""
    scores: dict[str, float] = {}
    for doc_type, (titles, support) in KEYWORDS.items():
        total = 0.0
        for phrase in titles:
            if _count(phrase, heading):
                total += TITLE_WEIGHT * HEADING_FACTOR
            elif _count(phrase, body):
                total += TITLE_WEIGHT
        for phrase in support:
            if _count(phrase, heading) or _count(phrase, body):
                total += SUPPORT_WEIGHT
        scores[doc_type] = total
    # A title that contains another type's title ("hop dong uy quyen", "giay chung nhan ... quyen su
    # dung dat" in a contract) is the more specific one: let the longer title win.
    if scores["power_of_attorney"] and _count("hop dong uy quyen", heading + " " + body):
        scores["contract"] = max(0.0, scores["contract"] - TITLE_WEIGHT * HEADING_FACTOR)
    return scores


def titled_in_heading(pages: Sequence[str], doc_type: str) -> bool:
    """Whether the document names itself as ``doc_type`` in a title: one of the type's title phrases on
    a line (or run of consecutive lines) in capitals among the top lines of page 1. Vietnamese
    administrative documents set the name of the document type in capitals (Decree 30/2020/NĐ-CP);
    the same words inside a sentence ("... ký hợp đồng lao động ...") are a mention, not a title."""
    titles = KEYWORDS.get(doc_type, ((), ()))[0]
    lines = _first_page_lines(pages)[:HEADING_LINES]
    runs: list[list[str]] = [[]]
    for line in lines:
        letters = [ch for ch in line if ch.isalpha()]
        if len(letters) >= 4 and sum(ch.isupper() for ch in letters) >= TITLE_CASE_SHARE * len(letters):
            runs[-1].append(line)
        elif runs[-1]:
            runs.append([])
    return any(_count(phrase, fold_words(" ".join(run))) for run in runs if run for phrase in titles)


def open_set_reason(
    guess: str,
    confidence: float,
    familiarity: float,
    titled: bool,
    min_confidence: float | None,
    min_familiarity: float | None,
) -> str | None:
    """Why a best guess is rejected for ``other`` (a warning code), or None when it stands.

    A document whose title (``titled_in_heading``) names its type keeps it whatever its wording (other
    producers' forms word their fields differently); otherwise text unlike every known type is UNFAMILIAR_TEXT and
    a guess below the confidence threshold is TYPE_UNCERTAIN. A guess of ``other`` is never rejected.
    """
    if guess == "other":
        return None
    if min_familiarity is not None and familiarity < min_familiarity and not titled:
        return UNFAMILIAR_TEXT
    if min_confidence is not None and confidence < min_confidence:
        return TYPE_UNCERTAIN
    return None


def _first_page_lines(pages: Sequence[str]) -> list[str]:
    """The non-blank lines of page 1: its first ``HEADING_LINES`` are the heading."""
    return [line for line in (pages[0].splitlines() if pages else []) if line.strip()]


def _split(pages: Sequence[str]) -> tuple[str, str]:
    lines = _first_page_lines(pages)
    heading = fold_words(" \n ".join(lines[:HEADING_LINES]))
    body = fold_words(" ".join([*lines[HEADING_LINES:], *pages[1:]]))
    return heading, body


def keyword_logits(text: str, labels: Sequence[str] = DOCUMENT_TYPES) -> np.ndarray:
    """Keyword scores of a text (pages separated by form feeds) as a vector in ``labels`` order."""
    scores = score_types(*_split(text.split("\f")))
    return np.array([scores.get(label, 0.0) for label in labels])


def _keyword_only(scores: dict[str, float]) -> Classification:
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    (best, s1), (_, s2) = ranked[0], ranked[1]
    if s1 <= 0:
        return Classification("other", 0.0, scores)
    strength = 1.0 - math.exp(-s1 / SATURATION)
    margin = (s1 - s2) / s1
    return Classification(best, round(strength * (0.5 + 0.5 * margin), 4), scores, guess=best)


def classify_pages(pages: Sequence[str], model: NgramModel | None = None, *, open_set: bool = True) -> Classification:
    """Classify a component from the text of its pages, in order.

    With a learned model (the shipped one by default) the type's probability combines the model's
    calibrated n-gram posterior with the keyword scores; without one, keywords alone decide. A
    text with neither keywords nor any known n-gram is ``other`` with confidence 0. With
    ``open_set`` the model's open-set rule may turn the best guess into ``other`` (see the module).
    """
    heading, body = _split(pages)
    scores = score_types(heading, body)
    model = model or default_model()
    if model is None:
        return _keyword_only(scores)
    text = "\f".join(pages)
    log_scores = model.log_scores(text)
    if not any(scores.values()) and not log_scores.any():
        return Classification("other", 0.0, scores, {})
    kw = np.array([scores.get(label, 0.0) for label in model.labels])
    probs = model.probabilities(text, extra_logits=model.keyword_weight * kw, log_scores=log_scores)
    best = int(np.argmax(probs))
    guess, confidence = model.labels[best], round(float(probs[best]), 4)
    familiarity = round(float(log_scores.max()), 4)
    by_label = {label: round(float(p), 4) for label, p in zip(model.labels, probs, strict=True)}
    reason = None
    if open_set:
        titled = titled_in_heading(pages, guess)
        reason = open_set_reason(guess, confidence, familiarity, titled, model.min_confidence, model.min_familiarity)
    doc_type = "other" if reason else guess
    return Classification(doc_type, confidence, scores, by_label, guess, familiarity, reason)
