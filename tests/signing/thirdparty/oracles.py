"""Independent oracles for signed PDFs: poppler (pdftoppm, pdfinfo, pdfsig/NSS), OpenSSL and pyHanko.

None of them touches the project's signing/ code: a bug in our ASN.1, PDF writer or verifier
cannot hide behind itself here. Every check returns a list of problems; an empty list means the
oracle accepts the file.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import numpy as np
import pikepdf
from asn1crypto import cms, tsp
from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509
from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko_certvalidator import ValidationContext

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in PDF points (default user space)
PixelBox = tuple[int, int, int, int]  # left, top, right (exclusive), bottom (exclusive)


def _run(args: Sequence[str], *, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args), capture_output=True, text=True, errors="replace", timeout=timeout, stdin=subprocess.DEVNULL
    )


# -- rendering -------------------------------------------------------------------------------


def render(pdf_path: Path, out_dir: Path, dpi: int = 36, *, gray: bool = True) -> list[Image.Image]:
    """Every page through pdftoppm (the MediaBox, rotated as /Rotate says), loaded into memory.

    The MediaBox rather than the CropBox: a change hidden outside the visible area still counts.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    prefix = out_dir / pdf_path.stem
    proc = _run(["pdftoppm", "-r", str(dpi), *(["-gray"] if gray else []), str(pdf_path), str(prefix)])
    if proc.returncode != 0:
        raise RuntimeError(f"pdftoppm failed on {pdf_path.name}: {proc.stderr[-2000:]}")
    pages = sorted(out_dir.glob(f"{pdf_path.stem}-*.p[gp]m"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    images = []
    for page in pages:
        with Image.open(page) as image:
            images.append(image.copy())
        page.unlink()
    return images


@dataclass(frozen=True)
class PageGeometry:
    """What pdftoppm renders: the MediaBox (poppler's reading of it, inheritance included) and /Rotate."""

    media: Box
    rotate: int  # 0, 90, 180 or 270


def page_geometry(pdf_path: Path) -> list[PageGeometry]:
    """Per page, from poppler's pdfinfo (the renderer's own view of inherited boxes and rotation)."""
    proc = _run(["pdfinfo", "-f", "1", "-l", "1000000", "-box", str(pdf_path)])
    if proc.returncode != 0:
        raise RuntimeError(f"pdfinfo failed on {pdf_path.name}: {proc.stderr[-2000:]}")
    media: dict[int, Box] = {}
    rotate: dict[int, int] = {}
    for line in proc.stdout.splitlines():
        if m := re.match(r"Page\s+(\d+) MediaBox:\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)", line):
            media[int(m[1])] = (float(m[2]), float(m[3]), float(m[4]), float(m[5]))
        elif m := re.match(r"Page\s+(\d+) rot:\s+(-?\d+)", line):
            rotate[int(m[1])] = int(m[2]) % 360
    return [PageGeometry(media[n], rotate.get(n, 0)) for n in sorted(media)]


def box_to_pixels(geometry: PageGeometry, box: Box, dpi: int, *, pad: int = 2) -> PixelBox:
    """A user-space rectangle (an annotation's /Rect) as the pixel rectangle it covers in the render.

    pdftoppm turns the page clockwise by /Rotate; ``pad`` pixels on every side absorb anti-aliasing.
    """
    mx0, my0, mx1, my1 = geometry.media
    width, height = mx1 - mx0, my1 - my0
    scale = dpi / 72.0
    corners = []
    for x, y in ((box[0], box[1]), (box[2], box[3]), (box[0], box[3]), (box[2], box[1])):
        u, v = x - mx0, height - (y - my0)  # unrotated, origin top-left, y down
        u, v = {
            0: (u, v),
            90: (height - v, u),
            180: (width - u, height - v),
            270: (v, width - u),
        }[geometry.rotate]
        corners.append((u * scale, v * scale))
    xs, ys = [c[0] for c in corners], [c[1] for c in corners]
    return (int(min(xs)) - pad, int(min(ys)) - pad, int(max(xs)) + 1 + pad, int(max(ys)) + 1 + pad)


def pixel_diff_outside(
    before_imgs: Sequence[Image.Image],
    after_imgs: Sequence[Image.Image],
    exclude_boxes_pt: Mapping[int, Iterable[Box]],
    dpi: int,
    geometry: Sequence[PageGeometry] = (),
    *,
    tolerance: int = 0,
) -> list[str]:
    """Pages that differ outside the excluded rectangles (0-based page index -> user-space boxes,
    transformed with ``geometry`` of the signed file). A changed page count or page size is a
    difference too."""
    problems = []
    if len(before_imgs) != len(after_imgs):
        problems.append(f"page count {len(before_imgs)} -> {len(after_imgs)}")
    for index, (before, after) in enumerate(zip(before_imgs, after_imgs, strict=False)):
        if before.size != after.size or before.mode != after.mode:
            problems.append(f"page {index + 1}: size {before.size} {before.mode} -> {after.size} {after.mode}")
            continue
        changed = np.abs(np.asarray(before, dtype=np.int16) - np.asarray(after, dtype=np.int16))
        if changed.ndim == 3:
            changed = changed.max(axis=2)
        changed = changed > tolerance
        for box in exclude_boxes_pt.get(index, ()):
            left, top, right, bottom = box_to_pixels(geometry[index], box, dpi)
            changed[max(top, 0) : max(bottom, 0), max(left, 0) : max(right, 0)] = False
        if changed.any():
            ys, xs = np.nonzero(changed)
            problems.append(
                f"page {index + 1}: {len(xs)} pixels differ outside the stamp, "
                f"within x {xs.min()}..{xs.max()}, y {ys.min()}..{ys.max()} (at {dpi} dpi)"
            )
    return problems


def new_annotation_boxes(before_pdf: Path, after_pdf: Path) -> dict[int, list[Box]]:
    """The /Rect of every annotation the update added, by 0-based page: where a stamp may paint."""
    boxes: dict[int, list[Box]] = {}
    with pikepdf.open(before_pdf) as before, pikepdf.open(after_pdf) as after:
        for index, page in enumerate(after.pages):
            old = set()
            if index < len(before.pages):
                old = {a.objgen for a in before.pages[index].obj.get("/Annots", pikepdf.Array()) if a.is_indirect}
            for annot in page.obj.get("/Annots", pikepdf.Array()):
                if annot.is_indirect and annot.objgen not in old and "/Rect" in annot:
                    x0, y0, x1, y1 = (float(v) for v in annot.Rect)
                    boxes.setdefault(index, []).append((min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)))
    return boxes


# -- pdfsig (poppler + NSS) ------------------------------------------------------------------


def make_nss_db(directory: Path, ca_files: Iterable[Path]) -> str:
    """An NSS database trusting ``ca_files`` for pdfsig; returns the ``sql:`` path for -nssdir."""
    directory.mkdir(parents=True, exist_ok=True)
    db = f"sql:{directory}"
    subprocess.run(["certutil", "-N", "-d", db, "--empty-password"], check=True, capture_output=True)
    for n, cert in enumerate(ca_files):
        args = ["certutil", "-A", "-d", db, "-n", f"ca{n}-{cert.stem}", "-t", "CT,C,C", "-i", str(cert)]
        subprocess.run(args, check=True, capture_output=True)
    return db


def pdfsig_check(pdf_path: Path, nss_dir: str | Path, *, ocsp: bool = True) -> list[dict[str, object]]:
    """One dict per signed field as pdfsig reports it, with ``integrity`` and ``trust`` problems kept apart.

    Keys: number, field, signer, type, ranges, total (whole file covered), validation, certificate,
    supported (False where pdfsig cannot check the type: poppler 22 answers "Signature has not yet
    been verified." for ETSI.RFC3161 document time-stamps), integrity (problem or None), trust
    (problem or None). Leave ``ocsp`` on: poppler 22.12 with -no-ocsp answers "Unknown issue with
    Certificate or corrupted data." even for a trusted chain without any OCSP pointer.
    """
    db = str(nss_dir)
    if not db.startswith("sql:"):
        db = f"sql:{db}"
    proc = _run(["pdfsig", "-nssdir", db, *([] if ocsp else ["-no-ocsp"]), str(pdf_path)])
    if proc.returncode != 0 and "does not contain any signatures" not in proc.stdout + proc.stderr:
        return [{"number": 0, "integrity": f"pdfsig failed ({proc.returncode}): {proc.stderr[-1000:]}", "trust": None}]
    results: list[dict[str, object]] = []
    for block in re.split(r"^Signature #(?=\d+:)", proc.stdout, flags=re.M)[1:]:
        number = int(block.split(":", 1)[0])
        if "The signature form field is not signed." in block:
            continue
        fields = dict(re.findall(r"^\s+- ([^:\n]+): (.*)$", block, flags=re.M))
        ranges = [(int(a), int(b)) for a, b in re.findall(r"\[(\d+) - (\d+)\]", fields.get("Signed Ranges", ""))]
        validation = fields.get("Signature Validation", "(none)")
        certificate = fields.get("Certificate Validation", "(none)")
        supported = validation != "Signature has not yet been verified."
        results.append(
            {
                "number": number,
                "field": fields.get("Signature Field Name"),
                "signer": fields.get("Signer Certificate Common Name"),
                "type": fields.get("Signature Type"),
                "ranges": ranges,
                "total": "- Total document signed" in block,
                "validation": validation,
                "certificate": certificate,
                "supported": supported,
                "integrity": None if validation == "Signature is Valid." or not supported else validation,
                "trust": None if certificate == "Certificate is Trusted." or not supported else certificate,
            }
        )
    return results


def pdfsig_failures(results: Sequence[Mapping[str, object]], *, trust: bool = True) -> list[str]:
    """The problems in ``pdfsig_check``'s answer (integrity always, trust unless ``trust`` is False)."""
    problems = []
    for r in results:
        keys = ("integrity", "trust") if trust else ("integrity",)
        problems += [f"pdfsig #{r['number']} {r.get('field')}: {r[k]}" for k in keys if r.get(k)]
    return problems


# -- OpenSSL ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class EmbeddedCms:
    """A signature dictionary's CMS, the bytes its /ByteRange covers, and what is wrong with the layout."""

    field: str
    timestamp: bool  # /DocTimeStamp (ETSI.RFC3161): the CMS is an RFC 3161 token over the ranges
    der: bytes
    signed_data: bytes
    problems: tuple[str, ...]


def _der_length(blob: bytes) -> int:
    """The length of the DER element at the start of ``blob`` (header included)."""
    if len(blob) < 2 or blob[0] != 0x30:
        raise ValueError("the signature value does not start with a DER SEQUENCE")
    first = blob[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if count == 0 or count > 4:
        raise ValueError("indefinite or oversized DER length")
    return 2 + count + int.from_bytes(blob[2 : 2 + count], "big")


def _unhex(text: bytes) -> bytes | None:
    try:
        return bytes.fromhex(text.decode("ascii"))
    except ValueError:
        return None


def embedded_cms(pdf_bytes: bytes) -> list[EmbeddedCms]:
    """Every /Sig and /DocTimeStamp dictionary of the file (pikepdf finds them), checked byte by byte:
    /ByteRange starts at 0, leaves out exactly the <hex> of /Contents, stays inside the file; the
    CMS ends where its DER length says and only zeros follow."""
    found = []
    with pikepdf.open(BytesIO(pdf_bytes)) as pdf:
        fields = {}
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Dictionary) and obj.get("/FT") == "/Sig" and "/V" in obj:
                fields[obj.V.objgen] = str(obj.get("/T", "?"))
        for obj in pdf.objects:
            if not isinstance(obj, pikepdf.Dictionary) or "/ByteRange" not in obj or "/Contents" not in obj:
                continue
            name = fields.get(obj.objgen, f"object {obj.objgen[0]}")
            timestamp = obj.get("/Type") == "/DocTimeStamp" or obj.get("/SubFilter") == "/ETSI.RFC3161"
            a, b, c, d = (int(v) for v in obj.ByteRange)
            problems = []
            if a != 0 or b <= 0 or c <= b or d < 0 or c + d > len(pdf_bytes):
                problems.append(f"/ByteRange {[a, b, c, d]} is malformed for a {len(pdf_bytes)}-byte file")
            gap = pdf_bytes[b:c]
            contents = bytes(obj.Contents)
            if not (gap.startswith(b"<") and gap.endswith(b">")):
                problems.append("the /ByteRange gap is not exactly the <hex> string of /Contents")
            elif _unhex(gap[1:-1]) != contents:
                problems.append("the /ByteRange gap holds other bytes than /Contents")
            try:
                der = contents[: _der_length(contents)]
            except ValueError as exc:
                problems.append(str(exc))
                der = contents
            if contents[len(der) :].strip(b"\x00"):
                problems.append("non-zero bytes after the CMS in /Contents")
            signed = pdf_bytes[a : a + b] + pdf_bytes[c : c + d]
            found.append(EmbeddedCms(name, timestamp, der, signed, tuple(problems)))
    return found


def _bundle(ca_files: Iterable[Path], directory: Path) -> Path:
    bundle = directory / "bundle.pem"
    bundle.write_bytes(b"".join(Path(f).read_bytes().rstrip(b"\n") + b"\n" for f in ca_files))
    return bundle


def _signature_timestamps(der: bytes) -> list[tuple[bytes, bytes]]:
    """(signature value, RFC 3161 token) for each signer's signature-time-stamp (unsigned attribute)."""
    tokens = []
    signed_data = cms.ContentInfo.load(der)["content"]
    for signer in signed_data["signer_infos"]:
        attrs = signer["unsigned_attrs"]
        if attrs.native is None:  # absent: B-B
            continue
        for attr in attrs:
            if attr["type"].native == "signature_time_stamp_token":
                tokens += [(signer["signature"].native, token.dump()) for token in attr["values"]]
    return tokens


def _verify_token(token: bytes, data: bytes, bundle: Path, work: Path, stem: str) -> str | None:
    """An RFC 3161 token over ``data``: ``openssl cms -verify -purpose timestampsign`` (signature, chain,
    the TSA's critical timeStamping EKU), then the TSTInfo's message imprint against ``data``.

    Not ``openssl ts -verify``: it verifies through OpenSSL's PKCS7 code, which has no RSASSA-PSS.
    """
    token_file, tst_file = work / f"{stem}.der", work / f"{stem}.tst"
    token_file.write_bytes(token)
    args = ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(token_file), "-CAfile", str(bundle)]
    proc = _run([*args, "-purpose", "timestampsign", "-out", str(tst_file)])
    if proc.returncode != 0:
        return f"openssl cms -verify of the time-stamp token failed: {proc.stderr.strip()[-800:]}"
    imprint = tsp.TSTInfo.load(tst_file.read_bytes())["message_imprint"]
    algorithm = imprint["hash_algorithm"]["algorithm"].native
    if hashlib.new(algorithm, data).digest() != imprint["hashed_message"].native:
        return f"the time-stamp's message imprint ({algorithm}) is not the hash of the time-stamped bytes"
    return None


