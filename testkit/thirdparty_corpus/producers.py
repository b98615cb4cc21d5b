"""Corpus files written by real third-party producers run as subprocesses (Ghostscript, cairo via
poppler's pdftocairo, LibreOffice, qpdf) or as libraries (pikepdf, Pillow).

A missing producer is an error, never a silent skip: a corpus that quietly shrinks would let a
signer regression on that producer's files pass unnoticed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pikepdf
from PIL import Image, ImageDraw

# Ghostscript and qpdf honour these for reproducible dates (and qpdf for a reproducible /ID).
ENV = {**os.environ, "SOURCE_DATE_EPOCH": "1704067200", "TZ": "UTC", "LC_ALL": "C.UTF-8"}


class ProducerMissing(RuntimeError):
    """A producer program the corpus needs is not installed (the message names the Debian package)."""


def require(program: str, package: str) -> str:
    path = shutil.which(program)
    if path is None:
        raise ProducerMissing(f"{program} is not installed: apt-get install {package} (see scripts/system-deps.sh)")
    return path


def run(args: list[str], *, cwd: Path | None = None, timeout: float = 120) -> None:
    proc = subprocess.run(args, cwd=cwd, env=ENV, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise RuntimeError(f"{args[0]} failed ({proc.returncode}): {proc.stderr.decode(errors='replace')[-2000:]}")


# -- Ghostscript -----------------------------------------------------------------------------

_PS_PROLOGUE = b"%!PS-Adobe-3.0\n/Helvetica findfont 16 scalefont setfont\n"

# Four pages whose text runs in four directions: pdfwrite's auto-rotation writes /Rotate 0/90/180/270.
_PS_ROTATE = (
    _PS_PROLOGUE
    + b"""
0 1 3 {
  /i exch def
  gsave
  i 0 eq { 72 720 translate } if
  i 1 eq { 200 100 translate 90 rotate } if
  i 2 eq { 520 120 translate 180 rotate } if
  i 3 eq { 400 740 translate 270 rotate } if
  0 0 moveto (Ghostscript pdfwrite: text turned ) show i 90 mul 3 string cvs show
  0 -24 moveto (Ho so so hoa - ban sao dien tu) show
  0 -48 moveto (Mot dong nua de xac dinh huong trang) show
  0 -72 moveto (Dong thu tu cung cung huong) show
  grestore
  0.2 0.4 0.8 setrgbcolor 100 300 200 150 rectfill
  0.8 0.1 0.1 setrgbcolor 30 30 40 40 rectfill
  0 setgray 4 setlinewidth 20 20 555 802 rectstroke
  showpage
} for
"""
)

_PS_MANY = (
    _PS_PROLOGUE
    + b"""
1 1 200 {
  /n exch def
  72 760 moveto (Trang so ) show n 4 string cvs show ( / 200) show
  0.1 0.3 0.7 setrgbcolor 72 n 3 mul 100 add 120 24 rectfill 0 setgray
  3 setlinewidth 20 20 555 802 rectstroke
  showpage
} for
"""
)

_PS_PDFA = (
    _PS_PROLOGUE
    + b"""
1 1 2 {
  /n exch def
  72 760 moveto (PDF/A-2b tu Ghostscript, trang ) show n 2 string cvs show
  72 730 moveto (Luu tru lau dai ho so so hoa) show
  0.9 0.2 0.2 setrgbcolor 72 500 150 100 rectfill
  0.2 0.7 0.3 setrgbcolor 300 400 100 100 0 360 arc fill 0 setgray
  showpage
} for
"""
)


def _pdfa_def(icc: Path) -> bytes:
    """The PDFA_def.ps Ghostscript documents: an sRGB OutputIntent for PDF/A."""
    return b"""%%!PS
