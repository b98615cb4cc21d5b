"""Bench inputs (generated e-results and a scanned dossier) and independent validation helpers."""

from __future__ import annotations

import io
import random
import shutil
import subprocess
from pathlib import Path

import pikepdf
from PIL import Image, ImageDraw, ImageFilter

LINES = [
    "CONG HOA XA HOI CHU NGHIA VIET NAM",
    "Doc lap - Tu do - Hanh phuc",
    "GIAY XAC NHAN THONG TIN VE CU TRU",
    "Ma ho so: 000.00.12.H26-250301-0001   Ma thu tuc: 1.001193",
    "So dinh danh ca nhan: 001085012345",
]


def e_result(pages: int, *, seed: int = 0) -> bytes:
    """A generated e-result: text pages plus a small raster (logo), object streams, compressed."""
    rng = random.Random(seed)
    pdf = pikepdf.new()
    font = pdf.make_indirect(
        pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica)
    )
    logo = Image.new("RGB", (120, 120), "white")
    ImageDraw.Draw(logo).ellipse((5, 5, 115, 115), outline=(200, 0, 0), width=6)
    raw = io.BytesIO()
    logo.save(raw, format="JPEG", quality=80)
    image = pdf.make_stream(
        raw.getvalue(),
        Type=pikepdf.Name.XObject,
        Subtype=pikepdf.Name.Image,
        Width=120,
        Height=120,
        ColorSpace=pikepdf.Name.DeviceRGB,
        BitsPerComponent=8,
        Filter=pikepdf.Name.DCTDecode,
    )
    for n in range(1, pages + 1):
        body = [b"BT /F1 11 Tf 72 770 Td 14 TL"]
        for i in range(40):
            text = LINES[i % len(LINES)] + f" - trang {n} dong {i} - {rng.randrange(10**9)}"
            body.append(b"(" + text.encode("ascii") + b") '")
        body.append(b"ET q 60 0 0 60 470 740 cm /Im0 Do Q")
        page = pikepdf.Page(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Page,
                MediaBox=[0, 0, 595, 842],
                Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font), XObject=pikepdf.Dictionary(Im0=image)),
                Contents=pdf.make_stream(b"\n".join(body)),
            )
        )
        pdf.pages.append(page)
    pdf.docinfo["/Title"] = "Ket qua giai quyet thu tuc hanh chinh"
    out = io.BytesIO()
    pdf.save(out, compress_streams=True, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out.getvalue()


def _scan_jpeg(seed: int, target_bytes: int) -> bytes:
    """A noisy A4 greyscale-on-colour 'scan' at 200 dpi, JPEG quality tuned towards ``target_bytes``."""
    rng = random.Random(seed)
    w, h = 1654, 2339
    noise = Image.effect_noise((w, h), 64).convert("RGB")
    draw = ImageDraw.Draw(noise)
    for y in range(150, h - 150, 40):
        draw.line((120, y, 120 + rng.randrange(600, 1400), y), fill=(20, 20, 20), width=6)
    img = noise.filter(ImageFilter.GaussianBlur(0.6))
    quality = 92
    while True:
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=quality)
        if buf.tell() <= target_bytes * 1.15 or quality <= 40:
            return buf.getvalue()
        quality -= 8


def scanned_dossier(path: Path, *, pages: int = 200, page_bytes: int = 760_000) -> int:
    """Write a ~150 MB dossier of ``pages`` distinct scanned pages to ``path``; returns its size."""
    bases = [_scan_jpeg(seed, page_bytes) for seed in range(4)]
    pdf = pikepdf.new()
    for n in range(pages):
        base = bases[n % len(bases)]
        comment = f"sohoa bench page {n}".encode("ascii")
        jpeg = base[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + base[2:]
        image = pdf.make_stream(
            jpeg,
            Type=pikepdf.Name.XObject,
            Subtype=pikepdf.Name.Image,
            Width=1654,
            Height=2339,
            ColorSpace=pikepdf.Name.DeviceRGB,
            BitsPerComponent=8,
            Filter=pikepdf.Name.DCTDecode,
        )
        page = pikepdf.Page(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Page,
                MediaBox=[0, 0, 595.44, 842.04],
                Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image)),
                Contents=pdf.make_stream(b"q 595.44 0 0 842.04 0 0 cm /Im0 Do Q"),
            )
        )
        pdf.pages.append(page)
    pdf.save(path)
    return path.stat().st_size


class Pdfsig:
    """poppler's pdfsig with an NSS database trusting the given roots/CAs."""

    def __init__(self, workdir: Path, certs: list[Path]):
        if shutil.which("pdfsig") is None or shutil.which("certutil") is None:
            raise RuntimeError("pdfsig/certutil missing: apt-get install poppler-utils libnss3-tools")
        self.db = workdir / "nssdb"
        shutil.rmtree(self.db, ignore_errors=True)
        self.db.mkdir(parents=True)
        self.workdir = workdir
        subprocess.run(
            ["certutil", "-N", "-d", f"sql:{self.db}", "--empty-password"], check=True, stdin=subprocess.DEVNULL
        )
        for i, cert in enumerate(certs):
            subprocess.run(
                ["certutil", "-A", "-d", f"sql:{self.db}", "-n", f"c{i}", "-t", "CT,C,C", "-i", str(cert)],
                check=True,
                stdin=subprocess.DEVNULL,
            )
        self._n = 0

    def valid_count(self, pdf: bytes | Path) -> tuple[int, int, str]:
        """(signatures pdfsig finds valid+trusted, signatures found, raw output)."""
        if isinstance(pdf, bytes):
            self._n += 1
            path = self.workdir / f"pdfsig-{self._n}.pdf"
            path.write_bytes(pdf)
        else:
            path = pdf
        proc = subprocess.run(
            ["pdfsig", "-nssdir", f"sql:{self.db}", str(path)],
            capture_output=True,
            text=True,
            timeout=300,
            stdin=subprocess.DEVNULL,
        )
        out = proc.stdout + proc.stderr
        if isinstance(pdf, bytes):
            path.unlink()
        valid = min(out.count("Signature is Valid."), out.count("Certificate is Trusted."))
        return valid, out.count("Signature #"), out
