"""The third-party corpus holds what it claims, and the oracles can both accept and fail.

The oracle self-tests use pyHanko as a stand-in signer (never our signing/ code): a correct
signature must pass every oracle, a flipped byte, a blanked page or a changed page must not.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import numpy as np
import pikepdf
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pikepdf.models import EncryptionMethod
from PIL import Image
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from testkit.thirdparty_corpus import CorpusFile, otherkey, rawpdf

from . import oracles

pytestmark = pytest.mark.integration

PRODUCERS = {"ghostscript", "cairo", "libreoffice", "qpdf", "pikepdf", "pillow", "pyhanko", "hand-written"}


def _raw_page(pdf: pikepdf.Pdf, index: int) -> pikepdf.Dictionary:
    return pdf.pages[index].obj


def _rotations(path: Path) -> list[int]:
    return [g.rotate for g in oracles.page_geometry(path)]


def _qpdf_check(path: Path) -> str:
    proc = subprocess.run(["qpdf", "--check", "--password=", str(path)], capture_output=True, text=True)
    return proc.stdout + proc.stderr


def _last_trailer(data: bytes) -> bytes:
    return data.rsplit(b"trailer", 1)[1].split(b"startxref", 1)[0]


def _highest_object(data: bytes) -> int:
    return max(int(n) for n in re.findall(rb"(?:^|[\r\n])(\d+) \d+ obj", data))


# -- the corpus ------------------------------------------------------------------------------


def test_corpus_is_large_varied_and_complete(thirdparty_corpus: list[CorpusFile]) -> None:
    assert len(thirdparty_corpus) >= 30
    names = [f.name for f in thirdparty_corpus]
    shapes = [f.shape for f in thirdparty_corpus]
    assert len(set(names)) == len(names) and len(set(shapes)) == len(shapes)
    assert {f.producer for f in thirdparty_corpus} == PRODUCERS
    assert {f.name: f.expect for f in thirdparty_corpus if f.expect != "sign"} == {
        "qpdf-aes256": "PDF_ENCRYPTED",
        "pyhanko-certified-p1": "PDF_CERTIFIED",
    }
    for f in thirdparty_corpus:
        assert f.path.read_bytes().startswith(b"%PDF-"), f.name
        assert all(root.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----") for root in f.extra_roots)


def test_every_page_renders_with_visible_content(thirdparty_corpus: list[CorpusFile], tmp_path: Path) -> None:
    for f in thirdparty_corpus:
        pages = oracles.render(f.path, tmp_path, dpi=18)
        assert len(pages) == len(oracles.page_geometry(f.path)) >= 1, f.name
        for number, page in enumerate(pages, 1):
            darkest, _ = page.getextrema()
            inked = sum(page.histogram()[:200])
            assert darkest < 100 and inked >= 20, f"{f.name} page {number} looks blank"


def _hybrid(f: CorpusFile) -> None:
    data = f.path.read_bytes()
    assert b"/XRefStm" in _last_trailer(data) and b"/Type /ObjStm" in data
    with pikepdf.open(f.path) as pdf:
        assert len(pdf.pages) == 2


def _inherited_tree(f: CorpusFile) -> None:
    with pikepdf.open(f.path, inherit_page_attributes=False) as pdf:
        for index in range(len(pdf.pages)):
            page = _raw_page(pdf, index)
            assert not {"/MediaBox", "/CropBox", "/Resources", "/Rotate"} & set(page.keys())
        assert pdf.pages[0].obj.Parent.Parent.Parent.objgen == pdf.Root.Pages.objgen  # three levels
    assert _rotations(f.path)[:2] == [90, 90]


def _rotate_direct(f: CorpusFile) -> None:
    assert _rotations(f.path) == [0, 90, 180, 270]
    with pikepdf.open(f.path, inherit_page_attributes=False) as pdf:
        assert [int(_raw_page(pdf, i).Rotate) for i in range(4)] == [0, 90, 180, 270]


def _rotate_inherited(f: CorpusFile) -> None:
    assert set(_rotations(f.path)) == {0, 90, 180, 270}
    with pikepdf.open(f.path, inherit_page_attributes=False) as pdf:
        own = [i for i in range(len(pdf.pages)) if "/Rotate" in _raw_page(pdf, i)]
        assert own == [1]  # one page overrides its node, the others inherit


def _rotate_unnormalised(f: CorpusFile) -> None:
    assert _rotations(f.path) == [270, 90, 180, 0]  # -90, 450, -180, 720 as poppler reads them


def _two_hundred_pages(f: CorpusFile) -> None:
    assert len(oracles.page_geometry(f.path)) == 200


def _gs_rotate(f: CorpusFile) -> None:
    assert _rotations(f.path) == [0, 90, 180, 270]
    with pikepdf.open(f.path, inherit_page_attributes=False) as pdf:
        assert all("/Rotate" in _raw_page(pdf, i) for i in range(len(pdf.pages)))


def _wrong_size(f: CorpusFile) -> None:
    data = f.path.read_bytes()
    size = int(re.search(rb"/Size (\d+)", _last_trailer(data))[1])  # type: ignore[index]
    assert size <= _highest_object(data)


def _damaged_startxref(f: CorpusFile) -> None:
    data = f.path.read_bytes()
    offset = int(data.rsplit(b"startxref", 1)[1].split()[0])
    assert not data[offset:].startswith(b"xref")
    assert "reconstruct" in _qpdf_check(f.path)


def _encrypted(f: CorpusFile) -> None:
    with pikepdf.open(f.path) as pdf:  # empty user password
        assert pdf.is_encrypted and pdf.encryption.R == 6 and pdf.encryption.V == 5
        assert pdf.encryption.stream_method == EncryptionMethod.aesv3 and pdf.encryption.bits == 256


def _line_endings(eol: bytes) -> Callable[[CorpusFile], None]:
    def check(f: CorpusFile) -> None:
        data = f.path.read_bytes()
        assert data.count(eol) > 50
        if eol == b"\r\n":
            assert re.search(rb"[^\r]\n", data) is None and re.search(rb"\r[^\n]", data) is None
        else:  # only "stream" may (must) be followed by CRLF
            assert data.count(b"\n") == data.count(b"stream\r\n")
        assert "No syntax or stream encoding errors" in _qpdf_check(f.path)

    return check


def _incremental(f: CorpusFile) -> None:
    data = f.path.read_bytes()
    assert data.count(b"%%EOF") == 3 and data.count(b"/Prev") == 2 and b"/Type /XRef" in data
    with pikepdf.open(f.path) as pdf:
        assert len(pdf.pages) == 3


def _pdf20(f: CorpusFile) -> None:
    data = f.path.read_bytes()
    assert data.startswith(b"%PDF-2.0") and b"/Info" not in data and b"/ID [" in data


def _catalog_extras(f: CorpusFile) -> None:
    with pikepdf.open(f.path) as pdf:
        assert pdf.Root.Extensions.ADBE.ExtensionLevel == 3
        assert "/StructTreeRoot" in pdf.Root and all("/StructParents" in p.obj for p in pdf.pages)


def _page_boxes(f: CorpusFile) -> None:
    with pikepdf.open(f.path) as pdf:
        crop, media = (list(map(float, box)) for box in (pdf.pages[0].CropBox, pdf.pages[0].MediaBox))
        assert crop[0] > media[0] and crop[2] < media[2]
        assert float(pdf.pages[1].MediaBox[0]) < 0


def _tagged(f: CorpusFile) -> None:
    with pikepdf.open(f.path) as pdf:
        assert pdf.Root.MarkInfo.Marked and "/StructTreeRoot" in pdf.Root
        assert all("/StructParents" in p.obj for p in pdf.pages)


def _acroform(f: CorpusFile) -> None:
    with pikepdf.open(f.path) as pdf:
        form = pdf.Root.AcroForm
        assert form.NeedAppearances is True
        assert str(form.Fields[0].V) == "Nguyễn Văn An" and "/AP" not in form.Fields[0]
        assert len(form.Fields[2].Kids) == 2


def _lo_form(f: CorpusFile) -> None:
    with pikepdf.open(f.path) as pdf:
        assert str(pdf.Root.AcroForm.Fields[0].V) == "Trần Văn An"
        assert b"pdfaid:part>2" in pdf.Root.Metadata.read_bytes()


def _pdfa(f: CorpusFile) -> None:
    with pikepdf.open(f.path) as pdf:
        assert re.search(rb"pdfaid:part=.2.", pdf.Root.Metadata.read_bytes())
        assert pdf.Root.OutputIntents[0].S == "/GTS_PDFA1"


def _docmdp(level: int) -> Callable[[CorpusFile], None]:
    def check(f: CorpusFile) -> None:
        with pikepdf.open(f.path) as pdf:
            reference = pdf.Root.Perms.DocMDP.Reference[0]
            assert reference.TransformMethod == "/DocMDP" and int(reference.TransformParams.P) == level
        assert oracles.openssl_cms_verify(f.path.read_bytes(), f.extra_roots) == []

    return check


def _signed_other(f: CorpusFile, tmp_path: Path) -> None:
    data = f.path.read_bytes()
    assert oracles.openssl_cms_verify(data, f.extra_roots) == []
    assert oracles.pyhanko_diff_check(data, f.extra_roots) == []
    nss = oracles.make_nss_db(tmp_path / "nss", f.extra_roots)
    results = oracles.pdfsig_check(f.path, nss)
    assert results and oracles.pdfsig_failures(results) == []
    assert all(r["supported"] for r in results) or f.name == "pyhanko-lta-other"


def _lta(f: CorpusFile, tmp_path: Path) -> None:
    _signed_other(f, tmp_path)
    assert sorted(s.timestamp for s in oracles.embedded_cms(f.path.read_bytes())) == [False, True]
    assert oracles._signature_timestamps(oracles.embedded_cms(f.path.read_bytes())[0].der)


def _data_contains(*needles: bytes) -> Callable[[CorpusFile], None]:
    def check(f: CorpusFile) -> None:
        data = f.path.read_bytes()
        assert all(n in data for n in needles), [n for n in needles if n not in data]

    return check


def _linearized(f: CorpusFile) -> None:
    with pikepdf.open(f.path) as pdf:
        assert pdf.is_linearized


def _linearized_objstm(f: CorpusFile) -> None:
    _linearized(f)
    assert b"/ObjStm" in f.path.read_bytes()


def _no_xref_table(f: CorpusFile) -> None:
    data = f.path.read_bytes()
    assert b"\nxref" not in data and b"/Predictor 12" in data


def _trailing_garbage(f: CorpusFile) -> None:
    assert f.path.read_bytes().rsplit(b"%%EOF", 1)[1].strip(b"\r\n\x00")


def _generations(f: CorpusFile) -> None:
    data = f.path.read_bytes()
    assert re.search(rb"\n\d+ [1-9] obj", data) and b"00001 f" in data


def _indirect_annots(f: CorpusFile) -> None:
    with pikepdf.open(f.path, inherit_page_attributes=False) as pdf:
        assert pdf.pages[0].obj.Annots.is_indirect and isinstance(pdf.pages[0].obj.Contents, pikepdf.Array)


def _producer(name: str) -> Callable[[CorpusFile], None]:
    def check(f: CorpusFile) -> None:
        with pikepdf.open(f.path) as pdf:
            assert name in str(pdf.docinfo.Producer)

    return check


def _cairo_fonts(f: CorpusFile) -> None:
    _producer("cairo")(f)
    with pikepdf.open(f.path) as pdf:
        fonts = pdf.pages[0].Resources.Font
        assert all("+" in str(fonts[k].BaseFont) for k in fonts)  # subset fonts, tagged ABCDEF+Name


def _empty_field(f: CorpusFile) -> None:
    with pikepdf.open(f.path) as pdf:
        fields = [x for x in pdf.Root.AcroForm.Fields if x.get("/FT") == "/Sig"]
        assert len(fields) == 1 and "/V" not in fields[0]
        assert b"/Type /ObjStm" in f.path.read_bytes() or b"/ObjStm" in f.path.read_bytes()


SHAPE_CHECKS: dict[str, Callable[..., None]] = {
    "raw-hybrid-xref": _hybrid,
    "raw-inherited-tree": _inherited_tree,
    "raw-rotate-direct": _rotate_direct,
    "raw-rotate-inherited": _rotate_inherited,
    "raw-rotate-unnormalised": _rotate_unnormalised,
    "raw-page-boxes": _page_boxes,
    "raw-pdf20": _pdf20,
    "raw-crlf": _line_endings(b"\r\n"),
    "raw-cr-only": _line_endings(b"\r"),
    "raw-wrong-size": _wrong_size,
    "raw-damaged-startxref": _damaged_startxref,
    "raw-trailing-garbage": _trailing_garbage,
    "raw-generations": _generations,
    "raw-shared-annots": _indirect_annots,
    "raw-catalog-extras": _catalog_extras,
    "raw-incremental-history": _incremental,
    "raw-predictor-xref-stream": _no_xref_table,
    "gs-rotate-pages": _gs_rotate,
    "gs-pdfa-2b": _pdfa,
    "gs-200-pages": _two_hundred_pages,
    "gs-redistilled": _data_contains(b"%PDF-1.4", b"Ghostscript"),
    "lo-writer": _producer("LibreOffice"),
    "lo-tagged": _tagged,
    "lo-form-pdfa": _lo_form,
    "cairo-landscape": _producer("cairo"),
    "cairo-vietnamese": _cairo_fonts,
    "qpdf-object-streams": _data_contains(b"/ObjStm", b"/XRef"),
    "qpdf-linearized": _linearized,
    "qpdf-linearized-objstm": _linearized_objstm,
    "qpdf-qdf": _data_contains(b"%QDF-1.0"),
    "qpdf-aes256": _encrypted,
    "pikepdf-acroform": _acroform,
    "pillow-scan": _data_contains(b"/DCTDecode", b"0000000000 65536 f"),
    "pyhanko-signed-other": _signed_other,
    "pyhanko-lta-other": _lta,
    "pyhanko-certified-p2": _docmdp(2),
    "pyhanko-certified-p1": _docmdp(1),
    "pyhanko-empty-sigfield": _empty_field,
}


def test_every_file_has_its_shape(thirdparty_corpus: list[CorpusFile], tmp_path: Path) -> None:
    assert {f.name for f in thirdparty_corpus} == set(SHAPE_CHECKS)
    for f in thirdparty_corpus:
        check = SHAPE_CHECKS[f.name]
        if check in (_signed_other, _lta):
            check(f, tmp_path / f.name)
        else:
            check(f)


def test_cached_corpus_is_reused(thirdparty_corpus: list[CorpusFile]) -> None:
    from testkit.thirdparty_corpus import build_corpus

    out_dir = thirdparty_corpus[0].path.parent
    stamps = {f.name: f.path.stat().st_mtime_ns for f in thirdparty_corpus}
    again = build_corpus(out_dir)
    assert again == thirdparty_corpus
    assert {f.name: f.path.stat().st_mtime_ns for f in again} == stamps


# -- the oracles fail when they must ---------------------------------------------------------


def _flip_inside_first_range(data: bytes) -> bytes:
    """One byte changed inside page content covered by every signature (not in /Contents)."""
    at = data.index(b"stream", 200) + 40
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def test_oracles_fail_on_a_flipped_byte(thirdparty_by_name: dict[str, CorpusFile], tmp_path: Path) -> None:
    for name in ("pyhanko-signed-other", "pyhanko-lta-other"):
        f = thirdparty_by_name[name]
        broken = _flip_inside_first_range(f.path.read_bytes())
        problems = oracles.openssl_cms_verify(broken, f.extra_roots)
        assert any("cms -verify failed" in p for p in problems), problems
        if name == "pyhanko-lta-other":
            assert any("document time-stamp" in p and "message imprint" in p for p in problems), problems
        assert any("intact=False" in p for p in oracles.pyhanko_diff_check(broken, f.extra_roots))
        path = tmp_path / f"{name}-broken.pdf"
        path.write_bytes(broken)
        results = oracles.pdfsig_check(path, oracles.make_nss_db(tmp_path / f"nss-{name}", f.extra_roots))
        assert results[0]["integrity"] == "Digest Mismatch.", results


def test_signature_time_stamp_imprint_is_checked(thirdparty_by_name: dict[str, CorpusFile], tmp_path: Path) -> None:
    f = thirdparty_by_name["pyhanko-lta-other"]
    signature = next(s for s in oracles.embedded_cms(f.path.read_bytes()) if not s.timestamp)
    ((value, token),) = oracles._signature_timestamps(signature.der)
    bundle = oracles._bundle(f.extra_roots, tmp_path)
    assert oracles._verify_token(token, value, bundle, tmp_path, "good") is None
    problem = oracles._verify_token(token, value[:-1] + bytes([value[-1] ^ 1]), bundle, tmp_path, "bad")
    assert problem and "message imprint" in problem


def test_oracles_fail_without_the_trust_anchor(thirdparty_by_name: dict[str, CorpusFile], tmp_path: Path) -> None:
    f = thirdparty_by_name["pyhanko-signed-other"]
    key = ec.derive_private_key(0x5EC0, ec.SECP256R1())
    stranger = otherkey._issue("Unrelated Root", key, None, 7, ca=True).cert.public_bytes(serialization.Encoding.PEM)
    (tmp_path / "stranger.pem").write_bytes(stranger)
    roots = [tmp_path / "stranger.pem"]
    problems = oracles.openssl_cms_verify(f.path.read_bytes(), roots)
    assert len(problems) == 1 and "certificate verify error" in problems[0], problems
    assert [p for p in oracles.pyhanko_diff_check(f.path.read_bytes(), roots) if "not trusted" in p]
    results = oracles.pdfsig_check(f.path, oracles.make_nss_db(tmp_path / "nss", roots))
    assert results[0]["integrity"] is None and results[0]["trust"], results
    assert oracles.pdfsig_failures(results, trust=False) == [] and oracles.pdfsig_failures(results)


def test_cms_layout_problems_are_reported(thirdparty_by_name: dict[str, CorpusFile]) -> None:
    data = thirdparty_by_name["pyhanko-signed-other"].path.read_bytes()
    sig = oracles.embedded_cms(data)[0]
    start = data.lower().index(sig.der.hex().encode()[:64])
    padding_at = start + 2 * len(sig.der)  # first hex digit of the zero padding
    junk = data[:padding_at] + b"ff" + data[padding_at + 2 :]
    assert oracles.embedded_cms(junk)[0].problems == ("non-zero bytes after the CMS in /Contents",)


def test_pixel_diff_reports_blank_and_changed_pages(thirdparty_by_name: dict[str, CorpusFile], tmp_path: Path) -> None:
    f = thirdparty_by_name["raw-rotate-direct"]
    geometry = oracles.page_geometry(f.path)
    before = oracles.render(f.path, tmp_path / "before")
    assert oracles.pixel_diff_outside(before, oracles.render(f.path, tmp_path / "again"), {}, 36, geometry) == []
    blank = [*before[:2], Image.new(before[2].mode, before[2].size, 255), before[3]]
    assert [p.split(":")[0] for p in oracles.pixel_diff_outside(before, blank, {}, 36, geometry)] == ["page 3"]
    assert oracles.pixel_diff_outside(before, before[:3], {}, 36, geometry) == ["page count 4 -> 3"]
    resized = [*before[:3], before[3].resize((before[3].width + 1, before[3].height))]
    assert oracles.pixel_diff_outside(before, resized, {}, 36, geometry)[0].startswith("page 4: size")
    # the whole page excluded: the blank page no longer counts
    whole = {2: [geometry[2].media]}
    assert oracles.pixel_diff_outside(before, blank, whole, 36, geometry) == []


def _squares_pdf(rotations: list[int], box: tuple[int, int, int, int]) -> bytes:
    """White pages (one per /Rotate) with one black rectangle at ``box`` in user space."""
    pdf = rawpdf.RawPdf()
    x0, y0, x1, y1 = box
    kids = []
    for i, rotate in enumerate(rotations):
        num = 10 + 2 * i
        pdf.objects[num] = b"<< /Type /Page /Parent 2 0 R /Rotate %d /Contents %d 0 R >>" % (rotate, num + 1)
        pdf.objects[num + 1] = rawpdf.Stream(b"", b"0 g %d %d %d %d re f\n" % (x0, y0, x1 - x0, y1 - y0))
        kids.append(b"%d 0 R" % num)
    pdf.objects[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    pdf.objects[2] = b"<< /Type /Pages /Kids [%s] /Count %d /MediaBox [-20 10 400 600] >>" % (
        b" ".join(kids),
        len(kids),
    )
    return pdf.write(root=1)


@pytest.mark.parametrize("rotate", [0, 90, 180, 270, -90, 450])
def test_box_to_pixels_follows_rotation(rotate: int, tmp_path: Path) -> None:
    box = (30, 400, 170, 480)
    path = tmp_path / "squares.pdf"
    path.write_bytes(_squares_pdf([rotate], box))
    (page,) = oracles.render(path, tmp_path, dpi=72)
    left, top, right, bottom = oracles.box_to_pixels(oracles.page_geometry(path)[0], box, 72, pad=0)
    ys, xs = np.nonzero(np.asarray(page) < 128)
    assert len(xs) and left <= xs.min() and xs.max() < right and top <= ys.min() and ys.max() < bottom
    assert len(xs) >= 0.9 * (right - left) * (bottom - top)


def _pyhanko_visible_signature(f: CorpusFile, out: Path, page: int, box: tuple[int, int, int, int]) -> None:
    """A stand-in signer: pyHanko with the other party's key, a visible stamp on ``page``."""
    from pyhanko.sign import fields, signers

    pki = otherkey.other_pki(out.parent / "pki")
    signer = otherkey._signer(pki, pki.signer)
    meta = signers.PdfSignatureMetadata(field_name="StandIn", subfilter=fields.SigSeedSubFilter.PADES)
    spec = fields.SigFieldSpec("StandIn", on_page=page, box=box)
    with f.path.open("rb") as data, out.open("wb") as output:
        signers.PdfSigner(meta, signer, new_field_spec=spec).sign_pdf(IncrementalPdfFileWriter(data), output=output)


