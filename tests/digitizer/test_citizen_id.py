from __future__ import annotations

import pytest

from digitizer.citizen_id import PROVINCE_CODES, is_valid_citizen_id, parse_citizen_id


def test_province_table_has_the_63_provinces() -> None:
    assert len(PROVINCE_CODES) == 63
    assert PROVINCE_CODES["001"] == "Hà Nội"
    assert PROVINCE_CODES["079"] == "Hồ Chí Minh"
    assert PROVINCE_CODES["096"] == "Cà Mau"
    assert "003" not in PROVINCE_CODES


@pytest.mark.parametrize(
    ("number", "province", "sex", "year"),
    [
        ("001090012345", "Hà Nội", "male", 1990),
        ("079192004567", "Hồ Chí Minh", "female", 1992),
        ("001224000123", "Hà Nội", "male", 2024),
        ("048305000001", "Đà Nẵng", "female", 2005),
        ("096400000001", "Cà Mau", "male", 2100),
    ],
)
def test_decodes_province_century_sex_and_year(number: str, province: str, sex: str, year: int) -> None:
    parsed = parse_citizen_id(number)
    assert parsed is not None
    assert (parsed.province, parsed.sex, parsed.birth_year) == (province, sex, year)


@pytest.mark.parametrize(
    "number",
    [
        "00109001234",
        "0010900123456",
        "00109001234A",
        "003090012345",
        "099090012345",
        "000090012345",
        "",
        "001090012345\n",  # a trailing newline, which ``$`` would let through
        "00109001234\u0665",  # an Arabic-Indic five, a digit to ``\\d`` but not to the catalogue
    ],
)
def test_rejects_bad_length_characters_and_unknown_provinces(number: str) -> None:
    assert parse_citizen_id(number) is None
    assert not is_valid_citizen_id(number)


def test_birth_year_must_agree_with_century_and_year_digits() -> None:
    assert is_valid_citizen_id("001090012345", birth_year=1990)
    assert not is_valid_citizen_id("001090012345", birth_year=1991)
    # Same two-digit year, wrong century digit: 2 means born in the 2000s.
    assert not is_valid_citizen_id("001290012345", birth_year=1990)
    assert is_valid_citizen_id("001290012345", birth_year=2090)
