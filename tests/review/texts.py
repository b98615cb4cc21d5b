"""Texts of a kind the shipped classifier confuses, as officers would correct them.

A police notice of the result of a permanent-residence registration (“Thông báo về kết quả giải quyết
đăng ký thường trú”) is filed as a residence confirmation, but its wording is unlike the generated
``residence_confirmation`` texts: the shipped model calls it unfamiliar (``other``).
"""

from __future__ import annotations

import random

WARDS = ("Hàng Bạc", "Cửa Nam", "Tràng Tiền", "Hàng Trống", "Lý Thái Tổ", "Phúc Tân", "Đồng Xuân", "Hàng Buồm")
NAMES = ("Nguyễn Văn An", "Trần Thị Hoa", "Lê Minh Tuấn", "Phạm Thu Trang", "Hoàng Đức Long", "Vũ Thị Lan")
STREETS = ("Hàng Bạc", "Mã Mây", "Hàng Chiếu", "Đinh Liệt", "Lò Sũ", "Hàng Gai", "Bát Đàn")
ACTIONS = ("đăng ký thường trú", "điều chỉnh thông tin về cư trú", "tách hộ", "xóa đăng ký tạm trú")


def residence_notice(rng: random.Random) -> str:
    ward, name, street = rng.choice(WARDS), rng.choice(NAMES), rng.choice(STREETS)
    action = rng.choice(ACTIONS)
    number = f"001{rng.randint(0, 1)}{rng.randint(60, 99)}{rng.randint(100000, 999999)}"
    return (
        f"CÔNG AN QUẬN HOÀN KIẾM\nCÔNG AN PHƯỜNG {ward.upper()}\nSố: {rng.randint(10, 999)}/TB-CAP\n"
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n"
        f"THÔNG BÁO\nVề kết quả giải quyết, hủy bỏ {action}\n"
        f"Kính gửi: Ông/Bà {name}\n"
        f"Công an phường {ward} thông báo hồ sơ {action} của ông/bà đã được giải quyết "
        f"ngày {rng.randint(1, 28)}/{rng.randint(1, 12)}/{rng.randint(2022, 2026)}.\n"
        f"Địa chỉ: số {rng.randint(1, 120)} phố {street}, phường {ward}, quận Hoàn Kiếm, Hà Nội\n"
        f"Số định danh cá nhân: {number}\n"
        "Thông tin đã được cập nhật vào Cơ sở dữ liệu về cư trú.\n"
        "TRƯỞNG CÔNG AN PHƯỜNG"
    )


def residence_notices(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [residence_notice(rng) for _ in range(count)]
