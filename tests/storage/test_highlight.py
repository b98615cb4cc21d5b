"""Snippets with the query's words marked, matched without diacritics, as structured spans."""

from __future__ import annotations

from storage.warehouse.highlight import Span, match_ranges, score, snippet

TEXT = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\fGIẤY KHAI SINH\nHọ và tên: Nguyễn Văn An\nNơi sinh: Đà Nẵng"


def test_marks_whole_words_in_their_original_spelling() -> None:
    spans = snippet(TEXT, "nguyen van an")
    assert [s.text for s in spans if s.mark] == ["Nguyễn", "Văn", "An"]
    assert "".join(s.text for s in spans).replace("…", "") in TEXT.replace("\f", " ").replace("\n", " ")
    assert [s.text for s in snippet(TEXT, "DA NANG") if s.mark] == ["Đà", "Nẵng"]
    assert [s.text for s in snippet("Ánh and Anh", "anh") if s.mark] == ["Ánh", "Anh"]


def test_no_partial_words_and_no_markup_passes_through() -> None:
    assert match_ranges("Nguyễn Văn Anh", "an") == []
    spans = snippet("<b>Nguyễn</b> An", "an")
    assert spans[-1] == Span("An", True) and spans[0] == Span("<b>Nguyễn</b> ", False)  # the caller escapes


def test_long_texts_are_cut_around_the_matches() -> None:
    long = "mở đầu " * 100 + "Họ và tên: Trần Thị Bình" + " kết thúc" * 100
    spans = snippet(long, "tran thi binh", width=60)
    assert spans[0] == Span("…", False) and spans[-1] == Span("…", False)
    assert [s.text for s in spans if s.mark] == ["Trần", "Thị", "Bình"]
    assert sum(len(s.text) for s in spans) <= 64


def test_without_matches_the_start_of_the_text() -> None:
    assert snippet(TEXT, "", width=20) == [Span("CỘNG HÒA XÃ HỘI CHỦ …", False)]
    assert snippet("", "an") == []


def test_score_prefers_the_phrase() -> None:
    assert score(TEXT, "nguyen van an") == (1, 3)
    assert score(TEXT, "an nguyen") == (0, 2)
    assert score(TEXT, "hai phong") == (0, 0)
