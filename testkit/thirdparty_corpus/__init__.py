"""A corpus of PDFs written by other producers, or shaped as they write them, for the signing tests and ``bench/sign``.

``build_corpus(out_dir)`` writes every file (Ghostscript, cairo, LibreOffice, qpdf, pikepdf, Pillow,
pyHanko and hand-written shapes) and returns one ``CorpusFile`` per file saying what the signer
must do with it: sign it, or refuse it with a given error code.

A build is cached in ``out_dir`` (``corpus.json``, written last) and reused while the generator
sources are unchanged and every file is still there with its recorded digest. A missing producer
fails the build; only LibreOffice may be left out, and only when ``SOHOA_CORPUS_WITHOUT_LIBREOFFICE=1``
says so explicitly (its files and the files made from them are then missing from the corpus).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import otherkey, producers, rawpdf

MANIFEST = "corpus.json"
WITHOUT_LIBREOFFICE = "SOHOA_CORPUS_WITHOUT_LIBREOFFICE"


@dataclass(frozen=True)
class CorpusFile:
    """One corpus PDF and what the signer must do with it.

    ``expect`` is "sign" or the error code of the required refusal; for "sign", a refusal with one
    of ``may_refuse`` is acceptable too (files a reader has to repair). ``extra_roots`` are the
    PEM roots of signatures already in the file, for OpenSSL, NSS and pyHanko to trust.
    """

    name: str
    path: Path
    producer: str
    shape: str
    expect: str = "sign"
    may_refuse: frozenset[str] = frozenset()
    extra_roots: tuple[Path, ...] = ()


@dataclass(frozen=True)
class _Spec:
    name: str
    producer: str
    shape: str
    make: Callable[[Path, dict[str, Path]], None]  # (output path, files built so far by name)
    expect: str = "sign"
    may_refuse: frozenset[str] = frozenset()
    needs: tuple[str, ...] = ()  # corpus files this one is made from
    other_key: bool = False  # carries a signature by the other party's key


REPAIRED = frozenset({"PDF_REPAIRED"})


def _raw(name: str) -> _Spec:
    make, shape = rawpdf.HANDWRITTEN[name]
    refusals = {
        "raw-damaged-startxref": REPAIRED,
        "raw-wrong-size": REPAIRED,
        "raw-trailing-garbage": REPAIRED,
        "raw-hybrid-xref": frozenset({"PDF_HYBRID_XREF"}),
    }.get(name, frozenset())

    def write(out: Path, _: dict[str, Path]) -> None:
        out.write_bytes(make())

    return _Spec(name, "hand-written", shape, write, may_refuse=refusals)


def _from(source: str, make: Callable[[Path, Path], None]) -> Callable[[Path, dict[str, Path]], None]:
    return lambda out, built: make(built[source], out)


_OTHER_PKI: dict[Path, otherkey.OtherPki] = {}


def _other_pki(out_dir: Path) -> otherkey.OtherPki:
    if out_dir not in _OTHER_PKI:
        _OTHER_PKI[out_dir] = otherkey.other_pki(out_dir / "other-pki")
    return _OTHER_PKI[out_dir]


def _signed(source: str, mode: str, box: tuple[int, int, int, int] | None = None):
    def make(out: Path, built: dict[str, Path]) -> None:
        otherkey.sign(_other_pki(out.parent), built[source], out, mode=mode, box=box)

    return make


def _specs() -> list[_Spec]:
    gs, lo, qp = producers.ghostscript, producers.libreoffice, producers.qpdf
    qdet = ["--deterministic-id"]
    return [
        *(_raw(name) for name in rawpdf.HANDWRITTEN),
        _Spec(
            "gs-rotate-pages",
            "ghostscript",
            "pdfwrite from PostScript, /Rotate 0/90/180/270 written on every page",
            lambda out, _: gs("rotate", out),
        ),
        _Spec(
            "gs-pdfa-2b",
            "ghostscript",
            "PDF/A-2b: sRGB OutputIntent, XMP pdfaid, embedded fonts",
            lambda out, _: gs("pdfa", out),
        ),
        _Spec("gs-200-pages", "ghostscript", "200 pages", lambda out, _: gs("many", out)),
        _Spec(
            "lo-writer",
            "libreoffice",
            "Writer document with Vietnamese text, table, 2 pages, subset TrueType",
            lambda out, _: lo("writer", out),
        ),
        _Spec(
            "lo-tagged",
            "libreoffice",
            "tagged PDF: StructTreeRoot, /StructParents, /MarkInfo, /Lang",
            lambda out, _: lo("tagged", out),
        ),
        _Spec(
            "lo-form-pdfa",
            "libreoffice",
            "PDF/A-2b with an AcroForm: filled text, combo and checkbox fields",
            lambda out, _: lo("form", out),
        ),
        _Spec(
            "gs-redistilled",
            "ghostscript",
            "LibreOffice's tagged PDF rewritten by pdfwrite at PDF 1.4",
            lambda out, built: gs("redistill", out, source=built["lo-tagged"]),
            needs=("lo-tagged",),
        ),
        _Spec(
            "cairo-landscape",
            "cairo",
            "pdftocairo of rotated pages: landscape MediaBoxes, indirect /Length",
            _from("gs-rotate-pages", producers.cairo),
            needs=("gs-rotate-pages",),
        ),
        _Spec(
            "cairo-vietnamese",
            "cairo",
            "pdftocairo of the Writer file: cairo's subset fonts, Vietnamese text",
            _from("lo-writer", producers.cairo),
            needs=("lo-writer",),
        ),
        _Spec(
            "qpdf-object-streams",
            "qpdf",
            "object streams + cross-reference stream (tagged LibreOffice file)",
            _from("lo-tagged", lambda s, o: qp([*qdet, "--object-streams=generate"], s, o)),
            needs=("lo-tagged",),
        ),
        _Spec(
            "qpdf-linearized",
            "qpdf",
            "linearized (hint stream, first-page xref) with /Rotate pages",
            _from("gs-rotate-pages", lambda s, o: qp([*qdet, "--linearize"], s, o)),
            needs=("gs-rotate-pages",),
        ),
        _Spec(
            "qpdf-linearized-objstm",
            "qpdf",
            "linearized + object streams, AcroForm PDF/A",
            _from("lo-form-pdfa", lambda s, o: qp([*qdet, "--linearize", "--object-streams=generate"], s, o)),
            needs=("lo-form-pdfa",),
        ),
        _Spec(
            "qpdf-qdf",
            "qpdf",
            "QDF mode: uncompressed, %QDF comments, one object per line group",
            _from("cairo-landscape", lambda s, o: qp([*qdet, "--qdf", "--object-streams=disable"], s, o)),
            needs=("cairo-landscape",),
        ),
        _Spec(
            "qpdf-aes256",
            "qpdf",
            "AES-256 encrypted (V=5 R=6), empty user password",
            _from("gs-rotate-pages", lambda s, o: qp(["--encrypt", "", "owner-secret", "256", "--"], s, o)),
            expect="PDF_ENCRYPTED",
            needs=("gs-rotate-pages",),
        ),
        _Spec(
            "pikepdf-acroform",
            "pikepdf",
            "AcroForm: filled fields without appearances, /NeedAppearances true, /Kids",
            lambda out, _: producers.acroform(out),
        ),
        _Spec(
            "pillow-scan",
            "pillow",
            "Image.save(..., 'PDF'): one JPEG per page, xref entry 0 with generation 65536",
            lambda out, _: producers.pillow(out),
        ),
        _Spec(
            "pyhanko-signed-other",
            "pyhanko",
            "already signed by another key: adbe.pkcs7.detached, visible widget",
            _signed("lo-writer", "pkcs7", (360, 40, 560, 110)),
            needs=("lo-writer",),
            other_key=True,
        ),
        _Spec(
            "pyhanko-lta-other",
            "pyhanko",
            "another key's PAdES B-LTA: signature TS, DSS, doc time-stamp, then one more DSS revision",
            _signed("gs-rotate-pages", "lta"),
            needs=("gs-rotate-pages",),
            other_key=True,
        ),
        _Spec(
            "pyhanko-certified-p2",
            "pyhanko",
            "certified by another key, DocMDP P=2 (form filling + signing allowed)",
            _signed("pikepdf-acroform", "certify-p2"),
            needs=("pikepdf-acroform",),
            other_key=True,
        ),
        _Spec(
            "pyhanko-certified-p1",
            "pyhanko",
            "certified by another key, DocMDP P=1 (no change allowed)",
            _signed("raw-rotate-direct", "certify-p1"),
            expect="PDF_CERTIFIED",
            needs=("raw-rotate-direct",),
            other_key=True,
        ),
        _Spec(
            "pyhanko-empty-sigfield",
            "pyhanko",
            "incremental update adding an empty visible signature field",
            _from("qpdf-object-streams", otherkey.empty_signature_field),
            needs=("qpdf-object-streams",),
        ),
    ]


def corpus_names() -> list[str]:
    """Every file's name, known without building anything (for test parametrisation)."""
    return [spec.name for spec in _specs()]