def openssl_cms_verify(pdf_bytes: bytes, ca_files: Iterable[Path]) -> list[str]:
    """OpenSSL's verdict on every CMS of the file: ``cms -verify`` over the /ByteRange bytes for
    signatures; for document time-stamps and signature time-stamp tokens (whose imprint is the hash
    of the signature value), the token's CMS and its imprint. Certificates must chain to ``ca_files``."""
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        bundle = _bundle(ca_files, work)
        for n, sig in enumerate(embedded_cms(pdf_bytes)):
            label = f"{sig.field} ({'document time-stamp' if sig.timestamp else 'signature'})"
            problems += [f"{label}: {p}" for p in sig.problems]
            if sig.timestamp:
                problem = _verify_token(sig.der, sig.signed_data, bundle, work, f"doc{n}")
                problems += [f"{label}: {problem}"] if problem else []
                continue
            cms_file, data = work / f"cms{n}.der", work / f"data{n}.bin"
            cms_file.write_bytes(sig.der)
            data.write_bytes(sig.signed_data)
            args = ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(cms_file)]
            proc = _run([*args, "-content", str(data), "-CAfile", str(bundle), "-purpose", "any", "-out", os.devnull])
            if proc.returncode != 0:
                problems.append(f"{label}: openssl cms -verify failed: {proc.stderr.strip()[-800:]}")
            try:
                stamps = _signature_timestamps(sig.der)
            except ValueError as exc:
                problems.append(f"{label}: the CMS does not parse: {exc}")
                continue
            for m, (value, token) in enumerate(stamps):
                problem = _verify_token(token, value, bundle, work, f"sigts{n}-{m}")
                problems += [f"{label}: signature time-stamp: {problem}"] if problem else []
    return problems


