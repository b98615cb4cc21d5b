"""Realistic text of Vietnamese administrative documents, one template per component type.

Each function returns the lines of one page (``render.Line``); identifiers are valid 12-digit
số định danh whose province, century/sex and birth-year digits agree with the dates shown.
"""

from __future__ import annotations

from collections.abc import Callable

from bench.corpus.render import Line

MOTTO = [
    Line("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "center", bold=True),
    Line("Độc lập - Tự do - Hạnh phúc", "center", bold=True),
    Line(""),
]

FATHER = {"name": "Nguyễn Văn An", "id": "001090012345", "dob": "15/03/1990"}
MOTHER = {"name": "Trần Thị Bích Ngọc", "id": "001192004567", "dob": "02/11/1992"}
CHILD = {"name": "Nguyễn Minh Khang", "id": "001224000123", "dob": "08/09/2024"}


def application_form() -> list[Line]:
    return [
        *MOTTO,
        Line("TỜ KHAI ĐĂNG KÝ KHAI SINH", "center", bold=True, scale=1.15),
        Line("Kính gửi: Ủy ban nhân dân phường Ba Đình, thành phố Hà Nội", "center"),
        Line(""),
        Line(f"Họ, chữ đệm, tên người yêu cầu: {FATHER['name']}"),
        Line(f"Số định danh cá nhân: {FATHER['id']}"),
        Line("Nơi cư trú: Số 12 phố Kim Mã, phường Ba Đình, thành phố Hà Nội"),
        Line("Quan hệ với người được đăng ký khai sinh: Cha"),
        Line("Đề nghị cơ quan đăng ký khai sinh cho người dưới đây:"),
        Line(f"Họ, chữ đệm, tên: {CHILD['name'].upper()}"),
        Line(f"Ngày, tháng, năm sinh: {CHILD['dob']}"),
        Line("Giới tính: Nam      Dân tộc: Kinh      Quốc tịch: Việt Nam"),
        Line("Nơi sinh: Bệnh viện Phụ sản Hà Nội, quận Ba Đình, thành phố Hà Nội"),
        Line("Quê quán: xã Phù Đổng, huyện Gia Lâm, thành phố Hà Nội"),
        Line(f"Họ, chữ đệm, tên người mẹ: {MOTHER['name']}"),
        Line("Năm sinh: 1992      Dân tộc: Kinh      Quốc tịch: Việt Nam"),
        Line(f"Họ, chữ đệm, tên người cha: {FATHER['name']}"),
        Line("Năm sinh: 1990      Dân tộc: Kinh      Quốc tịch: Việt Nam"),
        Line("Tôi cam đoan nội dung đề nghị đăng ký khai sinh trên đây là đúng sự thật."),
        Line(""),
        Line("Hà Nội, ngày 20 tháng 9 năm 2024", "right"),
        Line("Người yêu cầu", "right", bold=True),
        Line(FATHER["name"], "right"),
    ]


def citizen_id_front() -> list[Line]:
    return [
        Line("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "center", bold=True),
        Line("Độc lập - Tự do - Hạnh phúc", "center", bold=True),
        Line("CĂN CƯỚC CÔNG DÂN", "center", bold=True, scale=1.3),
        Line(f"Số / No.: {FATHER['id']}", bold=True),
        Line(f"Họ và tên / Full name: {FATHER['name'].upper()}"),
        Line(f"Ngày sinh / Date of birth: {FATHER['dob']}"),
        Line("Giới tính / Sex: Nam    Quốc tịch / Nationality: Việt Nam"),
        Line("Quê quán / Place of origin: Phù Đổng, Gia Lâm, Hà Nội"),
        Line("Nơi thường trú / Place of residence: Số 12 Kim Mã, Ba Đình, Hà Nội"),
        Line("Có giá trị đến / Date of expiry: 15/03/2030"),
    ]


def citizen_id_back() -> list[Line]:
    return [
        Line("Đặc điểm nhân dạng / Personal identification:"),
        Line("Nốt ruồi cách 2 cm trên đuôi mắt trái"),
        Line("Ngày, tháng, năm cấp / Date of issue: 10/08/2021"),
        Line("Nơi cấp: Cục Cảnh sát quản lý hành chính về trật tự xã hội"),
        Line("CỤC TRƯỞNG CỤC CẢNH SÁT", "center", bold=True),
        Line("QUẢN LÝ HÀNH CHÍNH VỀ TRẬT TỰ XÃ HỘI", "center", bold=True),
        Line("Ngón trỏ trái          Ngón trỏ phải"),
    ]


def birth_certificate() -> list[Line]:
    return [
        Line("ỦY BAN NHÂN DÂN PHƯỜNG BA ĐÌNH"),
        *MOTTO,
        Line("GIẤY KHAI SINH", "center", bold=True, scale=1.3),
        Line("Số: 125/2024", "center"),
        Line(""),
        Line(f"Họ, chữ đệm, tên: {CHILD['name'].upper()}"),
        Line(f"Ngày, tháng, năm sinh: {CHILD['dob']}    Ghi bằng chữ: Ngày tám, tháng chín, năm hai nghìn"),
        Line("không trăm hai mươi bốn"),
        Line("Giới tính: Nam      Dân tộc: Kinh      Quốc tịch: Việt Nam"),
        Line("Nơi sinh: Bệnh viện Phụ sản Hà Nội, quận Ba Đình, thành phố Hà Nội"),
        Line("Quê quán: xã Phù Đổng, huyện Gia Lâm, thành phố Hà Nội"),
        Line(f"Số định danh cá nhân: {CHILD['id']}"),
        Line(f"Họ, chữ đệm, tên người mẹ: {MOTHER['name']}"),
        Line("Năm sinh: 1992      Dân tộc: Kinh      Quốc tịch: Việt Nam"),
        Line("Nơi cư trú: Số 12 phố Kim Mã, phường Ba Đình, thành phố Hà Nội"),
        Line(f"Họ, chữ đệm, tên người cha: {FATHER['name']}"),
        Line("Năm sinh: 1990      Dân tộc: Kinh      Quốc tịch: Việt Nam"),
        Line("Nơi cư trú: Số 12 phố Kim Mã, phường Ba Đình, thành phố Hà Nội"),
        Line("Nơi đăng ký khai sinh: Ủy ban nhân dân phường Ba Đình, thành phố Hà Nội"),
        Line("Ngày, tháng, năm đăng ký: 20/09/2024"),
        Line(""),
        Line("Hà Nội, ngày 20 tháng 9 năm 2024", "right"),
        Line("TM. ỦY BAN NHÂN DÂN", "right", bold=True),
        Line("CHỦ TỊCH", "right", bold=True),
    ]


def marriage_certificate() -> list[Line]:
    return [
        Line("ỦY BAN NHÂN DÂN PHƯỜNG BA ĐÌNH"),
        *MOTTO,
        Line("GIẤY CHỨNG NHẬN KẾT HÔN", "center", bold=True, scale=1.3),
        Line("Số: 46/2019", "center"),
        Line(f"Họ, chữ đệm, tên người chồng: {FATHER['name']}"),
        Line(f"Ngày, tháng, năm sinh: {FATHER['dob']}"),
        Line(f"Số định danh cá nhân: {FATHER['id']}"),
        Line(f"Họ, chữ đệm, tên người vợ: {MOTHER['name']}"),
        Line(f"Ngày, tháng, năm sinh: {MOTHER['dob']}"),
        Line(f"Số định danh cá nhân: {MOTHER['id']}"),
        Line("Đăng ký kết hôn ngày 14 tháng 2 năm 2019"),
        Line("Vợ chồng ký tên. Hà Nội, ngày 14 tháng 2 năm 2019", "right"),
    ]


def land_use_certificate() -> list[Line]:
    return [
        *MOTTO,
        Line("GIẤY CHỨNG NHẬN", "center", bold=True, scale=1.3),
        Line("QUYỀN SỬ DỤNG ĐẤT", "center", bold=True),
        Line("QUYỀN SỞ HỮU NHÀ Ở VÀ TÀI SẢN KHÁC GẮN LIỀN VỚI ĐẤT", "center", bold=True),
        Line("I. Người sử dụng đất, chủ sở hữu nhà ở và tài sản khác gắn liền với đất"),
        Line(f"Ông: {FATHER['name']}, năm sinh 1990, số định danh {FATHER['id']}"),
        Line("II. Thửa đất, nhà ở và tài sản khác gắn liền với đất"),
        Line("Thửa đất số: 215     Tờ bản đồ số: 12     Diện tích: 84,5 m²"),
        Line("Mục đích sử dụng: Đất ở tại đô thị     Thời hạn sử dụng: Lâu dài"),
        Line("Số vào sổ cấp GCN: CS 04512"),
        Line("Hà Nội, ngày 05 tháng 6 năm 2020", "right"),
    ]


def power_of_attorney() -> list[Line]:
    return [
        *MOTTO,
        Line("GIẤY ỦY QUYỀN", "center", bold=True, scale=1.3),
        Line("Bên ủy quyền:"),
        Line(f"Họ và tên: {MOTHER['name']}     Ngày sinh: {MOTHER['dob']}"),
        Line(f"Số định danh cá nhân: {MOTHER['id']}"),
        Line("Bên được ủy quyền:"),
        Line(f"Họ và tên: {FATHER['name']}     Ngày sinh: {FATHER['dob']}"),
        Line("Nội dung ủy quyền: thay mặt bên ủy quyền nộp hồ sơ và nhận kết quả đăng ký khai sinh."),
        Line("Thời hạn ủy quyền: từ ngày ký đến khi hoàn thành công việc được ủy quyền."),
        Line("Hà Nội, ngày 18 tháng 9 năm 2024", "right"),
    ]


def diploma() -> list[Line]:
    return [
        *MOTTO,
        Line("BẰNG TỐT NGHIỆP ĐẠI HỌC", "center", bold=True, scale=1.3),
        Line("HIỆU TRƯỞNG TRƯỜNG ĐẠI HỌC BÁCH KHOA HÀ NỘI", "center"),
        Line("cấp bằng tốt nghiệp đại học ngành Kỹ thuật phần mềm cho:"),
        Line(f"Ông: {FATHER['name']}"),
        Line(f"Ngày sinh: {FATHER['dob']}"),
        Line("Xếp loại tốt nghiệp: Giỏi"),
        Line("Hà Nội, ngày 30 tháng 6 năm 2012", "right"),
        Line("Số hiệu: BK 0012345     Số vào sổ cấp bằng: 2012/ĐH-1234"),
    ]


def contract() -> list[Line]:
    return [
        *MOTTO,
        Line("HỢP ĐỒNG THUÊ NHÀ Ở", "center", bold=True, scale=1.3),
        Line("Số: 12/2024/HĐTN", "center"),
        Line("Hôm nay, ngày 01 tháng 7 năm 2024, tại Hà Nội, chúng tôi gồm:"),
        Line(f"BÊN CHO THUÊ (Bên A): Ông {FATHER['name']}"),
        Line("BÊN THUÊ (Bên B): Bà Lê Thị Hoa"),
        Line("Hai bên thỏa thuận ký kết hợp đồng với các điều khoản sau:"),
        Line("Điều 1. Đối tượng của hợp đồng: căn hộ số 12 phố Kim Mã, phường Ba Đình."),
        Line("Điều 2. Giá thuê: 8.000.000 đồng mỗi tháng."),
        Line("ĐẠI DIỆN BÊN A          ĐẠI DIỆN BÊN B", "center", bold=True),
    ]


def residence_confirmation() -> list[Line]:
    return [
        Line("CÔNG AN PHƯỜNG BA ĐÌNH"),
        *MOTTO,
        Line("XÁC NHẬN THÔNG TIN VỀ CƯ TRÚ", "center", bold=True, scale=1.2),
        Line("Công an phường Ba Đình xác nhận thông tin về cư trú của công dân như sau:"),
        Line(f"Họ, chữ đệm và tên: {FATHER['name'].upper()}"),
        Line(f"Ngày, tháng, năm sinh: {FATHER['dob']}"),
        Line(f"Số định danh cá nhân: {FATHER['id']}"),
        Line("Nơi thường trú: Số 12 phố Kim Mã, phường Ba Đình, thành phố Hà Nội"),
        Line("Thông tin về chủ hộ và các thành viên trong hộ gia đình: 3 người"),
        Line("Hà Nội, ngày 10 tháng 9 năm 2024", "right"),
    ]


def other() -> list[Line]:
    return [
        Line("BIÊN LAI THU TIỀN PHÍ, LỆ PHÍ", "center", bold=True, scale=1.2),
        Line("Đơn vị thu: Ủy ban nhân dân phường Ba Đình"),
        Line(f"Người nộp: {FATHER['name']}"),
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
