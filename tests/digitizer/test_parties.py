"""Every party of a document with its role, on OCR-like words: two columns on one OCR line or cut into
blocks, a table with one label column, sequential sections, noisy labels, numbers on the next line."""

from __future__ import annotations

from collections.abc import Sequence

from digitizer.model import Page, Party, Word
from digitizer.parties import extract_parties, party_warnings

HUSBAND = ("NGUYỄN VĂN AN", "001090012345", "15/03/1990")
WIFE = ("TRẦN THỊ BÍCH NGỌC", "001192004567", "02/11/1992")
CHAR, SPACE, HEIGHT, PITCH = 12, 12, 30, 46

Cell = tuple[int, str]  # (left x, text)


def page(rows: Sequence[Sequence[Cell]], *, split_columns_at: int | None = None) -> Page:
    """Words laid out as printed: each row's cells at their x, 12 px a character. By default a row is one
    OCR line (Tesseract runs both columns together); with ``split_columns_at`` the cells right of that x
    are their own lines, listed after every line of the left column (Tesseract's column blocks)."""
    left: list[Word] = []
    right: list[Word] = []
    for r, cells in enumerate(rows):
        y = 100 + PITCH * r
        for x0, text in cells:
            x = x0
            target = right if split_columns_at is not None and x0 >= split_columns_at else left
            line = r + (1000 if target is right else 0)
            for token in text.split():
                target.append(Word(token, (x, y, CHAR * len(token), HEIGHT), 0.93, line))
                x += CHAR * len(token) + SPACE
    return Page(index=0, width_px=1654, height_px=2339, dpi=200.0, text="", confidence=0.93, words=left + right)


def summary(parties: Sequence[Party]) -> list[tuple[str, str | None, str | None, str | None]]:
    def value(p: Party, name: str) -> str | None:
        found = p.fields.get(name)
        return found.value if found is not None else None

    return [(p.role, value(p, "full_name"), p.id_number, value(p, "date_of_birth")) for p in parties]


def marriage_rows(id_label: str = "Số định danh cá nhân:") -> list[list[Cell]]:
    (hn, hid, hdob), (wn, wid, wdob) = HUSBAND, WIFE
    return [
        [(600, "GIẤY CHỨNG NHẬN KẾT HÔN")],
        [(140, "THÔNG TIN NGƯỜI CHỒNG"), (850, "THÔNG TIN NGƯỜI VỢ")],
        [(140, "Họ, chữ đệm, tên:"), (850, "Họ, chữ đệm, tên:")],
        [(140, hn), (850, wn)],
        [(140, f"Ngày, tháng, năm sinh: {hdob}"), (850, f"Ngày, tháng, năm sinh: {wdob}")],
        [(140, "Dân tộc: Kinh"), (850, "Dân tộc: Kinh")],
        # The husband's address runs up to the wife's column with one space between them.
        [(140, "Số 12 phố Kim Mã, phường Ba Đình, Hà Nội"), (850, "Số 3 phố Đội Cấn, Hà Nội")],
        [(140, id_label), (850, id_label)],
        [(140, hid), (850, wid)],
        [(140, "Đăng ký kết hôn tại Ủy ban nhân dân phường Ba Đình, thành phố Hà Nội ngày 20/9/2019")],
        [(140, "Người ký: Họ và tên: Lê Văn Cán bộ")],
    ]


EXPECTED = [("husband", HUSBAND[0], HUSBAND[1], "1990-03-15"), ("wife", WIFE[0], WIFE[1], "1992-11-02")]


def test_marriage_certificate_two_columns_on_one_ocr_line() -> None:
    parties = extract_parties([page(marriage_rows())], "marriage_certificate")
    assert summary(parties) == EXPECTED
    wife = parties[1]
    assert wife.page == 0 and wife.box is not None and wife.box[0] >= 850  # her own column's boxes
    assert parties[0].box is not None and parties[0].box[0] + parties[0].box[2] < 850


def test_marriage_certificate_columns_read_as_separate_blocks() -> None:
    parties = extract_parties([page(marriage_rows(), split_columns_at=800)], "marriage_certificate")
    assert summary(parties) == EXPECTED


