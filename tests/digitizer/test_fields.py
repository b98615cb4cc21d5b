from __future__ import annotations

import pytest

from digitizer.fields import extract_fields, parse_date

CCCD = """CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
CĂN CƯỚC CÔNG DÂN
Số / No.: 001090012345
Họ và tên / Full name: NGUYỄN VĂN AN
Ngày sinh / Date of birth: 15/03/1990
Giới tính / Sex: Nam Quốc tịch / Nationality: Việt Nam"""


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("15/03/1990", "1990-03-15"),
        ("5-3-1990", "1990-03-05"),
        ("15.03.1990", "1990-03-15"),
        ("Hà Nội, ngày 20 tháng 9 năm 2024", "2024-09-20"),
        ("Ha Noi, ngay 20 thang 09 nam 2024", "2024-09-20"),
        ("31/02/2020", None),
        ("không có ngày", None),
    ],
)
def test_parse_date_normalises_to_iso(text: str, iso: str | None) -> None:
    assert parse_date(text) == iso


def test_citizen_id_card_fields(make_page) -> None:
    fields, warnings = extract_fields([make_page(CCCD)])
    assert warnings == []
    assert fields["so_dinh_danh"].value == "001090012345"
    assert fields["document_number"].value == "001090012345"
    assert fields["full_name"].value == "NGUYỄN VĂN AN"
    assert fields["date_of_birth"].value == "1990-03-15"
    name = fields["full_name"]
    assert name.page == 0
    # Box is the union of the three name words on line 3 (x from the fake layout).
    assert name.box is not None and name.box[1] == 100 + 40 * 3 and name.box[2] > 3 * 12
    assert 0.9 <= name.confidence <= 1.0


def test_labels_match_without_diacritics_and_stop_at_next_label(make_page) -> None:
    text = "Ho, chu dem va ten: Tran Thi Binh Gioi tinh: Nu\nNgay, thang, nam sinh: 02/11/1992"
    fields, _ = extract_fields([make_page(text)])
    assert fields["full_name"].value == "Tran Thi Binh"
    assert fields["date_of_birth"].value == "1992-11-02"


def test_issue_date_and_place_from_dated_closing_line(make_page) -> None:
    text = "GIẤY KHAI SINH\nSố: 125/2024\nĐà Nẵng, ngày 20 tháng 9 năm 2024"
    fields, _ = extract_fields([make_page(text)])
    assert fields["issue_date"].value == "2024-09-20"
    assert fields["issuing_place"].value == "Đà Nẵng"
    assert fields["document_number"].value == "125/2024"


def test_labelled_issue_place_wins_over_closing_line(make_page) -> None:
    text = "Ngày, tháng, năm cấp / Date of issue: 10/08/2021\nNơi cấp: Cục Cảnh sát quản lý hành chính"
    fields, _ = extract_fields([make_page(text)])
    assert fields["issue_date"].value == "2021-08-10"
    assert fields["issuing_place"].value == "Cục Cảnh sát quản lý hành chính"


def test_invalid_id_number_is_reported_not_extracted(make_page) -> None:
    fields, warnings = extract_fields([make_page("Số định danh cá nhân: 003090012345")])
    assert "so_dinh_danh" not in fields
    assert warnings == ["ID_NUMBER_INVALID"]


def test_birth_year_mismatch_is_flagged(make_page) -> None:
    text = "Số định danh cá nhân: 001091012345\nNgày sinh: 15/03/1990"
    fields, warnings = extract_fields([make_page(text)])
    assert "ID_BIRTH_YEAR_MISMATCH" in warnings
    assert fields["so_dinh_danh"].confidence < 0.5


def test_birth_year_may_match_any_person_in_the_document(make_page) -> None:
    text = (
        "Số định danh cá nhân: 001090012345\nNgày, tháng, năm sinh: 08/09/2024\n"
        "Năm sinh: 1992 Dân tộc: Kinh\nNăm sinh: 1990 Dân tộc: Kinh"
    )
    fields, warnings = extract_fields([make_page(text)])
    assert warnings == []
    assert fields["so_dinh_danh"].value == "001090012345"


def test_fields_keep_their_page_index(make_page) -> None:
    pages = [make_page("CĂN CƯỚC CÔNG DÂN", 0), make_page("Nơi cấp: Bộ Công an", 1)]
    fields, _ = extract_fields(pages)
    assert fields["issuing_place"].page == 1
