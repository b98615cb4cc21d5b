"""Log forging: whatever a client sends, one log record is one line, in text and in JSON."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from sohoa.logging_setup import log_context, setup_logging

FORGED = "X-KQ1\n2026-12-01 09:00:00,000 INFO api.routes_portal citizen lookup passed: result=X-KQ1"
HOSTILE = FORGED + "\r\x1b[2J\x00\x85\u2028\u2029 Tiếng Việt"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.parametrize("json_lines", [False, True])
def test_control_characters_in_messages_args_and_context_are_escaped(
    json_lines: bool, capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    setup_logging(json_lines=json_lines)
    log = logging.getLogger("api.routes_portal")
    with log_context(dossier=HOSTILE):
        log.warning("citizen lookup failed: result=%s client=%s", HOSTILE, "abc")
        log.warning(f"an f-string with the code in it: {HOSTILE}")  # the message itself too
    lines = capsys.readouterr().err.splitlines()  # splitlines also breaks at \r, \x1c-\x1e, \x85, \u2028, \u2029
    assert len(lines) == 2, lines
    for line in lines:
        text = json.loads(line)["msg"] if json_lines else line
        assert "\\n2026-12-01 09:00:00,000 INFO" in text and "\\r\\x1b[2J\\x00\\x85\\u2028\\u2029" in text
        assert "Tiếng Việt" in line  # letters with diacritics stay as they are
    if json_lines:
        record = json.loads(lines[0])
        assert record["msg"].startswith("citizen lookup failed: result=X-KQ1\\n2026")  # no real line feed left
        assert record["dossier"].startswith("X-KQ1\\n2026") and record["msg"].endswith("client=abc")
    else:
        assert lines[0].endswith("client=abc dossier=" + lines[0].split("dossier=")[1])
        assert "dossier=X-KQ1\\n2026" in lines[0]


def test_a_traceback_keeps_its_lines(capsys: pytest.CaptureFixture[str], restore_logging: None) -> None:
    setup_logging()
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("t").exception("failed for %s", "a\nb")
    err = capsys.readouterr().err
    assert "failed for a\\nb" in err and "Traceback (most recent call last):\n" in err


def test_id_numbers_in_access_lines_are_masked(capsys: pytest.CaptureFixture[str], restore_logging: None) -> None:
    setup_logging()
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", "/api/v1/search?owner=001090012345&q=an", "1.1", 200
    )
    err = capsys.readouterr().err
    assert "001090012345" not in err and "owner=*********345&q=an" in err
