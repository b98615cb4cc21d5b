"""Vietnamese prose for "clean" pages: paragraphs drawn from a bank of ordinary sentences on many
subjects (weather, schooling, markets, history, health, public services), with names, places and
numbers filled in at random, so no two pages read alike and the vocabulary is not only the
vocabulary of the document templates.
"""

from __future__ import annotations

import random

SENTENCES = (
    "Sáng nay trời {city} se lạnh, sương mù phủ kín các tuyến phố ven hồ cho đến gần trưa.",
    "Theo dự báo, đợt không khí lạnh tăng cường sẽ gây mưa rào rải rác ở các tỉnh miền núi phía Bắc.",
    "Người dân được khuyến cáo giữ ấm cơ thể, hạn chế ra đường vào sáng sớm và đêm muộn.",
    "Chợ phiên cuối tuần ở xã {ward} họp từ lúc trời còn tối, người bán hàng gánh rau từ các làng lân cận.",
    "Giá rau xanh trong tuần qua tăng nhẹ do ảnh hưởng của mưa lớn kéo dài ở vùng trồng rau.",
    "Bà {name} kể rằng gia đình bà đã bán hàng ở góc chợ này hơn {n} năm, từ thời mẹ bà còn trẻ.",
    "Năm học mới, trường tiểu học {ward} đón {big} học sinh, trong đó có hơn {n} em vào lớp một.",
    "Các thầy cô giáo đã chuẩn bị phòng học, bàn ghế và sách vở từ nhiều tuần trước ngày khai giảng.",
    "Thư viện của trường được bổ sung thêm nhiều đầu sách về lịch sử, địa lý và khoa học tự nhiên.",
    "Phụ huynh có thể theo dõi kết quả học tập của con em mình qua sổ liên lạc điện tử.",
    "Dòng sông chảy qua thị trấn uốn lượn giữa những bãi ngô xanh mướt và những rặng tre già.",
    "Vào mùa nước nổi, cả vùng đồng bằng biến thành một biển nước mênh mông, thuyền bè qua lại tấp nập.",
    "Nghề dệt chiếu ở làng đã có từ hàng trăm năm, được truyền từ đời ông bà sang đời con cháu.",
    "Mỗi tấm chiếu hoa phải qua nhiều công đoạn: chọn cói, nhuộm màu, phơi khô rồi mới đưa lên khung dệt.",
    "Ông {name} năm nay đã ngoài bảy mươi tuổi nhưng vẫn ngày ngày chăm sóc vườn cây ăn quả.",
    "Khu vườn của ông trồng đủ loại cây: bưởi, nhãn, vải, hồng xiêm và vài gốc mít lâu năm.",
    "Trạm y tế phường đã tổ chức khám sức khỏe miễn phí cho {big} người cao tuổi trên địa bàn.",
    "Các bác sĩ khuyên người dân nên ăn nhiều rau, uống đủ nước và vận động nhẹ nhàng mỗi ngày.",
    "Chiến dịch tiêm chủng mở rộng được triển khai đồng loạt tại các trạm y tế trong tháng {month}.",
    "Con đường liên xã dài {n} ki-lô-mét vừa được trải nhựa, giúp việc đi lại của bà con thuận tiện hơn.",
    "Trước kia, mỗi khi mưa xuống, con đường đất lầy lội khiến học sinh phải lội bùn đến trường.",
    "Nhiều hộ gia đình đã chủ động hiến đất, góp tiền và ngày công để mở rộng đường làng.",
    "Bảo tàng thành phố đang trưng bày hơn {big} hiện vật về đời sống của cư dân cổ vùng châu thổ.",
    "Những chiếc trống đồng, rìu đá và đồ gốm được phát hiện trong các cuộc khai quật từ năm {year}.",
    "Du khách có thể tham quan bảo tàng miễn phí vào ngày chủ nhật đầu tiên của mỗi tháng.",
    "Hợp tác xã nông nghiệp vừa ký hợp đồng bao tiêu sản phẩm lúa chất lượng cao với một doanh nghiệp.",
    "Nhờ áp dụng kỹ thuật canh tác mới, năng suất lúa vụ đông xuân đạt gần bảy tấn mỗi héc-ta.",
    "Nông dân phấn khởi vì giá lúa năm nay cao hơn năm trước, lợi nhuận tăng đáng kể.",
    "Buổi chiều, bọn trẻ trong xóm rủ nhau ra bãi cỏ đầu làng thả diều và đá bóng.",
    "Tiếng cười nói rộn ràng cả một góc trời cho đến khi mặt trời lặn sau rặng núi xa.",
    "Ngôi đình làng được xây dựng từ thế kỷ mười tám, hiện vẫn giữ được nhiều mảng chạm khắc gỗ tinh xảo.",
    "Hằng năm, vào rằm tháng giêng, dân làng tổ chức lễ hội với nhiều trò chơi dân gian.",
    "Trung tâm phục vụ hành chính công của {city} tiếp nhận trung bình {big} hồ sơ mỗi ngày.",
    "Cán bộ tiếp nhận hướng dẫn người dân kê khai thông tin và kiểm tra giấy tờ trước khi nộp.",
    "Nhiều thủ tục nay có thể thực hiện trực tuyến, người dân không phải đi lại nhiều lần.",
    "Thư gửi từ quê ra kể chuyện mùa màng, chuyện con trâu mới đẻ và chuyện cái giếng làng vừa được nạo vét.",
    "Anh {name} làm công nhân ở khu công nghiệp, cuối tháng nào cũng gửi tiền về giúp bố mẹ.",
    "Những ngày cuối năm, đường phố nhộn nhịp người đi sắm Tết, hoa đào và quất bày bán khắp nơi.",
    "Bánh chưng xanh, dưa hành, câu đối đỏ là những hình ảnh quen thuộc trong ngày Tết cổ truyền.",
    "Ban quản lý khu phố vận động các gia đình phân loại rác tại nguồn để giảm ô nhiễm môi trường.",
    "Mỗi tuần một lần, đoàn thanh niên tổ chức dọn vệ sinh dọc bờ kênh và trồng thêm cây xanh.",
    "Chiếc cầu sắt cũ bắc qua sông đã được thay bằng cây cầu bê tông vững chãi vào năm {year}.",
    "Đêm xuống, ánh đèn từ những con thuyền đánh cá lấp lánh trên mặt biển như những vì sao nhỏ.",
    "Sau một đêm ra khơi, các ngư dân trở về bến với những khoang thuyền đầy cá tôm.",
    "Bếp lửa nhà bà luôn ấm, nồi cơm gạo mới thơm lừng và đĩa rau muống luộc chấm nước mắm.",
    "Câu lạc bộ dưỡng sinh của phường có hơn {n} hội viên, sinh hoạt đều đặn vào mỗi buổi sáng.",
    "Tuyến xe buýt số {n} nối trung tâm thành phố với các xã ngoại thành, chạy từ năm giờ sáng.",
    "Giá vé tháng cho học sinh, sinh viên được giảm một nửa so với giá vé thông thường.",
)
TITLES = (
    "MÙA ĐÔNG Ở {CITY}",
    "CHUYỆN LÀNG NGHỀ",
    "NHỮNG NGÀY ĐẦU NĂM HỌC",
    "ĐƯỜNG VỀ QUÊ",
    "GHI CHÉP TỪ TRUNG TÂM HÀNH CHÍNH CÔNG",
    "BẢN TIN KHU PHỐ",
    "MỘT NGÀY Ở CHỢ PHIÊN",
)
CITIES = ("Hà Nội", "Huế", "Đà Nẵng", "Cần Thơ", "Hải Phòng", "Nam Định", "Vinh", "Đà Lạt")
WARDS = ("An Bình", "Tân Lập", "Phú Hòa", "Đông Hải", "Thạch Bàn", "Nghĩa Tân", "Vĩnh Yên")
NAMES = ("Nguyễn Văn Thắng", "Trần Thị Mai", "Lê Hữu Phước", "Phạm Thị Lan", "Hoàng Minh Đức", "Vũ Thị Hằng")


class Deck:
    """The sentence bank dealt in a shuffled order, reshuffled when spent: a page does not repeat a
    sentence before it has used them all."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.cards: list[str] = []

    def draw(self) -> str:
        if not self.cards:
            self.cards = list(SENTENCES)
            self.rng.shuffle(self.cards)
        return self.cards.pop()


def sentence(rng: random.Random, deck: Deck | None = None) -> str:
    city = rng.choice(CITIES)
    template = deck.draw() if deck is not None else rng.choice(SENTENCES)
    return template.format(
        city=city,
        ward=rng.choice(WARDS),
        name=rng.choice(NAMES),
        n=rng.randint(3, 60),
        big=rng.randint(120, 2400),
        month=rng.randint(1, 12),
        year=rng.randint(1960, 2020),
    )


def paragraph(rng: random.Random, sentences: tuple[int, int] = (3, 6), deck: Deck | None = None) -> str:
    return " ".join(sentence(rng, deck) for _ in range(rng.randint(*sentences)))


def title(rng: random.Random) -> str:
    return rng.choice(TITLES).format(CITY=rng.choice(CITIES).upper())
