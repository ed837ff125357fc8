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

import typer

from bounce_ml.cli import app
from bounce_ml.mail.readers import iter_records
from bounce_ml.mail.records import BounceRecord

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


# 11. A broken CSV row costs exactly its own lines, and the problem says which.


def _outline(path: Path) -> list[tuple[str, int | None, str]]:
    return [
        ("record", item.index, item.text)
        if isinstance(item, BounceRecord)
        else ("problem", item.index, item.reason)
        for item in iter_records(path)
    ]


def test_csv_field_over_the_limit_loses_only_its_own_row(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    big = "x\n" * 70_000  # 140,000 characters with newlines: over the csv module's limit
    path.write_text(
        f'id,text\n1,550 user unknown\n2,"{big}"\n3,552 mailbox full\n4,421 try later\n',
        encoding="utf-8",
    )
    assert _outline(path) == [
        ("record", 2, "550 user unknown"),
        ("problem", 3, "row longer than 131072 characters; lines 3-70003 (70001 lines) skipped"),
        ("record", 70004, "552 mailbox full"),
        ("record", 70005, "421 try later"),
    ]


def test_csv_quote_never_closed_reports_every_line_it_swallows(tmp_path: Path) -> None:
    path = tmp_path / "open.csv"
    rest = "".join(f"{n},421 try later {n}\n" for n in range(3, 103))
    path.write_text(f'id,text\n1,550 user unknown\n2,"552 mailbox full\n{rest}', encoding="utf-8")
    assert _outline(path) == [
        ("record", 2, "550 user unknown"),
        (
            "problem",
            3,
            "quote opened on this line is never closed; lines 3-103 (101 lines) skipped",
        ),
    ]


def test_csv_stray_quote_closed_rows_later_does_not_merge_rows(tmp_path: Path) -> None:
    path = tmp_path / "stray.csv"
    path.write_text(
        'id,text\n1,"550 user unknown\n2,552 mailbox full\n3,"421 try later"\n4,554 spam\n',
        encoding="utf-8",
    )
    outline = _outline(path)
    assert outline[0][:2] == ("problem", 2) and "lines 2-4 (3 lines) skipped" in outline[0][2]
    assert outline[1:] == [("record", 5, "554 spam")]


def test_summary_counts_lines_lost_in_a_broken_csv(tmp_path: Path) -> None:
    path = tmp_path / "open.csv"
    path.write_text('text\n"550 user unknown\n552 full\n421 later\n', encoding="utf-8")
    result = bounce_ml("predict", "-i", str(path))
    assert result.returncode == 1
    assert b"lines 2-4 (3 lines) skipped" in result.stderr


# 14. Repeated problems are one line with a count; -q does what its help says.


def test_jsonl_with_the_wrong_field_name_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "wrong.jsonl"
    path.write_text("".join('{"message": "550 user unknown"}\n' for _ in range(5000)))
    result = bounce_ml("predict", "-i", str(path))
    assert result.returncode == 1
    lines = result.stderr.decode("utf-8").splitlines()
    assert lines == [
        f"bounce-ml: skipped 5000 items of {path} (at 1, 2, 3, ...): "
        "no field 'text'; fields found: message",
        "bounce-ml: 0 classified (); 5000 unreadable",
    ]


def test_quiet_prints_only_a_count_of_what_was_skipped(tmp_path: Path) -> None:
    path = tmp_path / "some.jsonl"
    path.write_text('{"text": "550 user unknown"}\nnot json\n{"message": "x"}\n')
    result = bounce_ml("predict", "-i", str(path), "-q", "-f", "jsonl")
    assert result.returncode == 0
    assert result.stderr.decode("utf-8").splitlines() == [
        "bounce-ml: 2 unreadable items skipped (run without --quiet for details)"
    ]
    clean = tmp_path / "clean.jsonl"
    clean.write_text('{"text": "550 user unknown"}\n')
    assert bounce_ml("predict", "-i", str(clean), "-q").stderr == b""
    predict = typer.main.get_command(app).commands["predict"]  # type: ignore[attr-defined]
    [quiet] = [param for param in predict.params if param.name == "quiet"]
    assert quiet.help.endswith("only a count of skipped items, if any.")
