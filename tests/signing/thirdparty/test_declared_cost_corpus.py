"""No file of the third-party corpus (38 producers' shapes, signed ones included) passes a declared-cost bound."""

from __future__ import annotations

from signing.validation.declared_cost import declared_cost
from testkit.thirdparty_corpus import CorpusFile


def test_no_corpus_file_is_refused_as_too_costly(thirdparty_corpus: list[CorpusFile]) -> None:
    for item in thirdparty_corpus:
        assert declared_cost(item.path.read_bytes()).excess() is None, item.name