[ /Title (Ho so so hoa PDF/A-2b) /DOCINFO pdfmark
[/_objdef {icc_PDFA} /type /stream /OBJ pdfmark
[{icc_PDFA} << /N 3 >> /PUT pdfmark
[{icc_PDFA} (%s) (r) file /PUT pdfmark
[/_objdef {OutputIntent_PDFA} /type /dict /OBJ pdfmark
[{OutputIntent_PDFA} << /Type /OutputIntent /S /GTS_PDFA1 /DestOutputProfile {icc_PDFA}
  /OutputConditionIdentifier (sRGB) >> /PUT pdfmark
[{Catalog} << /OutputIntents [ {OutputIntent_PDFA} ] >> /PUT pdfmark
""" % str(icc).encode()


def _srgb_icc() -> Path:
    for pattern in ("/usr/share/ghostscript/*/iccprofiles/srgb.icc", "/usr/share/color/icc/ghostscript/srgb.icc"):
        found = sorted(Path("/").glob(pattern.lstrip("/")))
        if found:
            return found[-1]
    raise ProducerMissing("Ghostscript's srgb.icc not found: apt-get install ghostscript")


def ghostscript(kind: str, out: Path, *, source: Path | None = None) -> None:
    """``kind``: rotate | many | pdfa | redistill (rewrite ``source``, as print-to-PDF pipelines do)."""
    gs = require("gs", "ghostscript")
    base = [gs, "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=pdfwrite", f"-sOutputFile={out}"]
    with tempfile.TemporaryDirectory() as tmp:
        program = Path(tmp) / "doc.ps"
        if kind == "rotate":
            program.write_bytes(_PS_ROTATE)
            run([*base, "-dAutoRotatePages=/PageByPage", str(program)])
        elif kind == "many":
            program.write_bytes(_PS_MANY)
            run([*base, str(program)])
        elif kind == "pdfa":
            icc = _srgb_icc()
            definition = Path(tmp) / "pdfa_def.ps"
            definition.write_bytes(_pdfa_def(icc))
            program.write_bytes(_PS_PDFA)
            pdfa = ["-dPDFA=2", "-dPDFACompatibilityPolicy=1", "-sColorConversionStrategy=RGB"]
            run([*base, f"--permit-file-read={icc}", *pdfa, str(definition), str(program)])
        elif kind == "redistill":
            assert source is not None
            run([*base, "-dCompatibilityLevel=1.4", str(source)])
        else:
            raise ValueError(kind)


# -- cairo -----------------------------------------------------------------------------------


def cairo(source: Path, out: Path) -> None:
    """poppler's pdftocairo -pdf: cairo's PDF surface writes the pages anew (subset fonts, no /Rotate)."""
    run([require("pdftocairo", "poppler-utils"), "-pdf", str(source), str(out)])


# -- LibreOffice -----------------------------------------------------------------------------

_FODT = """<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
 xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
 office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.text">
<office:automatic-styles>
 <style:style style:name="PB" style:family="paragraph" style:parent-style-name="Heading_20_1">
  <style:paragraph-properties fo:break-before="page"/></style:style>
 <style:style style:name="Box" style:family="paragraph"><style:paragraph-properties fo:background-color="#cfe2f3"
  fo:border="1.5pt solid #1f4e79" fo:padding="0.2cm"/><style:text-properties fo:font-size="14pt"/></style:style>
 <style:style style:name="Cell" style:family="table-cell"><style:table-cell-properties fo:border="0.8pt solid #000000"/>
 </style:style>
</office:automatic-styles>
<office:body><office:text>
<text:h text:outline-level="1">Giấy chứng nhận quyền sử dụng đất</text:h>
<text:p text:style-name="Box">Họ và tên: Nguyễn Thị Bình. Địa chỉ: phường Ba Đình, thành phố Hà Nội.</text:p>
<text:p>Bản sao điện tử được chứng thực từ bản chính theo Nghị định 23/2015/NĐ-CP.</text:p>
<table:table table:name="HoSo"><table:table-column table:number-columns-repeated="2"/>
 <table:table-row><table:table-cell table:style-name="Cell"><text:p>Số hồ sơ</text:p></table:table-cell>
  <table:table-cell table:style-name="Cell"><text:p>HS-2024-000123</text:p></table:table-cell></table:table-row>
 <table:table-row><table:table-cell table:style-name="Cell"><text:p>Ngày tiếp nhận</text:p></table:table-cell>
  <table:table-cell table:style-name="Cell"><text:p>02/01/2024</text:p></table:table-cell></table:table-row>
</table:table>
<text:h text:style-name="PB" text:outline-level="1">Trang hai: sơ đồ thửa đất</text:h>
<text:p text:style-name="Box">Thửa đất số 45, tờ bản đồ số 12, diện tích 120,5 m².</text:p>
</office:text></office:body></office:document>
"""

_FORM_HTML = """<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>Tờ khai</title></head><body>
<h1>Tờ khai đăng ký khai sinh</h1>
<form>
<p>Họ và tên người đi khai: <input type="text" name="hoten" value="Trần Văn An" size="30"></p>
<p>Số định danh cá nhân: <input type="text" name="cccd" value="001203004567" size="20"></p>
<p>Quan hệ: <select name="quanhe"><option>Cha</option><option selected>Mẹ</option></select></p>
<p><input type="checkbox" name="camdoan" checked> Tôi cam đoan nội dung khai trên đây là đúng sự thật.</p>
</form></body></html>
"""

LO_TAGGED = 'pdf:writer_pdf_Export:{"UseTaggedPDF":{"type":"boolean","value":"true"}}'
LO_PDFA2 = 'pdf:writer_pdf_Export:{"SelectPdfVersion":{"type":"long","value":"2"}}'


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def libreoffice(kind: str, out: Path) -> None:
    """``kind``: writer | tagged | form (an HTML form imported into Writer, exported as PDF/A-2b + AcroForm)."""
    program = soffice()
    if program is None:
        raise ProducerMissing("soffice is not installed: apt-get install libreoffice-writer-nogui")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if kind == "form":
            source, infilter, target = work / "form.html", ["--infilter=HTML (StarWriter)"], LO_PDFA2
            source.write_text(_FORM_HTML, encoding="utf-8")
        else:
            source, infilter, target = work / "doc.fodt", [], (LO_TAGGED if kind == "tagged" else "pdf")
            source.write_text(_FODT, encoding="utf-8")
        # a profile of its own: no clash with another soffice of the same user, nothing left in $HOME
        profile = f"-env:UserInstallation=file://{work / 'profile'}"
        run([program, profile, "--headless", *infilter, "--convert-to", target, "--outdir", str(work), str(source)])
        shutil.move(work / (source.stem + ".pdf"), out)


# -- qpdf ------------------------------------------------------------------------------------


def qpdf(options: list[str], source: Path, out: Path) -> None:
    run([require("qpdf", "qpdf"), *options, str(source), str(out)])


# -- pikepdf ---------------------------------------------------------------------------------


def _text_field(pdf: pikepdf.Pdf, name: str, value: str, rect: list[float], page: pikepdf.Page, **extra: object):
    field = pdf.make_indirect(
        pikepdf.Dictionary(
            FT=pikepdf.Name.Tx,
            T=pikepdf.String(name),
            V=pikepdf.String(value),
            DA=pikepdf.String("/Helv 11 Tf 0 0 0.6 rg"),
            Type=pikepdf.Name.Annot,
            Subtype=pikepdf.Name.Widget,
            Rect=rect,
            F=4,
            P=page.obj,
            MK=pikepdf.Dictionary(BC=[0, 0, 0], BG=[0.93, 0.95, 1]),
            **extra,
        )
    )
    return field


def acroform(out: Path) -> None:
    """Filled text fields without appearance streams (/NeedAppearances true), a field hierarchy with
    /Kids, a checked checkbox with its appearances, a combo box: what form-filling software leaves."""
    pdf = pikepdf.new()
    helv = pdf.make_indirect(
        pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica)
    )
    content = (
        b"BT /Helv 18 Tf 60 780 Td (To khai dang ky thuong tru) Tj ET\n"
        b"BT /Helv 11 Tf 60 700 Td (Ho va ten:) Tj 0 -40 Td (So dinh danh:) Tj 0 -40 Td (Phuong:) Tj"
        b" 0 -40 Td (Thanh pho:) Tj 0 -40 Td (Cam doan:) Tj 0 -40 Td (Noi cap:) Tj ET\n"
        b"q 0.1 0.3 0.6 RG 2 w 40 40 515 760 re S Q q 0.9 0.5 0.1 rg 60 80 120 60 re f Q\n"
    )
    page = pikepdf.Page(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Page,
            MediaBox=[0, 0, 595, 842],
            Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(Helv=helv)),
            Contents=pdf.make_stream(content),
        )
    )
    pdf.pages.append(page)
    page = pdf.pages[0]
    name = _text_field(pdf, "hoten", "Nguyễn Văn An", [170, 690, 480, 712], page)
    number = _text_field(pdf, "sodinhdanh", "001203004567", [170, 650, 480, 672], page, MaxLen=12)
    parent = pdf.make_indirect(pikepdf.Dictionary(FT=pikepdf.Name.Tx, T=pikepdf.String("diachi"), Kids=[]))
    ward = _text_field(pdf, "phuong", "Ba Đình", [170, 610, 480, 632], page, Parent=parent)
    city = _text_field(pdf, "thanhpho", "Hà Nội", [170, 570, 480, 592], page, Parent=parent)
    for kid in (ward, city):
        del kid.FT
    parent.Kids = pikepdf.Array([ward, city])
    on = pdf.make_stream(b"q 0 0 0.6 rg 3 3 12 12 re f Q 0 G 1 w 0.5 0.5 17 17 re S", BBox=[0, 0, 18, 18])
    off = pdf.make_stream(b"0 G 1 w 0.5 0.5 17 17 re S", BBox=[0, 0, 18, 18])
    for xobject in (on, off):
        xobject.Type, xobject.Subtype = pikepdf.Name.XObject, pikepdf.Name.Form
    check = pdf.make_indirect(
        pikepdf.Dictionary(
            FT=pikepdf.Name.Btn,
            T=pikepdf.String("camdoan"),
            V=pikepdf.Name.Yes,
            AS=pikepdf.Name.Yes,
            Type=pikepdf.Name.Annot,
            Subtype=pikepdf.Name.Widget,
            Rect=[170, 528, 188, 546],
            F=4,
            P=page.obj,
            AP=pikepdf.Dictionary(N=pikepdf.Dictionary(Yes=on, Off=off)),
        )
    )
    combo = _text_field(pdf, "noicap", "Cục Cảnh sát QLHC về TTXH", [170, 490, 480, 512], page)
    combo.FT = pikepdf.Name.Ch
    combo.Ff = 1 << 17
    combo.Opt = pikepdf.Array([pikepdf.String("Cục Cảnh sát QLHC về TTXH"), pikepdf.String("Công an tỉnh")])
    page.obj.Annots = pikepdf.Array([name, number, ward, city, check, combo])
    pdf.Root.AcroForm = pikepdf.Dictionary(
        Fields=[name, number, parent, check, combo],
        NeedAppearances=True,
        DA=pikepdf.String("/Helv 0 Tf 0 g"),
        DR=pikepdf.Dictionary(Font=pikepdf.Dictionary(Helv=helv)),
    )
    pdf.docinfo.Producer = "pikepdf " + pikepdf.__version__
    pdf.save(out, deterministic_id=True)


# -- Pillow ----------------------------------------------------------------------------------


def pillow(out: Path) -> None:
    """Image.save(..., "PDF"): each page one JPEG image, as phone-scan apps write."""
    pages = []
    for n in (1, 2):
        image = Image.new("RGB", (595, 842), "white")
        draw = ImageDraw.Draw(image)
        draw.rectangle((20, 20, 575, 822), outline=(30, 60, 140), width=6)
        draw.rectangle((60, 120, 300, 260), fill=(200, 40, 40))
        draw.ellipse((340, 400, 540, 600), fill=(40, 150, 60))
        draw.text((60, 60), f"Anh quet tu dien thoai - trang {n}", fill="black", font_size=22)
        pages.append(image)
    pages[0].save(out, "PDF", save_all=True, append_images=pages[1:], resolution=72.0, title="Ban quet")