def test_marriage_certificate_labels_without_diacritics_and_other_id_wordings() -> None:
    rows = marriage_rows("So CCCD:")
    rows[1] = [(140, "Chong"), (850, "Vo")]
    rows[2] = [(140, "Ho, chu dem, ten:"), (850, "Ho, chu dem, ten:")]
    rows[4] = [(140, f"Ngay, thang, nam sinh: {HUSBAND[2]}"), (850, f"Ngay, thang, nam sinh: {WIFE[2]}")]
    assert summary(extract_parties([page(rows)])) == EXPECTED


def test_table_with_one_label_column_and_centred_headings() -> None:
    (hn, hid, hdob), (wn, wid, wdob) = HUSBAND, WIFE
    rows = [
        [(600, "TRÍCH LỤC KẾT HÔN")],
        [(790, "Chồng"), (1250, "Vợ")],  # centred over value columns starting at 650 and 1110
        [(150, "Họ, chữ đệm, tên"), (650, hn.title()), (1110, wn.title())],
        [(150, "Ngày sinh"), (650, hdob), (1110, wdob)],
        [(150, "Quốc tịch"), (650, "Việt Nam"), (1110, "Việt Nam")],
        [(150, "Số định danh cá nhân"), (650, hid), (1110, wid)],
    ]
    assert summary(extract_parties([page(rows)])) == [
        ("husband", hn.title(), hid, "1990-03-15"),
        ("wife", wn.title(), wid, "1992-11-02"),
    ]


def test_power_of_attorney_in_sections_with_the_number_on_the_next_line() -> None:
    rows = [
        [(500, "GIẤY ỦY QUYỀN")],
        [(140, "I. BÊN ỦY QUYỀN (Bên A):")],
        [(140, "Họ và tên: Trần Thị Bích Ngọc"), (640, "Ngày sinh: 02/11/1992")],
        [(140, "Số giấy tờ tùy thân: 001192004567")],
        [(140, "II. Ben duoc uy quyen:")],
        [(140, "Ho va ten: Nguyen Van An")],
        [(140, "So dinh danh ca nhan:")],
        [(140, "001090012345")],
        [(140, "Bên ủy quyền giao cho bên được ủy quyền thay mặt nộp hồ sơ, Bên A chịu trách nhiệm.")],
    ]
    assert summary(extract_parties([page(rows)])) == [
        ("principal", "Trần Thị Bích Ngọc", "001192004567", "1992-11-02"),
        ("agent", "Nguyen Van An", "001090012345", None),
    ]


def test_contract_side_of_two_people_and_an_account_number_that_is_not_an_id() -> None:
    rows = [
        [(400, "HỢP ĐỒNG MUA BÁN NHÀ Ở")],
        [(140, "BÊN A (Bên bán):")],
        [(140, "Ông: Nguyễn Văn An"), (600, "Sinh năm: 1990")],
        [(140, "CCCD số: 001 090 012345 cấp ngày 10/08/2021 tại Cục Cảnh sát QLHC về TTXH")],
        [(140, "Bà: Trần Thị Bích Ngọc"), (600, "Sinh năm: 1992")],
        [(140, "Căn cước công dân số: 0011920O4567")],  # an O read for a 0
        [(140, "Số tài khoản: 079188001234 tại Ngân hàng Nông nghiệp")],
        [(140, "BÊN B (Bên mua):")],
        [(140, "Ông/Bà: Lê Minh Khang"), (600, "Sinh ngày: 08/09/1988")],
        [(140, "Số CCCD: 079088000123")],
        [(140, "Điều 1. Bên A đồng ý bán cho Bên B căn nhà tại số 12 phố Kim Mã.")],
    ]
    parties = extract_parties([page(rows)], "contract")
    assert [(p.role, p.id_number) for p in parties] == [
        ("seller", "001090012345"),
        ("seller", "001192004567"),
        ("buyer", "079088000123"),
    ]
    assert parties[0].fields["birth_year"].value == "1990"
    assert parties[2].fields["full_name"].value == "Lê Minh Khang"