@pytest.mark.parametrize("name", ["raw-rotate-direct", "raw-inherited-tree", "raw-page-boxes"])
def test_a_correct_signature_passes_every_oracle(
    name: str, thirdparty_by_name: dict[str, CorpusFile], tmp_path: Path
) -> None:
    f = thirdparty_by_name[name]
    signed = tmp_path / "signed.pdf"
    page = 1 if name != "raw-page-boxes" else 0  # rotated by 90 / inherited rotation 90 / CropBox inside
    _pyhanko_visible_signature(f, signed, page, (100, 150, 300, 230))
    roots = [signed.parent / "pki" / "other-root.pem"]
    data = signed.read_bytes()
    assert oracles.openssl_cms_verify(data, roots) == []
    assert oracles.pyhanko_diff_check(data, roots) == []
    assert oracles.pdfsig_failures(oracles.pdfsig_check(signed, oracles.make_nss_db(tmp_path / "nss", roots))) == []
    stamps = oracles.new_annotation_boxes(f.path, signed)
    assert stamps == {page: [(100.0, 150.0, 300.0, 230.0)]}
    before, after = oracles.render(f.path, tmp_path / "b"), oracles.render(signed, tmp_path / "a")
    geometry = oracles.page_geometry(signed)
    assert oracles.pixel_diff_outside(before, after, stamps, 36, geometry) == []
    unexcluded = oracles.pixel_diff_outside(before, after, {}, 36, geometry)
    assert [p.split(":")[0] for p in unexcluded] == [f"page {page + 1}"]


def test_diff_check_fails_on_a_content_change_after_signing(
    thirdparty_by_name: dict[str, CorpusFile], tmp_path: Path
) -> None:
    f = thirdparty_by_name["pyhanko-signed-other"]
    with f.path.open("rb") as data:
        writer = IncrementalPdfFileWriter(data)
        page = writer.root["/Pages"]["/Kids"][0]
        old = page.raw_get("/Contents")
        paint = writer.add_object(generic.StreamObject(stream_data=b"q 1 0 0 rg 0 0 100 100 re f Q"))
        page["/Contents"] = generic.ArrayObject([*(old if isinstance(old, generic.ArrayObject) else [old]), paint])
        writer.update_container(page)
        out = BytesIO()
        writer.write(out)
    problems = oracles.pyhanko_diff_check(out.getvalue(), f.extra_roots)
    assert any("more than FORM_FILLING" in p or "more than LTA_UPDATES" in p for p in problems), problems
