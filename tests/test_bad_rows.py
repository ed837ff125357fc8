"""One bad row never costs the run: it is reported and skipped, or repaired with a note.

These run the real command in a subprocess, so standard input, argv and standard output
carry raw bytes exactly as a shell gives them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPLACED = "invalid characters replaced by U+FFFD"


def bounce_ml(*args: str | bytes, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    """Run ``bounce-ml`` with raw bytes in, raw bytes out."""
    command = [sys.executable, "-c", "from bounce_ml.cli import app; app()", *args]
    return subprocess.run(command, input=stdin, capture_output=True, check=False, timeout=120)


def jsonl(data: bytes) -> list[dict]:
    return [json.loads(line) for line in data.decode("utf-8").splitlines()]


def test_lone_surrogate_in_a_jsonl_row_is_replaced_with_a_note(tmp_path: Path) -> None:
    source = tmp_path / "rows.jsonl"
    source.write_text(
        '{"text": "550 5.1.1 user unknown"}\n'
        '{"text": "552 mailbox full \\udc80"}\n'
        '{"text": "421 4.7.0 try again later"}\n',
        encoding="utf-8",
    )
    for fmt in ("jsonl", "csv", "json", "table"):
        result = bounce_ml("predict", "-i", str(source), "-f", fmt)
        assert result.returncode == 0, result.stderr
        text = result.stdout.decode("utf-8")  # valid UTF-8, or this raises
        assert "552 mailbox full \ufffd" in text and "421 4.7.0" in text
    output = tmp_path / "out.jsonl"
    result = bounce_ml("predict", "-i", str(source), "-o", str(output))
    assert result.returncode == 0, result.stderr
    rows = jsonl(output.read_bytes())
    assert [row["index"] for row in rows] == [1, 2, 3]
    assert rows[1]["note"] == REPLACED and rows[0]["note"] is None


def test_invalid_utf8_in_argv_and_on_stdin_gives_valid_utf8_output() -> None:
    result = bounce_ml("predict", "-f", "jsonl", b"550 5.1.1 user unknown \xff\xfe")
    assert result.returncode == 0, result.stderr
    [row] = jsonl(result.stdout)
    assert row["text"] == "550 5.1.1 user unknown \ufffd\ufffd" and row["note"] == REPLACED

    result = bounce_ml("predict", "-f", "jsonl", stdin=b"552 mailbox full \xff\n421 try later\n")
    assert result.returncode == 0, result.stderr
    rows = jsonl(result.stdout)
    assert [row["text"] for row in rows] == ["552 mailbox full \ufffd", "421 try later"]
    assert [row["note"] for row in rows] == [REPLACED, None]


def test_a_file_name_that_is_not_utf8_is_written_replaced(tmp_path: Path) -> None:
    folder = os.fsencode(tmp_path / "mail")
    os.mkdir(folder)
    fixture = Path(__file__).parent / "fixtures" / "emails" / "postfix_dsn_user_unknown.eml"
    with open(os.path.join(folder, b"caf\xe9.eml"), "wb") as handle:
        handle.write(fixture.read_bytes())
    result = bounce_ml("predict", "-i", folder, "-f", "csv")
    assert result.returncode == 0, result.stderr
    assert "caf\ufffd.eml" in result.stdout.decode("utf-8")