def test_birth_certificate_child_mother_and_father() -> None:
    rows = [
        [(600, "GIẤY KHAI SINH")],
        [(140, "Họ, chữ đệm, tên: NGUYỄN MINH KHANG")],
        [(140, "Ngày, tháng, năm sinh: 08/09/2024"), (700, "Giới tính: Nam")],
        [(140, "Số định danh cá nhân: 001224000123")],
        [(140, "Họ, chữ đệm, tên người mẹ: Trần Thị Bích Ngọc")],
        [(140, "Năm sinh: 1992"), (600, "Dân tộc: Kinh")],
        [(140, "Số định danh cá nhân: 001192004567")],
        [(140, "Họ, chữ đệm, tên người cha: Nguyễn Văn An")],
        [(140, "Năm sinh: 1990"), (600, "Dân tộc: Kinh")],
        [(140, "Số định danh cá nhân: 001090012345")],
    ]
    parties = extract_parties([page(rows)], "birth_certificate")
    assert [(p.role, p.id_number) for p in parties] == [
        ("child", "001224000123"),
        ("mother", "001192004567"),
        ("father", "001090012345"),
    ]
    assert parties[1].fields["full_name"].value == "Trần Thị Bích Ngọc"
    assert party_warnings(parties) == []


def test_parties_span_pages() -> None:
    first = page([[(140, "BÊN A:")], [(140, "Họ và tên: Nguyễn Văn An")], [(140, "Số CCCD: 001090012345")]])
    second = page([[(140, "BÊN B:")], [(140, "Họ và tên: Lê Minh Khang")], [(140, "Số CCCD: 079088000123")]])
    second.index = 1
    parties = extract_parties([first, second])
    assert [(p.role, p.id_number, p.page) for p in parties] == [
        ("party_a", "001090012345", 0),
        ("party_b", "079088000123", 1),
    ]


def test_a_party_number_that_does_not_decode_or_disagrees_with_the_birth_year_is_flagged() -> None:
    rows = [
        [(140, "Bên ủy quyền:")],
        [(140, "Họ và tên: Nguyễn Văn An"), (600, "Ngày sinh: 15/03/1990")],
        [(140, "Số định danh cá nhân: 003090012345")],  # no province 003
        [(140, "Bên được ủy quyền:")],
        [(140, "Họ và tên: Lê Minh Khang"), (600, "Ngày sinh: 08/09/1988")],
        [(140, "Số định danh cá nhân: 079090000123")],  # says born in 1990
    ]
    principal, agent = extract_parties([page(rows)])
    assert principal.id_number is None and principal.warnings == ["ID_NUMBER_INVALID"]
    assert agent.id_number == "079090000123" and agent.warnings == ["ID_BIRTH_YEAR_MISMATCH"]
    assert agent.fields["so_dinh_danh"].confidence < 0.5
    assert party_warnings([principal, agent]) == ["ID_NUMBER_INVALID", "ID_BIRTH_YEAR_MISMATCH"]


def test_role_words_in_prose_open_no_party() -> None:
    rows = [
        [(140, "Vợ chồng ký tên dưới đây. Bên A cam kết với Bên B; cha mẹ đồng ý.")],
        [(140, "Họ và tên: Nguyễn Văn An")],
        [(140, "Số định danh cá nhân: 001090012345")],
    ]
    assert summary(extract_parties([page(rows)])) == [("person", "Nguyễn Văn An", "001090012345", None)]


def test_to_dict_carries_every_party_field() -> None:
    (party,) = extract_parties([page([[(140, "Chồng: Nguyễn Văn An")], [(140, "Số CCCD: 001090012345")]])])
    data = party.to_dict()
    assert data["role"] == "husband"
    assert data["full_name"]["value"] == "Nguyễn Văn An" and data["so_dinh_danh"]["value"] == "001090012345"
    assert data["date_of_birth"] is None and data["page"] == 0 and len(data["box"]) == 4


def test_parties_written_as_one_line_each() -> None:
    rows = [
        [(140, "Bên A: Ông Nguyễn Văn An, sinh năm 1990, CCCD số 001090012345, cư trú tại số 12 phố Kim Mã.")],
        [(140, "Bên B: Bà Trần Thị Bích Ngọc, sinh ngày 02/11/1992, số định danh cá nhân 001192004567.")],
        [(140, "Người được ủy quyền: Bà Ngô Thị Mai")],
        [(140, "Số CCCD: 079188001234")],
    ]
    parties = extract_parties([page(rows)])
    assert summary(parties) == [
        ("party_a", "Nguyễn Văn An", "001090012345", None),
        ("party_b", "Trần Thị Bích Ngọc", "001192004567", "1992-11-02"),
        ("agent", "Ngô Thị Mai", "079188001234", None),
    ]
    assert parties[0].fields["birth_year"].value == "1990"