# -- pyHanko's difference analysis -----------------------------------------------------------


def _load_certs(paths: Iterable[Path]) -> list[asn1_x509.Certificate]:
    certs = []
    for path in paths:
        data = Path(path).read_bytes()
        if asn1_pem.detect(data):
            certs += [asn1_x509.Certificate.load(der) for _, _, der in asn1_pem.unarmor(data, multiple=True)]
        else:
            certs.append(asn1_x509.Certificate.load(data))
    return certs


def pyhanko_diff_check(pdf_bytes: bytes, trust_roots: Iterable[Path], *, strict: bool = False) -> list[str]:
    """pyHanko's validation with its DEFAULT_DIFF_POLICY: every signature and document time-stamp
    intact, valid and trusted; what follows an earlier one at most form filling (which covers
    adding signature fields), what follows the last one at most LTA updates (DSS, time-stamps)."""
    roots = _load_certs(trust_roots)
    problems = []
    reader = PdfFileReader(BytesIO(pdf_bytes), strict=strict)
    signatures = sorted(reader.embedded_signatures, key=lambda s: s.signed_revision)
    usage = KeyUsageConstraints(key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False)
    for position, sig in enumerate(signatures):
        context = ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")
        label = f"{sig.field_name} (revision {sig.signed_revision})"
        if sig.sig_object_type == "/DocTimeStamp":
            status = validate_pdf_timestamp(sig, validation_context=context, diff_policy=DEFAULT_DIFF_POLICY)
        else:
            status = validate_pdf_signature(
                sig,
                signer_validation_context=context,
                ts_validation_context=context,
                diff_policy=DEFAULT_DIFF_POLICY,
                key_usage_settings=usage,
            )
            stamp = status.timestamp_validity
            if stamp is not None and not (stamp.intact and stamp.valid and stamp.trusted):
                problems.append(f"{label}: signature time-stamp intact={stamp.intact} valid={stamp.valid}")
        if not (status.intact and status.valid):
            problems.append(f"{label}: intact={status.intact} valid={status.valid}")
        if not status.trusted:
            problems.append(f"{label}: not trusted ({status.trust_problem_indic})")
        allowed = ModificationLevel.LTA_UPDATES if position == len(signatures) - 1 else ModificationLevel.FORM_FILLING
        level = status.modification_level
        if level is None or level > allowed:
            problems.append(f"{label}: modifications after it are {level}, more than {allowed.name} allows")
        if status.docmdp_ok is False:
            problems.append(f"{label}: DocMDP permissions violated")
    return problems
