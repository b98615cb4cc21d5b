"""Vietnamese administrative texts of kinds the classifier was never trained on ("unfamiliar" texts).

Announcements, invitations, official letters, minutes, decisions, reports, CVs, medical papers…:
what a counter also receives and must file as ``other``. They are written by hand here, never used
to train the n-gram model, and split in two: ``VALIDATION`` chooses the classifier's ``other``
threshold (``bench.corpus.train_classifier``), ``TEST`` only measures it. Placeholders
(``{ward}``, ``{name}``…) are filled from a random cast so every sample differs.
"""

from __future__ import annotations

import random

from bench.corpus.templates import Cast

_MOTTO = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n"

VALIDATION: tuple[str, ...] = (
    # 1 announcement of a water cut
    "CÔNG TY CỔ PHẦN CẤP NƯỚC {city}\n" + _MOTTO + "THÔNG BÁO\nVề việc tạm ngừng cung cấp nước sạch\n"
    "Để phục vụ thi công cải tạo tuyến ống trên {street}, Công ty thông báo tạm ngừng cấp nước "
    "từ 8 giờ đến 17 giờ ngày {day}/{month}/{year} tại phường {ward}.\n"
    "Đề nghị các hộ gia đình chủ động dự trữ nước. Mong quý khách hàng thông cảm.\n"
    "Mọi thắc mắc xin liên hệ đường dây nóng 1900 {number}.",
    # 2 meeting invitation
    "ỦY BAN NHÂN DÂN PHƯỜNG {ward}\nSố: {number}/GM-UBND\n" + _MOTTO + "GIẤY MỜI\n"
    "Kính gửi: Ông/Bà {name}, Tổ trưởng tổ dân phố số 5\n"
    "Ủy ban nhân dân phường {ward} trân trọng kính mời Ông/Bà tới dự hội nghị triển khai công tác "
    "phòng chống thiên tai năm {year}.\nThời gian: 14 giờ 00, ngày {day} tháng {month} năm {year}.\n"
    "Địa điểm: Hội trường tầng 2, trụ sở Ủy ban nhân dân phường.\nRất mong Ông/Bà tham dự đúng giờ.\n"
    "TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH",
    # 3 official letter (công văn)
    "SỞ TÀI NGUYÊN VÀ MÔI TRƯỜNG\nSố: {number}/STNMT-VP\nV/v báo cáo kết quả thu gom rác thải quý III\n"
    + _MOTTO
    + "{city}, ngày {day} tháng {month} năm {year}\n"
    "Kính gửi: Ủy ban nhân dân các quận, huyện\n"
    "Thực hiện kế hoạch bảo vệ môi trường năm {year}, Sở Tài nguyên và Môi trường đề nghị Ủy ban nhân dân "
    "các quận, huyện tổng hợp và báo cáo kết quả thu gom, xử lý rác thải sinh hoạt quý III.\n"
    "Báo cáo gửi về Văn phòng Sở trước ngày 15 tháng sau.\nNơi nhận: Như trên; Lưu VT.",
    # 4 minutes of a meeting
    "BIÊN BẢN HỌP\nTổ dân phố số 3, phường {ward}\n"
    "Hôm nay, vào lúc 19 giờ 30 ngày {day}/{month}/{year}, tại nhà văn hóa tổ dân phố, chúng tôi gồm:\n"
    "1. Ông {name} - Tổ trưởng, chủ trì\n2. Bà {name2} - Thư ký\nCùng 42 hộ gia đình tham dự.\n"
    "Nội dung cuộc họp: bầu tổ hòa giải, thống nhất mức đóng góp quỹ khuyến học.\n"
    "Cuộc họp kết thúc lúc 21 giờ cùng ngày, biên bản được thông qua và các thành viên nhất trí ký tên.",
    # 5 CV
    "SƠ YẾU LÝ LỊCH\nI. THÔNG TIN BẢN THÂN\nHọ và tên: {name}\nNgày sinh: {dob}    Giới tính: Nam\n"
    "Địa chỉ liên lạc: {street}, phường {ward}, {city}\nĐiện thoại: 09{number}45678\n"
    "II. QUÁ TRÌNH HỌC TẬP\n2010 - 2014: Trường Đại học Kinh tế Quốc dân, chuyên ngành Kế toán\n"
    "III. QUÁ TRÌNH CÔNG TÁC\n2014 - 2020: Kế toán viên, Công ty TNHH Thương mại Minh Phát\n"
    "2020 - nay: Kế toán trưởng, Công ty Cổ phần Xây dựng Hòa Bình\n"
    "Tôi xin cam đoan những lời khai trên là đúng sự thật.",
    # 6 decision on commendation
    "ỦY BAN NHÂN DÂN QUẬN {ward}\nSố: {number}/QĐ-UBND\n" + _MOTTO + "QUYẾT ĐỊNH\n"
    "Về việc khen thưởng thành tích xuất sắc trong phong trào thi đua năm {year}\n"
    "CHỦ TỊCH ỦY BAN NHÂN DÂN QUẬN\nCăn cứ Luật Thi đua, khen thưởng;\nXét đề nghị của Trưởng phòng Nội vụ,\n"
    "QUYẾT ĐỊNH:\nĐiều 1. Tặng Giấy khen cho 12 tập thể và 25 cá nhân có thành tích xuất sắc.\n"
    "Điều 2. Quyết định có hiệu lực kể từ ngày ký.",
    # 7 health check certificate
    "BỆNH VIỆN ĐA KHOA {city}\nGIẤY KHÁM SỨC KHỎE\nHọ và tên: {name}    Tuổi: 34\n"
    "Chiều cao: 168 cm    Cân nặng: 62 kg    Huyết áp: 120/80 mmHg\nMắt: phải 10/10, trái 10/10\n"
    "Tai mũi họng: bình thường\nTim mạch: nhịp tim đều\nKết luận: Đủ sức khỏe để làm việc và học tập.\n"
    "Ngày {day} tháng {month} năm {year}\nBÁC SĨ KHÁM BỆNH",
    # 8 hospital discharge paper
    "SỞ Y TẾ {city}\nBỆNH VIỆN NHI TRUNG ƯƠNG\nGIẤY RA VIỆN\nHọ tên người bệnh: {name}\n"
    "Vào viện lúc: 10 giờ ngày {day}/{month}/{year}\nChẩn đoán: Viêm phế quản cấp\n"
    "Phương pháp điều trị: Kháng sinh, khí dung\nGhi chú: Tái khám sau 7 ngày, uống thuốc theo đơn.\n"
    "Trưởng khoa điều trị",
    # 9 plan
    "ỦY BAN NHÂN DÂN PHƯỜNG {ward}\nSố: {number}/KH-UBND\n" + _MOTTO + "KẾ HOẠCH\n"
    "Tổ chức Ngày hội Đại đoàn kết toàn dân tộc năm {year}\nI. MỤC ĐÍCH, YÊU CẦU\n"
    "Phát huy truyền thống đoàn kết, tương thân tương ái của nhân dân trong khu dân cư.\n"
    "II. THỜI GIAN, ĐỊA ĐIỂM\nTừ ngày 10 đến ngày 18 tháng 11 năm {year}, tại các tổ dân phố.\n"
    "III. KINH PHÍ\nTừ nguồn ngân sách phường và vận động xã hội hóa.",
    # 10 report
    "CÔNG AN PHƯỜNG {ward}\nBÁO CÁO\nKết quả công tác bảo đảm an ninh trật tự tháng {month} năm {year}\n"
    "Trong tháng, tình hình an ninh chính trị trên địa bàn ổn định. Xảy ra 3 vụ trộm cắp tài sản, "
    "đã điều tra làm rõ 2 vụ. Tổ chức 5 đợt tuần tra kiểm soát, lập biên bản 14 trường hợp vi phạm "
    "trật tự an toàn giao thông.\nPhương hướng tháng tới: tăng cường tuần tra vào ban đêm.",
    # 11 letter of introduction (giấy giới thiệu)
    "CÔNG TY TNHH XÂY DỰNG THÀNH ĐẠT\nSố: {number}/GGT\nGIẤY GIỚI THIỆU\n"
    "Kính gửi: Chi cục Thuế khu vực {ward}\nTrân trọng giới thiệu: Ông {name}\nChức vụ: Nhân viên kế toán\n"
    "Được cử đến: nộp hồ sơ quyết toán thuế thu nhập doanh nghiệp năm {year}.\n"
    "Giấy giới thiệu có giá trị đến hết ngày {day}/{month}/{year}.\nGIÁM ĐỐC",
    # 12 sales invoice
    "HÓA ĐƠN GIÁ TRỊ GIA TĂNG\nKý hiệu: 1C24TAA    Số: 00{number}\nĐơn vị bán hàng: Công ty Cổ phần Điện máy Xanh\n"
    "Mã số thuế: 0101234567\nHọ tên người mua hàng: {name}\nĐịa chỉ: {street}, {city}\n"
    "STT  Tên hàng hóa, dịch vụ  Đơn vị tính  Số lượng  Đơn giá  Thành tiền\n"
    "1  Tủ lạnh Samsung 300 lít  Chiếc  1  8.490.000  8.490.000\n"
    "Thuế suất GTGT: 10%    Tổng cộng tiền thanh toán: 9.339.000 đồng",
    # 13 school admission notice
    "TRƯỜNG TRUNG HỌC PHỔ THÔNG CHU VĂN AN\nGIẤY BÁO NHẬP HỌC\nNhà trường trân trọng thông báo em {name}\n"
    "Đã trúng tuyển vào lớp 10 năm học {year} - {year2}.\n"
    "Đề nghị phụ huynh đưa học sinh đến trường làm thủ tục nhập học vào 7 giờ 30 ngày {day}/{month}/{year}.\n"
    "Khi đến mang theo: học bạ trung học cơ sở, 4 ảnh 3x4, giấy báo này.",
    # 14 thank-you letter
    "THƯ CẢM ƠN\nBan Giám hiệu Trường Tiểu học {ward} xin gửi lời cảm ơn chân thành tới gia đình Ông {name} "
    "đã ủng hộ 200 bộ sách giáo khoa và 50 suất học bổng cho học sinh có hoàn cảnh khó khăn.\n"
    "Sự giúp đỡ quý báu của gia đình đã góp phần động viên các em vững bước đến trường.\n"
    "Kính chúc gia đình sức khỏe, hạnh phúc và thành công.",
    # 15 citizen reception schedule
    "THÔNG BÁO\nLịch tiếp công dân của Chủ tịch Ủy ban nhân dân quận {ward} tháng {month}/{year}\n"
    "Chủ tịch Ủy ban nhân dân quận tiếp công dân định kỳ vào ngày 15 hằng tháng tại Trụ sở tiếp công dân.\n"
    "Công dân đến trình bày khiếu nại, tố cáo, kiến nghị, phản ánh cần mang theo giấy tờ tùy thân "
    "và tài liệu liên quan. Trường hợp ngày tiếp trùng ngày nghỉ thì chuyển sang ngày làm việc kế tiếp.",
    # 16 internal rules
    "NỘI QUY\nBộ phận tiếp nhận và trả kết quả\n1. Công dân đến giao dịch xếp hàng theo thứ tự, lấy số tự động.\n"
    "2. Không hút thuốc, không mang vũ khí, chất dễ cháy nổ vào phòng.\n"
    "3. Giữ gìn trật tự, vệ sinh chung, tắt chuông điện thoại di động.\n"
    "4. Mọi phản ánh về thái độ của cán bộ xin gửi vào hòm thư góp ý hoặc gọi số {number}.",
    # 17 warehouse issue slip
    "PHIẾU XUẤT KHO\nNgày {day} tháng {month} năm {year}    Số: PX{number}\nHọ tên người nhận hàng: {name}\n"
    "Lý do xuất kho: cấp phát văn phòng phẩm quý IV\nXuất tại kho: Văn phòng Ủy ban nhân dân phường {ward}\n"
    "Giấy in A4: 40 ram; Bút bi: 5 hộp; Mực in: 6 hộp\nNgười lập phiếu    Thủ kho    Kế toán trưởng",
    # 18 leave request approved (giấy nghỉ phép)
    "GIẤY NGHỈ PHÉP\nCấp cho: Bà {name2}\nChức vụ: Chuyên viên, Phòng Văn hóa - Thông tin\n"
    "Được nghỉ phép năm {year}: 05 ngày, từ ngày {day}/{month}/{year}.\nNơi nghỉ phép: {origin}\n"
    "Trong thời gian nghỉ, đương sự chịu sự quản lý của chính quyền địa phương nơi nghỉ phép.\n"
    "THỦ TRƯỞNG CƠ QUAN",
    # 19 condolence / death notice
    "CÁO PHÓ\nGia đình chúng tôi vô cùng thương tiếc báo tin: Cụ ông {name}\n"
    "Sinh năm 1938, quê quán {origin}\n"
    "Đã từ trần hồi 5 giờ 10 phút ngày {day} tháng {month} năm {year}, hưởng thọ 86 tuổi.\n"
    "Lễ nhập quan hồi 14 giờ cùng ngày. Lễ viếng từ 7 giờ đến 11 giờ ngày hôm sau tại nhà tang lễ thành phố {city}.\n"
    "Gia đình xin chân thành cảm ơn.",
    # 20 list of households receiving support
    "DANH SÁCH\nCác hộ gia đình được hỗ trợ sau bão số 3 năm {year}\nPhường {ward}, {city}\n"
    "STT  Họ và tên chủ hộ  Địa chỉ  Mức hỗ trợ\n1  {name}  Tổ 2  3.000.000 đồng\n"
    "2  {name2}  Tổ 5  2.000.000 đồng\n3  Lê Văn Tám  Tổ 7  5.000.000 đồng\n"
    "Tổng cộng: 3 hộ, 10.000.000 đồng (Mười triệu đồng chẵn).",
    # 21 fire safety notice
    "THÔNG BÁO\nV/v kiểm tra an toàn phòng cháy chữa cháy tại các chung cư\n"
    "Thực hiện chỉ đạo của Công an thành phố {city}, từ ngày {day}/{month}/{year} đoàn kiểm tra liên ngành sẽ kiểm tra "
    "hệ thống báo cháy, bình chữa cháy và lối thoát nạn tại các tòa nhà chung cư trên địa bàn phường {ward}.\n"
    "Đề nghị Ban quản trị các tòa nhà phối hợp, chuẩn bị hồ sơ nghiệm thu.",
    # 22 transcript (bảng điểm)
    "TRƯỜNG ĐẠI HỌC BÁCH KHOA\nBẢNG ĐIỂM HỌC TẬP\nHọ và tên sinh viên: {name}    Mã sinh viên: 2019{number}\n"
    "Học kỳ I năm học {year}\nGiải tích 1: 8.5\nVật lý đại cương: 7.0\nTin học cơ sở: 9.0\n"
    "Tiếng Anh 1: 8.0\nĐiểm trung bình học kỳ: 8.13    Xếp loại học lực: Giỏi",
)