def _generator_version() -> str:
    """Digest of the generator sources: a changed generator never reuses an old corpus."""
    digest = hashlib.sha256()
    for module in (__file__, rawpdf.__file__, producers.__file__, otherkey.__file__):
        digest.update(Path(module).read_bytes())
    return digest.hexdigest()[:16]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _cached(out_dir: Path, version: str) -> list[CorpusFile] | None:
    try:
        manifest = json.loads((out_dir / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    if manifest.get("version") != version:
        return None
    files = []
    for entry in manifest["files"]:
        path = out_dir / entry["file"]
        roots = tuple(out_dir / root for root in entry["extra_roots"])
        if not path.is_file() or _sha256(path) != entry["sha256"] or not all(r.is_file() for r in roots):
            return None
        files.append(
            CorpusFile(
                entry["name"],
                path,
                entry["producer"],
                entry["shape"],
                entry["expect"],
                frozenset(entry["may_refuse"]),
                roots,
            )
        )
    return files


def build_corpus(out_dir: Path) -> list[CorpusFile]:
    """Write (or reuse) the corpus under ``out_dir``; raise ProducerMissing when a producer is absent.

    Serialised by a lock file, so parallel test processes sharing ``out_dir`` build it once."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        version = _generator_version()
        if (cached := _cached(out_dir, version)) is not None:
            return cached
        return _build(out_dir, version)


def _build(out_dir: Path, version: str) -> list[CorpusFile]:
    (out_dir / MANIFEST).unlink(missing_ok=True)
    without_lo = producers.soffice() is None and os.environ.get(WITHOUT_LIBREOFFICE) == "1"
    built: dict[str, Path] = {}
    files: list[CorpusFile] = []
    timings: dict[str, float] = {}
    for spec in _specs():
        if without_lo and (spec.producer == "libreoffice" or any(n not in built for n in spec.needs)):
            continue
        path = out_dir / f"{spec.name}.pdf"
        started = time.perf_counter()
        spec.make(path, built)
        timings[spec.name] = round(time.perf_counter() - started, 3)
        built[spec.name] = path
        roots = (_other_pki(out_dir).root_pem,) if spec.other_key else ()
        files.append(CorpusFile(spec.name, path, spec.producer, spec.shape, spec.expect, spec.may_refuse, roots))
    manifest = {
        "version": version,
        "timings_s": timings,
        "files": [
            {
                "name": f.name,
                "file": f.path.name,
                "producer": f.producer,
                "shape": f.shape,
                "expect": f.expect,
                "may_refuse": sorted(f.may_refuse),
                "extra_roots": [str(r.relative_to(out_dir)) for r in f.extra_roots],
                "sha256": _sha256(f.path),
            }
            for f in files
        ],
    }
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False))
    return files