def test_a_heading_ocr_garbled_loses_the_role_not_the_number() -> None:
    rows = [
        [(140, "Họ, chữ đệm, tên người chồng: Nguyễn Văn An")],
        [(140, "Số định danh cá nhân: 001090012345")],
        [(140, "Họ, chữ đệm, tên ngưòi vọ: Trần Thị Bích Ngọc")],  # "người vợ" misread: no role phrase
        [(140, "Số định danb cá nhân: 001192004567")],  # nor an ID label
        [(140, "Vợ chồng cùng ký tên; chồng: số 001090012345 đã ghi ở trên.")],  # a number said again
    ]
    assert [(p.role, p.id_number) for p in extract_parties([page(rows)])] == [
        ("husband", "001090012345"),
        ("wife", "001192004567"),  # the other half of the pair
    ]


def test_table_rules_read_as_bars_separate_cells() -> None:
    rows = [
        [(650, "| Bên A"), (1110, "| Bên B |")],
        [(150, "| Họ và tên | Nguyễn Văn An"), (1110, "| Lê Minh Khang |")],
        [(150, "| Số CCCD | 001090012345"), (1110, "| 079088000123 |")],
        [(150, "| Số CMND cũ | 012345678"), (1110, "| 123456789 |")],  # nine digits: an old card, not invalid
    ]
    parties = extract_parties([page(rows)])
    assert [(p.role, p.id_number) for p in parties] == [("party_a", "001090012345"), ("party_b", "079088000123")]
    assert party_warnings(parties) == []


def test_a_role_given_after_the_person_and_a_deposit_contract() -> None:
    rows = [
        [(140, "Tôi là: Nguyễn Văn An, sinh ngày 15/03/1990, số CCCD 001090012345,")],
        [(140, "cư trú tại phường Kim Mã (sau đây gọi là bên ủy quyền).")],
        [(140, "BÊN NHẬN ĐẶT CỌC (Bên B):")],
        [(140, "Họ và tên: Lê Minh Khang"), (600, "Số định danh cá nhân: 079088000123")],
    ]
    assert summary(extract_parties([page(rows)])) == [
        ("principal", "Nguyễn Văn An", "001090012345", "1990-03-15"),
        ("deposit_holder", "Lê Minh Khang", "079088000123", None),
    ]


def test_a_side_named_in_parenthesis_inside_prose_opens_nobody() -> None:
    rows = [
        [(140, "BÊN ỦY QUYỀN (Bên A):")],
        [(140, "Họ và tên: Nguyễn Văn An, là người giao việc cho bên kia (Bên B) theo giấy này;")],
        [(140, "Số CCCD: 001090012345")],
        [(140, "Bên được ủy quyền:")],
        [(140, "Họ và tên: Lê Minh Khang"), (600, "Số CCCD: 079088000123")],
    ]
    assert [(p.role, p.id_number) for p in extract_parties([page(rows)])] == [
        ("principal", "001090012345"),
        ("agent", "079088000123"),
    ]


def test_a_number_printed_one_digit_a_box() -> None:
    boxed = lambda x, number: [(x + 40 * k, digit) for k, digit in enumerate(number)]  # noqa: E731
    rows = [
        [(140, "Bên ủy quyền:")],
        [(140, "Họ và tên: Nguyễn Văn An")],
        [(140, "Số định danh cá nhân:"), *boxed(600, "001090012345")],
        [(140, "Bên được ủy quyền:")],
        [(140, "Họ và tên: Lê Minh Khang")],
        [(140, "Số định danh cá nhân:")],
        boxed(140, "079088000123"),
    ]
    assert [(p.role, p.id_number) for p in extract_parties([page(rows)])] == [
        ("principal", "001090012345"),
        ("agent", "079088000123"),
    ]
