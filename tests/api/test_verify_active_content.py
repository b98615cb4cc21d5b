"""/kiem-tra and POST /api/v1/verify warn when a signed file holds active content."""

from __future__ import annotations

from io import BytesIO

import pikepdf
import pytest

from signing.signers import sign_pdf
from tests.api.conftest import Api

pytestmark = pytest.mark.integration


def test_verify_page_and_api_warn_of_a_script(api: Api) -> None:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    launch = pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("cmd.exe"))
    link = pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[0, 0, 9, 9], A=launch)
    pdf.pages[0].obj.Annots = pikepdf.Array([pdf.make_indirect(link)])
    out = BytesIO()
    pdf.save(out)
    signed = sign_pdf(out.getvalue(), api.services.signing_key("agency"))

    page = api.client.post("/kiem-tra", files={"tep": ("kq.pdf", signed, "application/pdf")})
    assert page.status_code == 200
    assert 'id="noi-dung-chu-dong"' in page.text
    assert "lệnh chạy chương trình (Launch) (trang 1, chú thích 1)" in page.text

    data = api.client.post("/api/v1/verify", content=signed, headers={"Content-Type": "application/pdf"}).json()
    assert data["active_content"] == [{"kind": "launch", "where": "trang 1, chú thích 1"}]
    assert "active_content" in data["warnings"]
