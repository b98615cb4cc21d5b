"""The third-party corpus, built once per test session.

Set SOHOA_THIRDPARTY_CORPUS_DIR to keep the corpus between sessions (it is rebuilt only when the
generator changes); otherwise it goes to a session temporary directory.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from testkit.thirdparty_corpus import CorpusFile, build_corpus


@pytest.fixture(scope="session")
def thirdparty_corpus(tmp_path_factory: pytest.TempPathFactory) -> list[CorpusFile]:
    kept = os.environ.get("SOHOA_THIRDPARTY_CORPUS_DIR")
    out_dir = Path(kept) if kept else tmp_path_factory.mktemp("thirdparty-corpus")
    return build_corpus(out_dir)


@pytest.fixture(scope="session")
def thirdparty_by_name(thirdparty_corpus: list[CorpusFile]) -> dict[str, CorpusFile]:
    return {f.name: f for f in thirdparty_corpus}
