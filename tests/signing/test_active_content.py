"""Active content anywhere in a PDF is found, and harmless navigation is not (a hostile-PDF corpus)."""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO

import pikepdf
import pytest

from signing.dev import DevPki
from signing.keys import SigningKey
from signing.signers import sign_pdf
from signing.validation import scan, verify_pdf

JS = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert('x')"))


def _pdf(change: Callable[[pikepdf.Pdf], None]) -> pikepdf.Pdf:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.add_blank_page()
    change(pdf)
    out = BytesIO()
    pdf.save(out)
    return pikepdf.open(BytesIO(out.getvalue()))


def _annotation(pdf: pikepdf.Pdf, **entries: object) -> None:
    annot = pikepdf.Dictionary(Type=pikepdf.Name.Annot, Rect=[0, 0, 10, 10], **entries)
    pdf.pages[1].obj.Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(annot)]))


def _link(action: pikepdf.Dictionary) -> Callable[[pikepdf.Pdf], None]:
    return lambda pdf: _annotation(pdf, Subtype=pikepdf.Name.Link, A=action)


def _field_action(pdf: pikepdf.Pdf) -> None:
    submit = pikepdf.Dictionary(S=pikepdf.Name.SubmitForm, F=pikepdf.String("http://example.test/thu"))
    field = pdf.make_indirect(pikepdf.Dictionary(FT=pikepdf.Name.Tx, T=pikepdf.String("ho_ten"), AA={"/K": submit}))
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=[field])


def _embedded_exe(pdf: pikepdf.Pdf) -> None:
    stream = pdf.make_stream(b"MZ\x90\x00", Type=pikepdf.Name.EmbeddedFile)
    spec = pikepdf.Dictionary(Type=pikepdf.Name.Filespec, F=pikepdf.String("huong-dan.exe"), EF={"/F": stream})
    pdf.Root.Names = pikepdf.Dictionary(EmbeddedFiles={"/Names": [pikepdf.String("huong-dan.exe"), spec]})


HOSTILE: dict[str, tuple[Callable[[pikepdf.Pdf], None], set[str]]] = {
    "page-aa-javascript": (lambda pdf: setattr(pdf.pages[1].obj, "AA", {"/O": JS}), {"javascript"}),
    "link-javascript": (_link(JS), {"javascript"}),
    "launch-cmd": (_link(pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("cmd.exe"))), {"launch"}),
    "uri-http": (_link(pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("http://x.test/"))), {"uri_insecure"}),
    "goto-remote": (
        _link(pikepdf.Dictionary(S=pikepdf.Name.GoToR, F=pikepdf.String("\\\\smb\\x.pdf"))),
        {"remote_goto"},
    ),
    "goto-embedded": (_link(pikepdf.Dictionary(S=pikepdf.Name.GoToE, NewWindow=True)), {"embedded_goto"}),
    "import-data": (_link(pikepdf.Dictionary(S=pikepdf.Name.ImportData, F=pikepdf.String("x.fdf"))), {"import_data"}),
    "next-chain": (
        _link(pikepdf.Dictionary(S=pikepdf.Name.GoTo, D=[0, pikepdf.Name.Fit], Next=[pikepdf.Dictionary(), JS])),
        {"javascript"},
    ),
    "field-submit": (_field_action, {"submit_form"}),
    "embedded-exe": (_embedded_exe, {"embedded_file"}),
    "file-attachment": (lambda pdf: _annotation(pdf, Subtype=pikepdf.Name.FileAttachment), {"embedded_file"}),
    "rich-media": (lambda pdf: _annotation(pdf, Subtype=pikepdf.Name.RichMedia), {"rich_media"}),
    "xfa": (lambda pdf: setattr(pdf.Root, "AcroForm", pikepdf.Dictionary(Fields=[], XFA=[])), {"xfa"}),
    "open-action-js": (lambda pdf: setattr(pdf.Root, "OpenAction", JS), {"javascript"}),
    "catalog-aa": (lambda pdf: setattr(pdf.Root, "AA", {"/WC": JS}), {"javascript"}),
    "names-javascript": (lambda pdf: setattr(pdf.Root, "Names", pikepdf.Dictionary(JavaScript={})), {"javascript"}),
}

HARMLESS: dict[str, Callable[[pikepdf.Pdf], None]] = {
    "plain": lambda pdf: None,
    "open-at-page-1": lambda pdf: setattr(
        pdf.Root, "OpenAction", pikepdf.Array([pdf.pages[0].obj, pikepdf.Name.XYZ, None, None, 0])
    ),
    "goto": _link(pikepdf.Dictionary(S=pikepdf.Name.GoTo, D=[0, pikepdf.Name.Fit])),
    "named-next-page": _link(pikepdf.Dictionary(S=pikepdf.Name.Named, N=pikepdf.Name.NextPage)),
    "https-link": _link(pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("https://dichvucong.gov.vn/"))),
    "mailto-link": _link(pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("mailto:motcua@hanoi.gov.vn"))),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_active_content_is_found_where_it_is(name: str) -> None:
    change, kinds = HOSTILE[name]
    with _pdf(change) as pdf:
        found = scan(pdf)
    assert {f.kind for f in found} == kinds
    assert all(f.where and f.describe_vi() for f in found)


def test_a_finding_names_its_page() -> None:
    with _pdf(HOSTILE["page-aa-javascript"][0]) as pdf:
        assert [f.describe_vi() for f in scan(pdf)] == ["mã JavaScript (trang 2)"]


@pytest.mark.parametrize("name", sorted(HARMLESS))
def test_navigation_is_not_active_content(name: str) -> None:
    with _pdf(HARMLESS[name]) as pdf:
        assert scan(pdf) == []


def _signed_with_page_script(key: SigningKey) -> bytes:
    with _pdf(HOSTILE["page-aa-javascript"][0]) as pdf:
        out = BytesIO()
        pdf.save(out)
    return sign_pdf(out.getvalue(), key)


def test_verification_warns_of_active_content_beside_a_valid_signature(pki: DevPki, agency_key: SigningKey) -> None:
    report = verify_pdf(_signed_with_page_script(agency_key), [pki.root_cert])
    assert report.valid  # the signature is fine; the file still deserves a warning
    assert "active_content" in report.warnings
    assert report.to_dict()["active_content"] == [{"kind": "javascript", "where": "trang 2"}]
    assert "⚠ Tệp chứa nội dung có thể tự chạy hoặc kết nối ra ngoài: mã JavaScript (trang 2)" in report.render()
    assert "javascript (trang 2)" in report.render("en")

    with _pdf(HARMLESS["https-link"]) as pdf:
        out = BytesIO()
        pdf.save(out)
    clean = verify_pdf(sign_pdf(out.getvalue(), agency_key), [pki.root_cert])
    assert clean.active_content == [] and "active_content" not in clean.warnings