TEST: tuple[str, ...] = (
    # 1 announcement of election of heads of residential groups
    "ỦY BAN NHÂN DÂN PHƯỜNG {ward}\n" + _MOTTO + "THÔNG BÁO\n"
    "Về việc tổ chức bầu cử Tổ trưởng tổ dân phố nhiệm kỳ {year} - {year2}\n"
    "Hội nghị bầu cử được tổ chức vào 8 giờ sáng Chủ nhật, ngày {day}/{month}/{year} tại nhà văn hóa các tổ dân phố.\n"
    "Mỗi hộ gia đình cử một đại diện tham dự. Đề nghị nhân dân tham gia đầy đủ.",
    # 2 invitation to a wedding-like ceremony (private)
    "THIỆP MỜI\nTrân trọng kính mời: Ông/Bà {name2}\n"
    "Tới dự buổi lễ khai trương Nhà hàng Hương Sen\nVào hồi 10 giờ 00, ngày {day} tháng {month} năm {year}\n"
    "Tại: {street}, phường {ward}, {city}\nSự hiện diện của quý khách là niềm vinh hạnh cho chúng tôi.",
    # 3 official reply letter
    "ỦY BAN NHÂN DÂN QUẬN {ward}\nPHÒNG QUẢN LÝ ĐÔ THỊ\nSố: {number}/QLĐT\nV/v trả lời kiến nghị của công dân\n"
    + _MOTTO
    + "Kính gửi: Ông {name}, trú tại {street}\n"
    "Phòng Quản lý đô thị nhận được kiến nghị của Ông về việc hệ thống thoát nước trước cửa nhà bị ngập. "
    "Sau khi kiểm tra thực tế, Phòng đã giao Ban quản lý dự án nạo vét cống trong tháng {month}.\n"
    "Phòng Quản lý đô thị trả lời để Ông được biết.",
    # 4 handover minutes
    "BIÊN BẢN BÀN GIAO\nHôm nay ngày {day}/{month}/{year}, tại trụ sở Ủy ban nhân dân phường {ward}, chúng tôi gồm:\n"
    "Bên giao: Ông {name}, cán bộ văn phòng\nBên nhận: Bà {name2}, cán bộ văn thư\n"
    "Đã tiến hành bàn giao: 01 máy tính xách tay, 01 máy in, 12 hộp hồ sơ lưu trữ năm {year}.\n"
    "Biên bản lập thành 02 bản, mỗi bên giữ 01 bản.",
    # 5 electricity bill
    "TỔNG CÔNG TY ĐIỆN LỰC {city}\nHÓA ĐƠN TIỀN ĐIỆN\nKỳ: tháng {month}/{year}\nKhách hàng: {name}\n"
    "Địa chỉ: {street}, phường {ward}\nChỉ số cũ: 12450    Chỉ số mới: 12712    Điện năng tiêu thụ: 262 kWh\n"
    "Tiền điện: 612.350 đồng    Thuế GTGT 8%: 48.988 đồng\nTổng tiền thanh toán: 661.338 đồng",
    # 6 job application letter (thư xin việc)
    "THƯ XIN VIỆC\nKính gửi: Phòng Nhân sự Công ty Cổ phần Sữa Việt Nam\n"
    "Tôi tên là {name}, tốt nghiệp ngành Quản trị kinh doanh. Qua trang tuyển dụng, tôi được biết Quý Công ty "
    "đang cần tuyển nhân viên kinh doanh khu vực {city}.\nTôi có 3 năm kinh nghiệm bán hàng và chăm sóc khách hàng.\n"
    "Rất mong được Quý Công ty tạo điều kiện để tôi được phỏng vấn. Trân trọng cảm ơn.",
    # 7 vaccination record
    "TRẠM Y TẾ PHƯỜNG {ward}\nGIẤY XÁC NHẬN TIÊM CHỦNG\nHọ và tên: {name}\n"
    "Đã được tiêm: Vắc xin phòng cúm mùa, mũi 1\nNgày tiêm: {day}/{month}/{year}    Lô vắc xin: FL{number}\n"
    "Phản ứng sau tiêm: không có\nTrạm trưởng Trạm Y tế",
    # 8 resolution of residents' meeting
    "NGHỊ QUYẾT\nHội nghị nhà chung cư {street}\nNăm {year}\nHội nghị thống nhất:\n"
    "1. Mức phí dịch vụ quản lý vận hành: 8.000 đồng/m2/tháng.\n2. Bầu Ban quản trị gồm 5 thành viên, "
    "Trưởng ban là Ông {name}.\n3. Giao Ban quản trị lựa chọn đơn vị bảo vệ mới trước ngày {day}/{month}.",
    # 9 training course certificate
    "TRUNG TÂM NGOẠI NGỮ - TIN HỌC {city}\nCHỨNG NHẬN\nĐã hoàn thành khóa học: Tin học văn phòng cơ bản\n"
    "Cấp cho: {name2}\nThời gian học: 3 tháng, kết thúc ngày {day}/{month}/{year}\nKết quả: Đạt\nGIÁM ĐỐC TRUNG TÂM",
    # 10 press release / recruitment notice
    "THÔNG BÁO TUYỂN DỤNG\nTrung tâm Phục vụ hành chính công {city} cần tuyển 05 nhân viên hợp đồng "
    "làm việc tại bộ phận một cửa.\nYêu cầu: tốt nghiệp đại học, sử dụng thành thạo máy vi tính.\n"
    "Hồ sơ gồm: sơ yếu lý lịch có xác nhận, bản sao bằng cấp, giấy khám sức khỏe.\n"
    "Hạn nộp hồ sơ: hết ngày {day}/{month}/{year}. Liên hệ số điện thoại 024 3{number} 888.",
)


def fill(template: str, cast: Cast) -> str:
    """One unfamiliar text with the cast's names, places and dates."""
    return template.format(
        name=cast.father["name"],
        name2=cast.mother["name"],
        dob=cast.father["dob"],
        ward=cast.ward,
        city=cast.city,
        street=cast.street,
        origin=cast.origin,
        day=cast.day,
        month=cast.month,
        year=cast.year,
        year2=cast.year + 1,
        number=cast.number,
    )


def samples(texts: tuple[str, ...], copies: int, seed: int) -> list[str]:
    """``copies`` noisy versions of each text (as ``generate.text_sample`` makes OCR output), labelled ``other``."""
    from bench.corpus.generate import ocr_noise, random_cast, strip_diacritics

    rng = random.Random(seed)
    out = []
    for _ in range(copies):
        for template in texts:
            text = fill(template, random_cast(rng))
            if rng.random() < 0.25:
                text = strip_diacritics(text)
            if rng.random() < 0.15:
                text = text.upper()
            out.append(ocr_noise(text, rng, rng.choice((0.0, 0.01, 0.03, 0.06))))
    return out
