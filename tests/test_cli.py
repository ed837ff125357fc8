import csv
import io
import json
from pathlib import Path

from typer.testing import CliRunner

from bounce_ml.cli import app

runner = CliRunner()
UU = (
    "550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown in virtual mailbox table"
)
MF = "552 5.2.2 <ann@example.org>: Mailbox full, quota exceeded"


def test_table_shows_label_names_confidence_action_advice_evidence() -> None:
    result = runner.invoke(app, ["predict", UU])
    assert result.exit_code == 0
    out = result.output
    assert "user_unknown  收件人不存在 / Recipient unknown" in out
    for field in (
        "confidence",
        "severity    hard, do not retry",
        "action      Remove",
        "advice",
        "evidence",
    ):
        assert field in out


def test_json_output_is_a_list_in_input_order() -> None:
    result = runner.invoke(app, ["predict", "--format", "json", UU, MF])
    rows = json.loads(result.output)
    assert [row["label"] for row in rows] == ["user_unknown", "mailbox_full"]
    assert rows[0]["text"] == UU and 0 < rows[0]["confidence"] <= 1
    assert rows[0]["decided_by"] in ("model", "rule")


def test_jsonl_and_csv_formats() -> None:
    lines = runner.invoke(app, ["predict", "-f", "jsonl", UU, MF]).output.splitlines()
    assert [json.loads(line)["label"] for line in lines] == ["user_unknown", "mailbox_full"]
    table = list(
        csv.DictReader(io.StringIO(runner.invoke(app, ["predict", "-f", "csv", UU]).output))
    )
    assert table[0]["label"] == "user_unknown" and table[0]["severity"] == "hard"


def test_advice_in_chinese() -> None:
    rows = json.loads(runner.invoke(app, ["predict", "-f", "json", "--lang", "zh", MF]).output)
    assert rows[0]["action"] == "稍后重试；若连续多日仍满，暂停向该地址发信。"


def test_standard_input_one_message_a_line() -> None:
    result = runner.invoke(app, ["predict", "-f", "jsonl"], input=f"{UU}\n\n{MF}\n")
    assert result.exit_code == 0
    assert [
        json.loads(line)["label"] for line in result.output.splitlines() if line.startswith("{")
    ] == [
        "user_unknown",
        "mailbox_full",
    ]


def test_empty_standard_input_is_an_error() -> None:
    result = runner.invoke(app, ["predict"], input="  \n\n")
    assert result.exit_code == 1
    assert (
        result.output.strip() == "bounce-ml: error: nothing to classify: standard input was empty"
    )


def test_unknown_format_flag_is_a_usage_error() -> None:
    result = runner.invoke(app, ["predict", "--format", "xml", UU])
    assert result.exit_code == 2
    assert "Invalid value for '--format'" in result.output


def test_unreadable_input_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["predict", "--input", str(tmp_path / "missing.eml")])
    assert result.exit_code == 1
    assert "missing.eml" in result.output
    assert "Traceback" not in result.output


def test_output_file_is_not_overwritten_silently(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("precious", encoding="utf-8")
    result = runner.invoke(app, ["predict", "--output", str(target), UU])
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert target.read_text(encoding="utf-8") == "precious"
    result = runner.invoke(app, ["predict", "--output", str(target), "--overwrite", UU])
    assert result.exit_code == 0
    assert next(csv.DictReader(target.open(encoding="utf-8")))["label"] == "user_unknown"


def test_output_format_from_extension_or_refused(tmp_path: Path) -> None:
    result = runner.invoke(app, ["predict", "--output", str(tmp_path / "x.jsonl"), UU])
    assert json.loads((tmp_path / "x.jsonl").read_text(encoding="utf-8"))["label"] == "user_unknown"
    result = runner.invoke(app, ["predict", "--output", str(tmp_path / "x.docx"), UU])
    assert result.exit_code == 1
    assert "give --format" in result.output


def test_rules_only_mode_decides_by_rule() -> None:
    rows = json.loads(runner.invoke(app, ["predict", "-f", "json", "--rules-only", UU]).output)
    assert rows[0]["decided_by"] == "rule" and rows[0]["rule_id"] == "uu.phrases"


def test_unmatched_text_is_unknown_in_rules_only_mode() -> None:
    rows = json.loads(
        runner.invoke(app, ["predict", "-f", "json", "--rules-only", "hello there"]).output
    )
    assert rows[0]["label"] == "unknown" and rows[0]["action"] == "Review by hand."


def test_labels_lists_the_taxonomy() -> None:
    result = runner.invoke(app, ["labels", "--format", "json"])
    ids = [row["label"] for row in json.loads(result.output)]
    assert ids[0] == "user_unknown" and "unknown" in ids and len(ids) == 17


def test_every_format_has_the_record_columns_and_kind() -> None:
    email = str(Path(__file__).parent / "fixtures" / "emails" / "postfix_dsn_user_unknown.eml")
    for fmt in ("json", "jsonl", "csv"):
        result = runner.invoke(app, ["predict", "-f", fmt, "--input", email, "-q"])
        if fmt == "csv":
            rows = list(csv.DictReader(io.StringIO(result.output)))
        elif fmt == "json":
            rows = json.loads(result.output)
        else:
            rows = [json.loads(line) for line in result.output.splitlines()]
        [row] = rows
        assert list(row)[:10] == [
            "source",
            "index",
            "kind",
            "recipient",
            "status",
            "reply_code",
            "smtp_command",
            "dsn_action",
            "feedback_type",
            "remote_mta",
        ]
        assert (row["kind"], row["status"], row["dsn_action"]) == ("failed", "5.1.1", "failed")
        assert row["action"].startswith("Remove")  # the advice, not the DSN action
        assert str(row["truncated"]) in ("False", "false")
    table = runner.invoke(app, ["predict", "--input", email, "-q"]).output
    assert "    kind        failed" in table
    argument = json.loads(runner.invoke(app, ["predict", "-f", "json", UU]).output)[0]
    assert (argument["source"], argument["index"], argument["kind"]) == ("argv", 1, "failed")
