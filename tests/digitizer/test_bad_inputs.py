"""Every kind of bad input gets its own error code and message in a batch; good components still complete."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from bench.corpus import templates
from bench.corpus.render import render_page, save_scan
from digitizer import DigitizeOptions, digitize_batch
from tests.digitizer.test_images import png_header_only

GOOD_TEXT = templates.plain_text(templates.birth_certificate())


def _pdf(path: Path, *, pages: int = 1, javascript: bool = False, encrypt: bool = False) -> Path:
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=(595, 842))
    if javascript:
        pdf.Root.OpenAction = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))
    pdf.save(path, **({"encryption": pikepdf.Encryption(owner="o", user="u")} if encrypt else {}))
    return path


def _tiff_cut_in_a_later_frame() -> bytes:
    """A 3-frame TIFF cut off inside its last frame's directory: the first frames open, the last has no size.

    Pillow raises ``TypeError("Missing dimensions")`` on reaching it, not one of its usual I/O errors.
    """
    frames = [Image.new("L", (200, 100), 255) for _ in range(3)]
    buf = io.BytesIO()
    frames[0].save(buf, "TIFF", save_all=True, append_images=frames[1:])
    whole = buf.getvalue()
    for cut in range(len(whole) - 1, 0, -1):
        try:
            with warnings.catch_warnings(), Image.open(io.BytesIO(whole[:cut])) as image:
                warnings.simplefilter("ignore")  # "Corrupt EXIF data": what is being made
                image.seek(image.n_frames - 1)
        except TypeError:
            return whole[:cut]
        except Exception:  # any other failure: cut further
            continue
    raise AssertionError("no cut of the TIFF gives a frame without dimensions")


@pytest.fixture(scope="module")
def batch_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("batch")
    page = render_page(templates.birth_certificate(), dpi=100)
    save_scan(page, root / "good.jpg")
    buf = io.BytesIO()
    page.image.save(buf, "JPEG", quality=80)
    (root / "truncated.jpg").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 3])
    (root / "empty.png").write_bytes(b"")
    Image.new("RGB", (400, 500), "white").save(root / "blank.png")
    (root / "notes.jpg").write_text("Đây là một tệp văn bản, không phải ảnh.", "utf-8")
    png_header_only(root / "bomb.png", 30000, 30000)
    (root / "cut-frames.tif").write_bytes(_tiff_cut_in_a_later_frame())
    _pdf(root / "script.pdf", javascript=True)
    _pdf(root / "locked.pdf", encrypt=True)
    _pdf(root / "huge.pdf", pages=500)
    (root.parent / "outside.jpg").write_bytes((root / "good.jpg").read_bytes())
    return root


CASES = {
    "good": (["good.jpg"], None),
    "truncated": (["truncated.jpg"], "IMAGE_CORRUPT"),
    "empty": (["empty.png"], "IMAGE_EMPTY"),
    "blank": (["blank.png"], "IMAGE_EMPTY"),
    "not-an-image": (["notes.jpg"], "NOT_AN_IMAGE"),
    "bomb": (["bomb.png"], "IMAGE_TOO_LARGE"),
    "tiff-cut-in-a-frame": (["cut-frames.tif"], "IMAGE_CORRUPT"),
    "javascript": (["script.pdf"], "PDF_ACTIVE_CONTENT"),
    "encrypted": (["locked.pdf"], "PDF_ENCRYPTED"),
    "500-pages": (["huge.pdf"], "TOO_MANY_PAGES"),
    "dot-dot": (["../outside.jpg"], "UNSAFE_PATH"),
    "absolute": (["/etc/passwd"], "UNSAFE_PATH"),
    "missing": (["nope.jpg"], "FILE_NOT_FOUND"),
    "good-after-bad": (["good.jpg"], None),
}


def test_each_bad_input_has_its_own_code_and_the_good_ones_complete(batch_dir: Path, fake_engine) -> None:
    engine = fake_engine([GOOD_TEXT])
    results = digitize_batch(
        [(name, files) for name, (files, _) in CASES.items()], DigitizeOptions(engine=engine), workers=2, root=batch_dir
    )
    assert [r.name for r in results] == list(CASES)
    for result, (name, (_, code)) in zip(results, CASES.items(), strict=True):
        if code is None:
            assert result.ok and result.result is not None, name
            assert result.result.doc_type == "birth_certificate"
            assert result.result.pdf.startswith(b"%PDF-")
        else:
            assert result.error is not None, name
            assert result.error.code == code, (name, result.error)
            assert result.error.message and result.error.message != result.error.message_en
            assert result.to_dict()["error"]["code"] == code
    # The 500-page PDF is refused from its page count: the engine only saw the two good pages.
    assert engine.calls == 2


def test_unexpected_crash_is_an_internal_error_not_a_batch_failure(batch_dir: Path, crashing_engine) -> None:
    results = digitize_batch([("good", ["good.jpg"])], DigitizeOptions(engine=crashing_engine), root=batch_dir)
    assert results[0].error is not None and results[0].error.code == "OCR_FAILED"
