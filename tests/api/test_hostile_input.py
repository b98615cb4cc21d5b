"""Hostile or broken input is refused with a coded 4xx (or an "invalid" report), never a 500."""

from __future__ import annotations

import io
import random
import re
from collections import Counter
from typing import Any

import pikepdf
import pytest

from api.citizen import grant_allows, make_grant
from api.verification import summary
from dossiers.result_render import render_result_pdf
from signing.errors import PdfInvalid
from signing.signers import sign_pdf
from signing.validation import verify_pdf
from storage.errors import LinkInvalid
from storage.objectstore.links import verify_local_link
from tests.api.conftest import Api, asgi_scope


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
    unsigned = _with_xref_stream(render_result_pdf(["Bản sao điện tử"]))
    return sign_pdf(unsigned, api.services.signing_key("operator"), level="B-B")


def _with_xref_stream(pdf: bytes) -> bytes:
    """The same document saved with object streams, so that its cross-reference table is a compressed stream."""
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        doc.save(out, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out.getvalue()


def _broken_xref_stream(pdf: bytes) -> bytes:
    """The first revision's compressed cross-reference stream with a bad zlib header: zlib.error in pyHanko."""
    start = pdf.index(b"stream\n", pdf.index(b"/Type /XRef")) + len(b"stream\n")
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


def _signed_ranges(pdf: bytes) -> list[int]:
    """Offsets of every byte the signature's digest covers: both /ByteRange ranges, not /Contents."""
    (found,) = re.findall(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf)
    start1, len1, start2, len2 = map(int, found)
    assert start1 == 0 and start2 + len2 == len(pdf), "the signature should cover the whole file"
    assert pdf[start1 + len1 : start1 + len1 + 1] == b"<" and pdf[start2 - 1 : start2] == b">"
    return [*range(start1, start1 + len1), *range(start2, start2 + len2)]


def summary_problems(data: dict[str, Any]) -> set[str]:
    """Every problem code of an /api/v1/verify answer: the document's and each signature's."""
    return set(data["problems"]) | {p for sig in data["signatures"] for p in sig["problems"]}


def test_randomly_corrupted_pdfs_are_never_valid_and_never_raise(make_api) -> None:  # type: ignore[no-untyped-def]
    """Changing any signed byte (or cutting the file short) must void the signature, never crash the check."""
    api = make_api(verify_burst_per_ip=1000, verify_per_minute_per_ip=1e6)
    signed = sign_pdf(render_result_pdf(["Bản sao điện tử"]), api.services.signing_key("operator"), level="B-B")
    verifier, rng = api.client.app.state.verifier, random.Random(1)
    original = summary(verifier.verify(signed))
    assert original["valid"] and not original["problems"], original  # else "not valid" below proves nothing
    positions, seen = _signed_ranges(signed), Counter[str]()
    for n in range(300):
        corrupt = bytearray(signed)
        for at in rng.sample(positions, rng.randint(1, 4)):
            corrupt[at] = (corrupt[at] + rng.randrange(1, 256)) % 256  # always a real change
        if rng.random() < 0.3:
            corrupt = corrupt[: rng.randrange(len(corrupt))]
        report = summary(verifier.verify(bytes(corrupt)))
        assert not report["valid"] and report["problems"], (n, report)
        seen.update(report["problems"])
        if n % 10 == 0:  # and through the public endpoint: a report, never a server error
            r = api.client.post("/api/v1/verify", content=bytes(corrupt), headers={"Content-Type": "application/pdf"})
            assert r.status_code == 200, (n, r.status_code, r.text[:200])
            assert r.json()["valid"] is False and summary_problems(r.json()) == set(report["problems"]), n
    # Both ways of failing are reached: unparseable files, and parseable ones whose digest no longer matches.
    assert seen["pdf_invalid"] >= 30 and seen["integrity_broken"] >= 30, seen


def test_a_pdf_whose_check_overruns_is_reported_too_complex_and_the_service_goes_on(make_api) -> None:  # type: ignore[no-untyped-def]
    """Uploaded PDFs are checked in a child process that is killed at the time limit: a verdict, not a hung thread."""
    api = make_api(verify_timeout_s=0.001)  # nothing verifies in a millisecond: as a file crafted to loop
    signed = sign_pdf(render_result_pdf(["Bản sao điện tử"]), api.services.signing_key("operator"), level="B-B")
    r = api.client.post("/api/v1/verify", content=signed, headers={"Content-Type": "application/pdf"})
    assert r.status_code == 200 and r.json()["valid"] is False and r.json()["problems"] == ["pdf_too_complex"]
    page = api.client.post("/kiem-tra", files={"tep": ("x.pdf", signed, "application/pdf")})
    assert page.status_code == 200 and "quá phức tạp để kiểm tra" in page.text
    sandbox = api.client.app.state.verifier._sandbox
    sandbox.timeout_s = 60
    r = api.client.post("/api/v1/verify", content=signed, headers={"Content-Type": "application/pdf"})
    assert r.status_code == 200 and r.json()["valid"] is True  # a fresh child took the killed one's place
    threads = api.client.app.state.verify_threads
    holders = [object() for _ in range(int(threads.total_tokens))]
    for holder in holders:  # every verification thread taken, as by uploads waiting for a sandbox process
        api.client.portal.call(threads.acquire_on_behalf_of, holder)
    try:
        busy = api.client.post("/api/v1/verify", content=signed, headers={"Content-Type": "application/pdf"})
        assert busy.status_code == 503 and busy.json()["detail"]["code"] == "VERIFY_BUSY"
        page = api.client.post("/kiem-tra", files={"tep": ("x.pdf", signed, "application/pdf")})
        assert page.status_code == 503 and "thử lại sau" in page.text and page.headers["retry-after"] == "60"
        assert api.client.get("/tra-cuu").status_code == 200  # the rest of the service is not held up
    finally:
        for holder in holders:
            api.client.portal.call(threads.release_on_behalf_of, holder)


def test_a_manifest_nested_too_deeply_is_refused_with_a_code(api: Api) -> None:
    """A zip whose manifest is 200,000 brackets deep, and the same as a multipart field: 4xx, never 500."""
    import io
    import zipfile

    deep = b"[" * 200_000 + b"]" * 200_000
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", deep)
    as_zip = api.client.post(
        "/api/v1/batches", content=buf.getvalue(), headers=api.station | {"Content-Type": "application/zip"}
    )
    assert as_zip.status_code == 422 and as_zip.json()["detail"]["code"] == "MANIFEST_INVALID", as_zip.text
    as_field = api.client.post("/api/v1/batches", data={"manifest": deep.decode()}, headers=api.station)
    assert 400 <= as_field.status_code < 500, as_field.text
