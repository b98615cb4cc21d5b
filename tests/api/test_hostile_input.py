"""Hostile or broken input is refused with a coded 4xx (or an "invalid" report), never a 500."""

from __future__ import annotations

import random
from typing import Any

import pytest

from api.citizen import grant_allows, make_grant
from signing.errors import PdfInvalid
from signing.pades import sign_pdf
from signing.verify import verify_pdf
from storage.objectstore.links import LinkInvalid, verify_local_link
from tests.api.conftest import Api, asgi_scope
from workers.result_render import render_result_pdf


def test_dev_tsa_refuses_an_oversized_query_without_reading_it_all(api: Api) -> None:
    """A chunked body (no Content-Length) stops being read as soon as it passes 64 KiB."""
    assert api.services.uses_dev_pki
    chunk, chunks, received = b"0" * 16 * 1024, 64, []

    async def call() -> int:
        async def receive() -> dict[str, Any]:
            received.append(1)
            return {"type": "http.request", "body": chunk, "more_body": len(received) < chunks}

        messages: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            messages.append(message)

        headers = [(b"host", b"testserver"), (b"content-type", b"application/timestamp-query")]
        scope = asgi_scope("POST", "/dev/tsa", headers, client="203.0.113.5")
        await api.client.app(scope, receive, send)
        return messages[0]["status"]

    assert api.client.portal.call(call) == 413  # type: ignore[union-attr]
    assert len(received) <= 6, "the body was read past the limit"


@pytest.mark.parametrize("token", ["X|\u00b2|a", "X|1|\u00e9", "X|1", "X|1|2|3", "X||" + "0" * 64, ""])
def test_a_malformed_grant_cookie_is_no_grant(token: str) -> None:
    assert grant_allows(b"secret", token, "X") is False


def test_a_well_formed_grant_still_passes() -> None:
    assert grant_allows(b"secret", make_grant(b"secret", "X", 60), "X") is True
    assert grant_allows(b"secret", make_grant(b"secret", "X", 60), "Y") is False


@pytest.mark.parametrize("cookie", [b"sohoa_kq=X|\xb2|abc", b"sohoa_kq=X|1|\xe9"])
def test_download_with_a_malformed_grant_cookie_is_refused(api: Api, cookie: bytes) -> None:
    r = api.client.get("/tra-cuu/ket-qua/X/tai-ve", headers={"Cookie": cookie})
    assert r.status_code == 403


def test_a_non_ascii_link_signature_is_an_invalid_link(api: Api) -> None:
    with pytest.raises(LinkInvalid):
        verify_local_link(b"secret", "/objects/documents/x?exp=99999999999&sig=%C3%A9")
    r = api.client.get("/objects/documents/x?exp=1&sig=%C3%A9")
    assert r.status_code == 403 and r.json()["detail"]["code"] == "LINK_INVALID"


def test_a_non_ascii_metrics_token_is_refused(make_api) -> None:  # type: ignore[no-untyped-def]
    api = make_api(metrics_token="scrape")
    assert api.client.get("/metrics", headers={"Authorization": b"Bearer \xe9"}).status_code == 403
    assert api.client.get("/metrics", headers={"Authorization": "Bearer scrape"}).status_code == 200


def test_verify_upload_without_a_content_type_is_refused(api: Api) -> None:
    r = api.client.post("/kiem-tra", content=b"a=b")
    assert r.status_code == 422 and r.json()["detail"]["code"] == "MULTIPART_INVALID"


@pytest.fixture
def signed_pdf(api: Api) -> bytes:
    return sign_pdf(render_result_pdf(["Bản sao điện tử"]), api.services.signing_key("operator"), level="B-B")


def _broken_xref_stream(pdf: bytes) -> bytes:
    """The first revision's compressed cross-reference stream with a bad zlib header: zlib.error in pyHanko."""
    start = pdf.index(b"stream\n", pdf.index(b"/Type /XRef\n/Filter /FlateDecode")) + len(b"stream\n")
    return pdf[:start] + b"\x00\x00" + pdf[start + 2 :]


def test_a_pdf_that_breaks_the_parser_is_reported_invalid(api: Api, signed_pdf: bytes) -> None:
    broken = _broken_xref_stream(signed_pdf)
    with pytest.raises(PdfInvalid) as info:
        verify_pdf(broken, api.services.trust_roots)
    assert info.value.detail == "error"  # zlib.error
    r = api.client.post("/api/v1/verify", content=broken, headers={"Content-Type": "application/pdf"})
    assert r.status_code == 200 and r.json()["valid"] is False and r.json()["problems"] == ["pdf_invalid"]
    page = api.client.post("/kiem-tra", files={"tep": ("kq.pdf", broken, "application/pdf")})
    assert page.status_code == 200 and "KHÔNG hợp lệ" in page.text


def test_randomly_corrupted_pdfs_never_raise(api: Api, signed_pdf: bytes) -> None:
    verifier, rng = api.client.app.state.verifier, random.Random(1)  # type: ignore[attr-defined]
    for _ in range(300):
        corrupt = bytearray(signed_pdf)
        for _ in range(rng.randint(1, 4)):
            corrupt[rng.randrange(len(corrupt))] = rng.randrange(256)
        if rng.random() < 0.3:
            corrupt = corrupt[: rng.randrange(len(corrupt))]
        verifier.verify(bytes(corrupt))
