"""`bounce-ml predict --input`: bounce emails and batch files end to end, with the category."""

import json
from pathlib import Path

from typer.testing import CliRunner

from bounce_ml.cli import app
from bounce_ml.tomlfile import read_toml

runner = CliRunner()
FIXTURES = Path(__file__).parent / "fixtures"
EXPECTED = read_toml(FIXTURES / "emails" / "expected.toml")


def _jsonl(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_every_email_fixture_gets_its_recipients_status_and_category() -> None:
    result = runner.invoke(app, ["predict", "--input", str(FIXTURES / "emails"), "-f", "jsonl"])
    rows = _jsonl(result.output)
    by_file: dict[str, list[dict]] = {}
    for row in rows:
        by_file.setdefault(Path(row["source"]).name, []).append(row)
    checked = 0
    for name, want in EXPECTED.items():
        expected = [r for r in want.get("records", []) if "label" in r]
        if not expected or "known_miss" in want:  # test_emails expects those misses
            continue
        got = by_file[name]
        assert [(r["recipient"], r["status"]) for r in got] == [
            (w.get("recipient"), w.get("status")) for w in expected
        ], name
        assert [r["label"] for r in got] == [w["label"] for w in expected], name
        checked += len(expected)
    assert checked >= 150


def test_csv_input_with_text_column_and_summary(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(
        'id,reply\n1,"550 5.1.1 <a@example.com>: User unknown"\n2,"552 5.2.2 Mailbox full"\n',
        encoding="utf-8",
    )
    result = runner.invoke(
        app, ["predict", "--input", str(path), "--text-column", "reply", "-f", "jsonl"]
    )
    assert result.exit_code == 0
    assert [r["label"] for r in _jsonl(result.output)] == ["user_unknown", "mailbox_full"]
    assert "bounce-ml: 2 classified (" in result.output and "0 unreadable" in result.output


def test_broken_rows_are_skipped_and_reported_unless_strict(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text('{"text": "552 5.2.2 Mailbox full"}\nnot json\n', encoding="utf-8")
    result = runner.invoke(app, ["predict", "--input", str(path), "-f", "jsonl"])
    assert result.exit_code == 0
    assert [r["label"] for r in _jsonl(result.output)] == ["mailbox_full"]
    assert f"bounce-ml: skipped {path}:2:" in result.output
    strict = runner.invoke(app, ["predict", "--input", str(path), "-f", "jsonl", "--strict"])
    assert strict.exit_code == 1


def test_nothing_readable_exits_non_zero(tmp_path: Path) -> None:
    path = tmp_path / "junk.jsonl"
    path.write_text("not json\n{also not\n", encoding="utf-8")
    result = runner.invoke(app, ["predict", "--input", str(path)])
    assert result.exit_code == 1
    assert "0 classified" in result.output


def test_missing_text_column_names_the_file_and_column(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["predict", "--input", str(FIXTURES / "readers" / "no_text_column.csv")]
    )
    assert result.exit_code == 1
    assert "no_text_column.csv" in result.output and "text" in result.output
    assert "Traceback" not in result.output


def test_mbox_that_ends_mid_message_still_yields_what_it_can(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["predict", "--input", str(FIXTURES / "readers" / "truncated.mbox"), "-f", "jsonl"]
    )
    assert result.exit_code == 0
    rows = _jsonl(result.output)
    # three whole messages, then one cut off mid-headers: the three are kept
    assert [(row["index"], row["recipient"]) for row in rows] == [
        (0, "bob@example.org"),
        (1, "mia@example.org"),
        (2, "quinn@example.org"),
    ]


def test_folder_without_messages_says_so(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a message", encoding="utf-8")
    result = runner.invoke(app, ["predict", "--input", str(tmp_path)])
    assert result.exit_code == 1
    assert f"bounce-ml: skipped {tmp_path}: no .eml files in this folder" in result.output
