"""Realistic text of Vietnamese administrative documents, one template per component type.

Each function returns the lines of one page (``render.Line``); identifiers are valid 12-digit
số định danh whose province, century/sex and birth-year digits agree with the dates shown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bench.corpus.render import Line

MOTTO = [
    Line("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "center", bold=True),
    Line("Độc lập - Tự do - Hạnh phúc", "center", bold=True),
    Line(""),
]

FATHER = {"name": "Nguyễn Văn An", "id": "001090012345", "dob": "15/03/1990"}
MOTHER = {"name": "Trần Thị Bích Ngọc", "id": "001192004567", "dob": "02/11/1992"}
CHILD = {"name": "Nguyễn Minh Khang", "id": "001224000123", "dob": "08/09/2024"}


@dataclass(frozen=True)
class Cast:
    """The people, places and numbers a document mentions; ``variant`` picks among title wordings."""

    father: dict[str, str] = field(default_factory=lambda: dict(FATHER))
    mother: dict[str, str] = field(default_factory=lambda: dict(MOTHER))
    child: dict[str, str] = field(default_factory=lambda: dict(CHILD))
    ward: str = "Ba Đình"
    city: str = "Hà Nội"
    street: str = "Số 12 phố Kim Mã"
    origin: str = "xã Phù Đổng, huyện Gia Lâm"
    day: int = 20
    month: int = 9
    year: int = 2024
    number: int = 125
    variant: int = 0


DEFAULT = Cast()


def _pick(c: Cast, *options: str) -> str:
    return options[c.variant % len(options)]


def application_form(c: Cast = DEFAULT) -> list[Line]:
    return [
        *MOTTO,
        Line(
            _pick(c, "TỜ KHAI ĐĂNG KÝ KHAI SINH", "TỜ KHAI ĐĂNG KÝ KHAI SINH LẠI", "ĐƠN ĐỀ NGHỊ ĐĂNG KÝ KHAI SINH"),
            "center",
            bold=True,
            scale=1.15,
        ),
        Line(f"Kính gửi: Ủy ban nhân dân phường {c.ward}, thành phố {c.city}", "center"),
        Line(""),
        Line(f"Họ, chữ đệm, tên người yêu cầu: {c.father['name']}"),
        Line(f"Số định danh cá nhân: {c.father['id']}"),
        Line(f"Nơi cư trú: {c.street}, phường {c.ward}, thành phố {c.city}"),
        Line("Quan hệ với người được đăng ký khai sinh: Cha"),
        Line("Đề nghị cơ quan đăng ký khai sinh cho người dưới đây:"),
        Line(f"Họ, chữ đệm, tên: {c.child['name'].upper()}"),
        Line(f"Ngày, tháng, năm sinh: {c.child['dob']}"),
        Line("Giới tính: Nam      Dân tộc: Kinh      Quốc tịch: Việt Nam"),
        Line(f"Nơi sinh: Bệnh viện Phụ sản {c.city}, quận {c.ward}, thành phố {c.city}"),
        Line(f"Quê quán: {c.origin}, thành phố {c.city}"),
        Line(f"Họ, chữ đệm, tên người mẹ: {c.mother['name']}"),
        Line(f"Năm sinh: {c.mother['dob'][-4:]}      Dân tộc: Kinh      Quốc tịch: Việt Nam"),
        Line(f"Họ, chữ đệm, tên người cha: {c.father['name']}"),
        Line(f"Năm sinh: {c.father['dob'][-4:]}      Dân tộc: Kinh      Quốc tịch: Việt Nam"),
        Line("Tôi cam đoan nội dung đề nghị đăng ký khai sinh trên đây là đúng sự thật."),
        Line(""),
        Line(f"{c.city}, ngày {c.day} tháng {c.month} năm {c.year}", "right"),
        Line("Người yêu cầu", "right", bold=True),
        Line(c.father["name"], "right"),
    ]


def citizen_id_front(c: Cast = DEFAULT) -> list[Line]:
    return [
        Line("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "center", bold=True),
        Line("Độc lập - Tự do - Hạnh phúc", "center", bold=True),
        Line("CĂN CƯỚC CÔNG DÂN", "center", bold=True, scale=1.3),
        Line(f"Số / No.: {c.father['id']}", bold=True),
        Line(f"Họ và tên / Full name: {c.father['name'].upper()}"),
        Line(f"Ngày sinh / Date of birth: {c.father['dob']}"),
        Line("Giới tính / Sex: Nam    Quốc tịch / Nationality: Việt Nam"),
        Line(f"Quê quán / Place of origin: {c.origin}, {c.city}"),
        Line(f"Nơi thường trú / Place of residence: {c.street}, {c.ward}, {c.city}"),
        Line("Có giá trị đến / Date of expiry: 15/03/2030"),
    ]


def citizen_id_back(c: Cast = DEFAULT) -> list[Line]:
    return [
        Line("Đặc điểm nhân dạng / Personal identification:"),
        Line("Nốt ruồi cách 2 cm trên đuôi mắt trái"),
        Line("Ngày, tháng, năm cấp / Date of issue: 10/08/2021"),
        Line("Nơi cấp: Cục Cảnh sát quản lý hành chính về trật tự xã hội"),
        Line("CỤC TRƯỞNG CỤC CẢNH SÁT", "center", bold=True),
        Line("QUẢN LÝ HÀNH CHÍNH VỀ TRẬT TỰ XÃ HỘI", "center", bold=True),
        Line("Ngón trỏ trái          Ngón trỏ phải"),
    ]


def birth_certificate(c: Cast = DEFAULT) -> list[Line]:
    return [
        Line(f"ỦY BAN NHÂN DÂN PHƯỜNG {c.ward.upper()}"),
        *MOTTO,
        Line(_pick(c, "GIẤY KHAI SINH", "GIẤY KHAI SINH", "TRÍCH LỤC KHAI SINH"), "center", bold=True, scale=1.3),
        Line(f"Số: {c.number}/{c.year}", "center"),
        Line(""),
        Line(f"Họ, chữ đệm, tên: {c.child['name'].upper()}"),
        Line(f"Ngày, tháng, năm sinh: {c.child['dob']}    Ghi bằng chữ: Ngày tám, tháng chín, năm hai nghìn"),
        Line("không trăm hai mươi bốn"),
        Line("Giới tính: Nam      Dân tộc: Kinh      Quốc tịch: Việt Nam"),
        Line(f"Nơi sinh: Bệnh viện Phụ sản {c.city}, quận {c.ward}, thành phố {c.city}"),
        Line(f"Quê quán: {c.origin}, thành phố {c.city}"),
        Line(f"Số định danh cá nhân: {c.child['id']}"),
        Line(f"Họ, chữ đệm, tên người mẹ: {c.mother['name']}"),
        Line(f"Năm sinh: {c.mother['dob'][-4:]}      Dân tộc: Kinh      Quốc tịch: Việt Nam"),
        Line(f"Nơi cư trú: {c.street}, phường {c.ward}, thành phố {c.city}"),
        Line(f"Họ, chữ đệm, tên người cha: {c.father['name']}"),
        Line(f"Năm sinh: {c.father['dob'][-4:]}      Dân tộc: Kinh      Quốc tịch: Việt Nam"),
        Line(f"Nơi cư trú: {c.street}, phường {c.ward}, thành phố {c.city}"),
        Line(f"Nơi đăng ký khai sinh: Ủy ban nhân dân phường {c.ward}, thành phố {c.city}"),
        Line(f"Ngày, tháng, năm đăng ký: {c.day:02d}/{c.month:02d}/{c.year}"),
        Line(""),
        Line(f"{c.city}, ngày {c.day} tháng {c.month} năm {c.year}", "right"),
        Line("TM. ỦY BAN NHÂN DÂN", "right", bold=True),
        Line("CHỦ TỊCH", "right", bold=True),
    ]


def marriage_certificate(c: Cast = DEFAULT) -> list[Line]:
    return [
        Line(f"ỦY BAN NHÂN DÂN PHƯỜNG {c.ward.upper()}"),
        *MOTTO,
        Line(
            _pick(c, "GIẤY CHỨNG NHẬN KẾT HÔN", "GIẤY CHỨNG NHẬN KẾT HÔN", "TRÍCH LỤC KẾT HÔN"),
            "center",
            bold=True,
            scale=1.3,
        ),
        Line(f"Số: {c.number % 97 + 3}/{c.year - 5}", "center"),
        Line(f"Họ, chữ đệm, tên người chồng: {c.father['name']}"),
        Line(f"Ngày, tháng, năm sinh: {c.father['dob']}"),
        Line(f"Số định danh cá nhân: {c.father['id']}"),
        Line(f"Họ, chữ đệm, tên người vợ: {c.mother['name']}"),
        Line(f"Ngày, tháng, năm sinh: {c.mother['dob']}"),
        Line(f"Số định danh cá nhân: {c.mother['id']}"),
        Line(f"Đăng ký kết hôn ngày {c.day} tháng {c.month} năm {c.year - 5}"),
        Line(f"Vợ chồng ký tên. {c.city}, ngày {c.day} tháng {c.month} năm {c.year - 5}", "right"),
    ]


def land_use_certificate(c: Cast = DEFAULT) -> list[Line]:
    return [
        *MOTTO,
        Line("GIẤY CHỨNG NHẬN", "center", bold=True, scale=1.3),
        Line("QUYỀN SỬ DỤNG ĐẤT", "center", bold=True),
        Line("QUYỀN SỞ HỮU NHÀ Ở VÀ TÀI SẢN KHÁC GẮN LIỀN VỚI ĐẤT", "center", bold=True),
        Line("I. Người sử dụng đất, chủ sở hữu nhà ở và tài sản khác gắn liền với đất"),
        Line(f"Ông: {c.father['name']}, năm sinh {c.father['dob'][-4:]}, số định danh {c.father['id']}"),
        Line("II. Thửa đất, nhà ở và tài sản khác gắn liền với đất"),
        Line("Thửa đất số: 215     Tờ bản đồ số: 12     Diện tích: 84,5 m²"),
        Line("Mục đích sử dụng: Đất ở tại đô thị     Thời hạn sử dụng: Lâu dài"),
        Line("Số vào sổ cấp GCN: CS 04512"),
        Line(f"{c.city}, ngày {c.day:02d} tháng {c.month} năm {c.year - 4}", "right"),
    ]


def power_of_attorney(c: Cast = DEFAULT) -> list[Line]:
    return [
        *MOTTO,
        Line(_pick(c, "GIẤY ỦY QUYỀN", "GIẤY ỦY QUYỀN", "HỢP ĐỒNG ỦY QUYỀN"), "center", bold=True, scale=1.3),
        Line("Bên ủy quyền:"),
        Line(f"Họ và tên: {c.mother['name']}     Ngày sinh: {c.mother['dob']}"),
        Line(f"Số định danh cá nhân: {c.mother['id']}"),
        Line("Bên được ủy quyền:"),
        Line(f"Họ và tên: {c.father['name']}     Ngày sinh: {c.father['dob']}"),
        Line("Nội dung ủy quyền: thay mặt bên ủy quyền nộp hồ sơ và nhận kết quả đăng ký khai sinh."),
        Line("Thời hạn ủy quyền: từ ngày ký đến khi hoàn thành công việc được ủy quyền."),
        Line(f"{c.city}, ngày {c.day} tháng {c.month} năm {c.year}", "right"),
    ]


def diploma(c: Cast = DEFAULT) -> list[Line]:
    return [
        *MOTTO,
        Line(
            _pick(c, "BẰNG TỐT NGHIỆP ĐẠI HỌC", "BẰNG TỐT NGHIỆP TRUNG HỌC PHỔ THÔNG", "BẰNG CỬ NHÂN"),
            "center",
            bold=True,
            scale=1.3,
        ),
        Line("HIỆU TRƯỞNG TRƯỜNG ĐẠI HỌC BÁCH KHOA HÀ NỘI", "center"),
        Line("cấp bằng tốt nghiệp đại học ngành Kỹ thuật phần mềm cho:"),
        Line(f"Ông: {c.father['name']}"),
        Line(f"Ngày sinh: {c.father['dob']}"),
        Line("Xếp loại tốt nghiệp: Giỏi"),
        Line(f"{c.city}, ngày {c.day} tháng {c.month} năm {c.year - 12}", "right"),
        Line("Số hiệu: BK 0012345     Số vào sổ cấp bằng: 2012/ĐH-1234"),
    ]


def contract(c: Cast = DEFAULT) -> list[Line]:
    return [
        *MOTTO,
        Line(
            _pick(c, "HỢP ĐỒNG THUÊ NHÀ Ở", "HỢP ĐỒNG MUA BÁN NHÀ Ở", "HỢP ĐỒNG LAO ĐỘNG"),
            "center",
            bold=True,
            scale=1.3,
        ),
        Line(f"Số: {c.number % 50 + 1}/{c.year}/HĐTN", "center"),
        Line(f"Hôm nay, ngày {c.day:02d} tháng {c.month} năm {c.year}, tại {c.city}, chúng tôi gồm:"),
        Line(f"BÊN CHO THUÊ (Bên A): Ông {c.father['name']}"),
        Line("BÊN THUÊ (Bên B): Bà Lê Thị Hoa"),
        Line("Hai bên thỏa thuận ký kết hợp đồng với các điều khoản sau:"),
        Line(f"Điều 1. Đối tượng của hợp đồng: căn hộ {c.street.lower()}, phường {c.ward}."),
        Line("Điều 2. Giá thuê: 8.000.000 đồng mỗi tháng."),
        Line("ĐẠI DIỆN BÊN A          ĐẠI DIỆN BÊN B", "center", bold=True),
    ]


def residence_confirmation(c: Cast = DEFAULT) -> list[Line]:
    return [
        Line(f"CÔNG AN PHƯỜNG {c.ward.upper()}"),
        *MOTTO,
        Line(
            _pick(c, "XÁC NHẬN THÔNG TIN VỀ CƯ TRÚ", "XÁC NHẬN THÔNG TIN VỀ CƯ TRÚ", "GIẤY XÁC NHẬN CƯ TRÚ"),
            "center",
            bold=True,
            scale=1.2,
        ),
        Line(f"Công an phường {c.ward} xác nhận thông tin về cư trú của công dân như sau:"),
        Line(f"Họ, chữ đệm và tên: {c.father['name'].upper()}"),
        Line(f"Ngày, tháng, năm sinh: {c.father['dob']}"),
        Line(f"Số định danh cá nhân: {c.father['id']}"),
        Line(f"Nơi thường trú: {c.street}, phường {c.ward}, thành phố {c.city}"),
        Line("Thông tin về chủ hộ và các thành viên trong hộ gia đình: 3 người"),
        Line(f"{c.city}, ngày {c.day} tháng {c.month} năm {c.year}", "right"),
    ]


def other(c: Cast = DEFAULT) -> list[Line]:
    return [
        Line(
            _pick(c, "BIÊN LAI THU TIỀN PHÍ, LỆ PHÍ", "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", "PHIẾU THU"),
            "center",
            bold=True,
            scale=1.2,
        ),
        Line(f"Đơn vị thu: Ủy ban nhân dân phường {c.ward}"),
        Line(f"Người nộp: {c.father['name']}"),
        Line("Số tiền: 8.000 đồng. Viết bằng chữ: Tám nghìn đồng."),
        Line("Hình thức thanh toán: Tiền mặt"),
    ]


TEMPLATES: dict[str, Callable[[], list[Line]]] = {
    "application_form": application_form,
    "citizen_id_card": citizen_id_front,
    "birth_certificate": birth_certificate,
    "marriage_certificate": marriage_certificate,
    "land_use_certificate": land_use_certificate,
    "power_of_attorney": power_of_attorney,
    "diploma": diploma,
    "contract": contract,
    "residence_confirmation": residence_confirmation,
    "other": other,
}


def plain_text(lines: list[Line]) -> str:
    return "\n".join(line.text for line in lines if line.text.strip())
