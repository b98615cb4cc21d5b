"""Số định danh cá nhân (12 digits): province of birth registration, century and sex, birth year.

Layout (Nghị định 137/2015, Thông tư 59/2021/TT-BCA): digits 1–3 the province or country code of
birth registration, digit 4 century and sex (0/1: 1900s male/female, 2/3: 2000s, 4/5: 2100s, ...),
digits 5–6 the last two digits of the birth year, digits 7–12 random.
"""

from __future__ import annotations

from dataclasses import dataclass

from sohoa.identifiers import OWNER_ID

PROVINCE_CODES: dict[str, str] = {
    "001": "Hà Nội",
    "002": "Hà Giang",
    "004": "Cao Bằng",
    "006": "Bắc Kạn",
    "008": "Tuyên Quang",
    "010": "Lào Cai",
    "011": "Điện Biên",
    "012": "Lai Châu",
    "014": "Sơn La",
    "015": "Yên Bái",
    "017": "Hòa Bình",
    "019": "Thái Nguyên",
    "020": "Lạng Sơn",
    "022": "Quảng Ninh",
    "024": "Bắc Giang",
    "025": "Phú Thọ",
    "026": "Vĩnh Phúc",
    "027": "Bắc Ninh",
    "030": "Hải Dương",
    "031": "Hải Phòng",
    "033": "Hưng Yên",
    "034": "Thái Bình",
    "035": "Hà Nam",
    "036": "Nam Định",
    "037": "Ninh Bình",
    "038": "Thanh Hóa",
    "040": "Nghệ An",
    "042": "Hà Tĩnh",
    "044": "Quảng Bình",
    "045": "Quảng Trị",
    "046": "Thừa Thiên Huế",
    "048": "Đà Nẵng",
    "049": "Quảng Nam",
    "051": "Quảng Ngãi",
    "052": "Bình Định",
    "054": "Phú Yên",
    "056": "Khánh Hòa",
    "058": "Ninh Thuận",
    "060": "Bình Thuận",
    "062": "Kon Tum",
    "064": "Gia Lai",
    "066": "Đắk Lắk",
    "067": "Đắk Nông",
    "068": "Lâm Đồng",
    "070": "Bình Phước",
    "072": "Tây Ninh",
    "074": "Bình Dương",
    "075": "Đồng Nai",
    "077": "Bà Rịa - Vũng Tàu",
    "079": "Hồ Chí Minh",
    "080": "Long An",
    "082": "Tiền Giang",
    "083": "Bến Tre",
    "084": "Trà Vinh",
    "086": "Vĩnh Long",
    "087": "Đồng Tháp",
    "089": "An Giang",
    "091": "Kiên Giang",
    "092": "Cần Thơ",
    "093": "Hậu Giang",
    "094": "Sóc Trăng",
    "095": "Bạc Liêu",
    "096": "Cà Mau",
}


@dataclass(frozen=True)
class CitizenId:
    number: str
    province: str
    century_start: int
    sex: str
    birth_year: int


def parse_citizen_id(number: str) -> CitizenId | None:
    """Decode a số định danh; None when it is not 12 digits or its province code is unknown."""
    if not OWNER_ID.fullmatch(number):  # ASCII digits only, no trailing newline
        return None
    province = PROVINCE_CODES.get(number[:3])
    if province is None:
        return None
    gender_century = int(number[3])
    century_start = 1900 + 100 * (gender_century // 2)
    sex = "female" if gender_century % 2 else "male"
    return CitizenId(number, province, century_start, sex, century_start + int(number[4:6]))


def is_valid_citizen_id(number: str, *, birth_year: int | None = None) -> bool:
    """True when the number decodes and, if ``birth_year`` is given, its century and year agree."""
    parsed = parse_citizen_id(number)
    if parsed is None:
        return False
    return birth_year is None or parsed.birth_year == birth_year
