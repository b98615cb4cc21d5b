"""Signing never changes what a document shows, on PDFs that sohoa did not make.

Every third-party corpus file is signed as ``sohoa sign`` signs it (agency: invisible, fast path;
operator: the copy stamp, pyHanko's staged path) at B-B, B-T and B-LTA against the served test PKI
(CRL, OCSP, TSA over HTTP). Each result is judged by oracles that share no code with the signer:

* poppler renders every page before and after: identical outside the new signature's widget;
* poppler's ``pdfsig`` accepts every signature (integrity and trust);
* OpenSSL ``cms -verify`` accepts every CMS over its byte ranges (and every time-stamp token);
* pyHanko's difference analysis accepts every earlier signature;
* and ``sohoa verify`` agrees: the document is valid and our signature reaches the level asked for.

A file the signer must refuse (encrypted, certified against any change) gets its coded error.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image

from signing.signers import copy_stamp, in_blank_space, sign_pdf
from signing.timestamps import http_timestamper
from signing.validation import verify_pdf
from sohoa.errors import SohoaError
from testkit.pki import ServedPki
from testkit.servers import free_port
from testkit.thirdparty_corpus import CorpusFile, corpus_names

from . import oracles

pytestmark = pytest.mark.integration

LEVELS = ("B-B", "B-T", "B-LTA")
KEYS = ("agency", "operator")
DPI = 36


class Judge:
    """Per-file state shared by the cases of one file: its rendering before signing, its NSS db."""

    def __init__(self, served: ServedPki, work: Path) -> None:
        self.served = served
        self.work = work
        self.timestamper = http_timestamper(served.tsa_url)
        self._before: dict[str, list[Image.Image]] = {}
        self._nss: dict[str, str] = {}

    def roots(self, item: CorpusFile) -> list[Path]:
        return [self.served.root_cert, self.served.ca_cert, *item.extra_roots]

    def before(self, item: CorpusFile) -> list[Image.Image]:
        if item.name not in self._before:
            self._before[item.name] = oracles.render(item.path, self.work / "render", DPI)
        return self._before[item.name]

    def nss(self, item: CorpusFile) -> str:
        if item.name not in self._nss:
            self._nss[item.name] = oracles.make_nss_db(self.work / f"nss-{item.name}", self.roots(item))
        return self._nss[item.name]


@pytest.fixture(scope="module")
def judge(served: ServedPki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Judge]:
    yield Judge(served, tmp_path_factory.mktemp("corpus-signed"))


def _sign_as_cli(judge: Judge, item: CorpusFile, which: str, level: str) -> bytes:
    key = judge.served.key(which)
    data = item.path.read_bytes()
    appearance = None
    if which == "operator":
        appearance = in_blank_space(data, copy_stamp(key.subject_name, datetime.now().astimezone()))
    return sign_pdf(
        data,
        key,
        level=level,  # type: ignore[arg-type]
        timestamper=judge.timestamper if level != "B-B" else None,
        appearance=appearance,
    )


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("which", KEYS)
@pytest.mark.parametrize("name", corpus_names())
def test_signing_changes_nothing_but_adds_a_valid_signature(
    judge: Judge, thirdparty_by_name: dict[str, CorpusFile], name: str, which: str, level: str, tmp_path: Path
) -> None:
    item = thirdparty_by_name[name]
    if item.expect != "sign":
        with pytest.raises(SohoaError) as refused:
            _sign_as_cli(judge, item, which, level)
        assert refused.value.code == item.expect
        assert refused.value.message_vi  # a Vietnamese sentence for the officer
        return
    try:
        signed = _sign_as_cli(judge, item, which, level)
    except SohoaError as exc:
        assert exc.code in item.may_refuse, f"{name}: refused with {exc.code}: {exc.detail}"
        return
    out = tmp_path / f"{name}-{which}-{level}.pdf"
    out.write_bytes(signed)
    roots = judge.roots(item)

    problems = [f"pixels: {p}" for p in _pixel_changes(judge, item, out)]
    problems += [f"pdfsig: {p}" for p in oracles.pdfsig_failures(oracles.pdfsig_check(out, judge.nss(item)))]
    problems += [f"openssl: {p}" for p in oracles.openssl_cms_verify(signed, roots)]
    problems += [f"pyhanko: {p}" for p in oracles.pyhanko_diff_check(signed, roots)]
    assert not problems, "\n".join(problems)

    report = verify_pdf(signed, roots)
    assert report.valid, report.render("en")
    ours = report.signatures[-1]
    assert ours.level == level, report.render("en")
    earlier = len(report.signatures) - 1
    assert all(sig.intact and sig.signature_valid for sig in report.signatures[:earlier]), report.render("en")


def _pixel_changes(judge: Judge, item: CorpusFile, out: Path) -> list[str]:
    after = oracles.render(out, judge.work / "render", DPI)
    stamp = oracles.new_annotation_boxes(item.path, out)
    return oracles.pixel_diff_outside(judge.before(item), after, stamp, DPI, oracles.page_geometry(out))


def test_one_sign_command_signs_every_file_it_can_and_names_each_refusal(
    thirdparty_corpus: list[CorpusFile], tmp_path: Path
) -> None:
    """``sohoa sign`` over the whole corpus, on the embedded defaults: a refused file does not stop
    the others, each refusal is reported with its code, and the exit status says something failed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOHOA_")}
    env |= {"SOHOA_VAR_DIR": str(tmp_path / "var"), "SOHOA_API__PORT": str(free_port())}
    out_dir = tmp_path / "out"
    files = [str(item.path) for item in thirdparty_corpus]
    proc = subprocess.run(
        [sys.executable, "-m", "cli.main", "sign", *files, "--out", str(out_dir), "--level", "B-T"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    refused = {item.name: item.expect for item in thirdparty_corpus if item.expect != "sign"}
    assert refused, "the corpus must hold files the signer refuses"
    assert proc.returncode == 1, proc.stderr
    for item in thirdparty_corpus:
        target = out_dir / item.path.name
        if item.name in refused:
            assert not target.exists()
            assert f"{item.path}: LỖI {refused[item.name]}:" in proc.stderr, proc.stderr
        else:
            assert target.exists(), f"{item.name} was not signed:\n{proc.stderr}"
            assert target.read_bytes().startswith(item.path.read_bytes()[:5])
    assert "Traceback" not in proc.stderr
