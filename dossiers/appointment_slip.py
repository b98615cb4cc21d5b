"""The giấy hẹn: "Giấy tiếp nhận hồ sơ và hẹn trả kết quả", the applicant's printed receipt of a dossier.

One page, A5 (default) or A4 portrait, laid out as the centre's forms are (``dossiers.result_render``:
NĐ 30/2020 header of the receiving centre and the quốc hiệu/tiêu ngữ, Liberation Serif embedded):
the title, the dossier code, the procedure, the applicant's name (the số định danh only masked, its last
three digits), the components received, when it was received, the appointment date for the result,
and the portal's address with a QR code (UTF-8 ECI) to its lookup page for the dossier's first result
code (``<mã hồ sơ>-KQ1``: the code the first e-result will carry).

The appointment date is ``notices.processing_days`` working days after intake (or the procedure's own
count from ``notices.procedure_days``), Monday to Friday; the day of intake does not count. Public
holidays are not known to the service: the receiving officer corrects the date by hand around them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from sqlalchemy import select

from dossiers.catalogue_search import mask_id
from dossiers.result_render import QUOC_HIEU, TIEU_NGU, PageWriter, date_line, place_of
from dossiers.services import Services
from dossiers.signer_keys import centre_details
from dossiers.workspace import effective_centre_id
from signing.signers.drawing import MM, document_bytes
from signing.signers.qr import QrBlock
from signing.vntime import to_vn
from sohoa.errors import NotFound
from storage.catalogue.models import Component, Dossier
from storage.warehouse import audit

SlipSize = Literal["A4", "A5"]
PAGE_SIZES: dict[str, tuple[float, float]] = {"A4": (595.28, 841.89), "A5": (419.53, 595.28)}
TITLE = "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ"


@dataclass(frozen=True)
class Layout:
    """Margins and type sizes of one paper size (points)."""

    left: float
    right: float
    top: float
    bottom: float
    scale: float  # type sizes relative to the A4 form's
    qr: float


LAYOUTS = {
    "A4": Layout(30 * MM, 15 * MM, 20 * MM, 20 * MM, 1.0, 28 * MM),
    "A5": Layout(15 * MM, 10 * MM, 10 * MM, 10 * MM, 0.78, 24 * MM),
}


@dataclass(frozen=True)
class SlipComponent:
    name: str
    pages: int


@dataclass(frozen=True)
class Slip:
    """What the slip prints."""

    centre: str
    parent_centre: str | None
    place: str
    dossier_code: str
    procedure_code: str
    applicant_name: str
    applicant_id_masked: str
    components: Sequence[SlipComponent]
    received_at: datetime  # aware
    due_on: date
    portal_url: str  # the portal's lookup page (printed)
    lookup_url: str  # the QR code's target: the lookup page for the first result code

    @property
    def result_code(self) -> str:
        return f"{self.dossier_code}-KQ1"


def add_working_days(start: date, days: int) -> date:
    """``days`` working days (Monday to Friday) after ``start``; ``start`` itself does not count.
    0 days: ``start``, or the next working day when it is a weekend day."""
    day = start
    if days == 0:
        while day.weekday() >= 5:
            day += timedelta(days=1)
        return day
    left = days
    while left:
        day += timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    return day


def vn_datetime(moment: datetime) -> str:
    local = to_vn(moment)
    return f"{local:%H} giờ {local:%M} phút, ngày {local:%d/%m/%Y}"


def slip_of(services: Services, code: str) -> Slip:
    """The slip of the dossier ``code`` (NotFound when there is none; the caller checks who may see it)."""
    with services.catalogue.reading() as s:
        dossier = s.scalar(select(Dossier).where(Dossier.code == code))
        if dossier is None:
            raise NotFound(f"dossier {code}")
        comps = s.scalars(select(Component).where(Component.dossier_id == dossier.id).order_by(Component.position))
        components = [SlipComponent(c.name or c.ref, c.page_count) for c in comps]
        facts = (dossier.code, dossier.procedure_code, dossier.applicant_name, dossier.applicant_id)
        received, centre_id = dossier.created_at, dossier.centre_id
    centre = centre_details(services, centre_id)
    settings = services.settings
    base = settings.api.base_url
    due = add_working_days(to_vn(received).date(), settings.notices.days_for(facts[1]))
    return Slip(
        centre=centre.name,
        parent_centre=centre.parent_name or None,
        place=centre.place or place_of(centre.name),
        dossier_code=facts[0],
        procedure_code=facts[1],
        applicant_name=facts[2],
        applicant_id_masked=mask_id(facts[3]),
        components=components,
        received_at=received,
        due_on=due,
        portal_url=f"{base}/tra-cuu",
        lookup_url=f"{base}/tra-cuu?ma={facts[0]}-KQ1",
    )


def render_slip(slip: Slip, size: SlipSize = "A5") -> bytes:
    """The slip as a one-page PDF of ``size`` (A5 default); more components run on to a second page."""
    page = PAGE_SIZES[size]
    lay = LAYOUTS[size]
    w = PageWriter(page, lay.top, lay.bottom)
    doc = w.doc
    k = lay.scale
    width = page[0] - lay.left - lay.right
    left_col = 0.42 * width
    right_x, right_w = lay.left + left_col, width - left_col
    left_w = left_col - 3 * MM  # a gutter: the agency's name never runs up against the quốc hiệu

    top = w.y
    if slip.parent_centre:
        w.y = w.lines(slip.parent_centre.upper(), lay.left, left_w, "", 12 * k)
    agency = slip.centre.upper()
    y = w.lines(agency, lay.left, left_w, "B", 12 * k)
    w.rule(lay.left + left_w / 2, y + 2, w.widest(agency, left_w, "B", 12 * k) / 3)
    left_bottom = y + 4
    w.y = top
    y = w.lines(QUOC_HIEU, right_x, right_w, "B", 12 * k)
    w.y = y
    y = w.lines(TIEU_NGU, right_x, right_w, "B", 13 * k)
    w.rule(right_x + right_w / 2, y + 1, w.widest(TIEU_NGU, right_w, "B", 13 * k))
    w.y = y + 6 * k
    right_bottom = w.lines(date_line(slip.place, to_vn(slip.received_at).date()), right_x, right_w, "I", 13 * k)

    w.y = max(left_bottom, right_bottom) + 14 * k
    w.y = w.lines(TITLE, lay.left, width, "B", 14 * k) + 2
    w.y = w.lines(f"Mã hồ sơ: {slip.dossier_code}", lay.left, width, "B", 13 * k) + 10 * k

    body = 13 * k
    doc.set_margins(lay.left, lay.top, lay.right)
    doc.set_auto_page_break(True, lay.bottom)

    def line(text: str, style: str = "", indent: float = 0.0) -> None:
        w.page_break_if(body * 1.3)
        w.y = w.lines(text, lay.left + indent, width - indent, style, body, align="L") + 2 * k

    line(f"{slip.centre} đã tiếp nhận hồ sơ của:")
    line(f"Ông/Bà: {slip.applicant_name or '—'}", "B")
    line(f"Số định danh cá nhân: {slip.applicant_id_masked}")
    line(f"Thủ tục hành chính: {slip.procedure_code}")
    line("Thành phần hồ sơ đã nhận:")
    for i, comp in enumerate(slip.components, 1):
        line(f"{i}. {comp.name} ({comp.pages} trang)", indent=12 * k)
    line(f"Thời gian tiếp nhận: {vn_datetime(slip.received_at)}")
    line(f"Thời gian hẹn trả kết quả: ngày {slip.due_on:%d/%m/%Y}", "B")
    doc.set_auto_page_break(False)

    qr = QrBlock(lay.qr, ("Quét mã để tra cứu", f"Mã kết quả: {slip.result_code}"))
    w.page_break_if(qr.height + 12 * k)
    w.y += 6 * k
    qr_top = w.y
    qr.draw(doc, slip.lookup_url, lay.left + 2 * MM, qr_top)
    text_x = lay.left + lay.qr + 8 * MM
    text_w = width - (text_x - lay.left)
    w.y = qr_top
    w.y = w.lines("Tra cứu tình trạng hồ sơ và kết quả tại Cổng tra cứu:", text_x, text_w, "", 11 * k, align="L")
    w.y = w.lines(slip.portal_url, text_x, text_w, "B", 11 * k, align="L") + 2
    w.y = w.lines(
        f"với mã kết quả {slip.result_code} khi được thông báo có kết quả.", text_x, text_w, "", 11 * k, align="L"
    )
    w.y = max(w.y, qr_top + qr.height) + 10 * k

    w.page_break_if(40 * k)
    half = width / 2
    sign_top = w.y
    w.lines("NGƯỜI NỘP HỒ SƠ", lay.left, half, "B", 12 * k)
    w.y = sign_top
    w.lines("NGƯỜI TIẾP NHẬN", lay.left + half, half, "B", 12 * k)
    w.y = sign_top + 12 * k * 1.2
    w.lines("(Ký, ghi rõ họ tên)", lay.left, half, "I", 11 * k)
    w.y = sign_top + 12 * k * 1.2
    w.lines("(Ký, ghi rõ họ tên)", lay.left + half, half, "I", 11 * k)
    return document_bytes(doc)


SLIP_ACTION = "slip_download"


def appointment_slip_pdf(services: Services, code: str, size: SlipSize = "A5", *, actor: str) -> bytes:
    """The slip of the dossier ``code`` as PDF bytes, its reading audited (``slip_download``: it shows the
    applicant's name and masked số định danh) with the applicant as owner and the dossier's centre."""
    pdf = render_slip(slip_of(services, code), size)
    with services.catalogue.session(durable=True) as s:
        dossier = s.scalar(select(Dossier).where(Dossier.code == code))
        if dossier is None:
            raise NotFound(f"dossier {code}")
        audit.append(
            s,
            actor=actor,
            action=SLIP_ACTION,
            subject=f"dossier:{code}",
            purpose="in giấy hẹn trả kết quả",
            outcome="ok",
            detail={"dossier": code, "size": size},
            owner=dossier.applicant_id,
            centre_id=effective_centre_id(s, dossier),
        )
    return pdf
