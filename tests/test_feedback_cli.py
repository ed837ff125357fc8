"""`bounce-ml review` and `bounce-ml feedback import` on real files and a real SQLite store."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bounce_ml.cli import app
from bounce_ml.feedback.store import FeedbackStore

runner = CliRunner()

BATCH = [
    "451 4.3.2 Zenmail: slot busy for a@example.com",
    "451 4.3.2 Zenmail: slot busy for b@example.org",
    "451 4.3.2 Zenmail: slot busy for c@example.net",
    "Zenmail mailroom returned it, reason code ZM-88",
    "550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown",
]


def _review(tmp_path: Path, *extra: str) -> tuple[Path, Result]:
    batch = tmp_path / "bounces.txt"
    batch.write_text("\n".join(BATCH) + "\n", encoding="utf-8")
    store = tmp_path / "feedback.sqlite3"
    result = runner.invoke(app, ["review", "--input", str(batch), "--feedback", str(store), *extra])
    return store, result


def test_review_queues_unsure_wordings_most_frequent_first(tmp_path: Path) -> None:
    store_path, result = _review(tmp_path, "--below", "0.99")
    assert result.exit_code == 0, result.output
    with FeedbackStore(store_path) as store:
        queue = store.review_queue()
    # the confident user_unknown line is not queued; the three 'slot busy' lines are one wording
    assert queue[0].count == 3 and queue[0].example == BATCH[0]
    assert sum(group.count for group in queue) == 4
    assert all(len(group.top_labels) == 2 for group in queue)
    assert "5 classified" in result.output
    assert BATCH[4] not in [group.example for group in queue]
    # reviewing the same batch again queues the rows again: the counts grow
    _, again = _review(tmp_path, "--below", "0.99")
    assert again.exit_code == 0, again.output
    with FeedbackStore(store_path) as store:
        assert store.review_queue()[0].count == 6


def test_exported_queue_labeled_in_a_spreadsheet_comes_back(tmp_path: Path) -> None:
    sheet = tmp_path / "queue.csv"
    store_path, result = _review(tmp_path, "--below", "0.99", "--export", str(sheet))
    assert result.exit_code == 0, result.output
    assert sheet.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel opens UTF-8 with a BOM
    with open(sheet, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["count"] == "3" and rows[0]["label"] == ""
    rows[0]["label"] = "rate_limited"  # the person labels only the first wording
    with open(sheet, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    result = runner.invoke(app, ["feedback", "import", str(sheet), "--feedback", str(store_path)])
    assert result.exit_code == 0, result.output
    assert f"{len(rows) - 1} rows without a label skipped" in result.output
    with FeedbackStore(store_path) as store:
        labeled = store.labeled_rows()
        assert sorted(r.text for r in labeled) == sorted(BATCH[:3])
        assert {r.label for r in labeled} == {"rate_limited"}
        assert BATCH[0] not in [g.example for g in store.review_queue()]


def test_export_never_overwrites_an_existing_file(tmp_path: Path) -> None:
    sheet = tmp_path / "queue.csv"
    sheet.write_text("my own notes\n", encoding="utf-8")
    _, result = _review(tmp_path, "--export", str(sheet))
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert sheet.read_text(encoding="utf-8") == "my own notes\n"


@pytest.mark.parametrize(
    ("encoding", "text", "label", "expected"),
    [
        ("utf-8", "收件人信箱不存在 ZM-404", "user_unknown", "utf-8"),
        ("utf-8-sig", "收件人信箱不存在 ZM-404", "user_unknown", "utf-8"),
        ("gbk", "收件人邮箱空间已满，请稍后重试投递", "mailbox_full", "gb18030"),
        ("big5", "收件人信箱容量已滿，郵件無法投遞，請稍後再試", "mailbox_full", "big5"),
    ],
)
def test_import_reads_utf8_gbk_and_big5_sheets(
    tmp_path: Path, encoding: str, text: str, label: str, expected: str
) -> None:
    sheet = tmp_path / "labels.csv"
    sheet.write_bytes(f"text,label\n{text},{label}\n".encode(encoding))
    store_path = tmp_path / "f.sqlite3"
    result = runner.invoke(app, ["feedback", "import", str(sheet), "--feedback", str(store_path)])
    assert result.exit_code == 0, result.output
    assert f"({expected})" in result.output
    with FeedbackStore(store_path) as store:
        assert [(r.text, r.label) for r in store.labeled_rows()] == [(text, label)]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"text,label\nok text,user_unknown\nbad,full_mailbox\n", "labels.csv:3: unknown label"),
        (b"text,category\nx,user_unknown\n", "labels.csv: missing column 'label'"),
        (b"text,label\n,user_unknown\n", "labels.csv:2: label 'user_unknown' without a text"),
        (b"text,label\n\xff\xfe\x00\x00junk,user_unknown\n", "labels.csv: not UTF-8, GBK or Big5"),
    ],
)
def test_a_bad_sheet_is_refused_in_one_line_and_nothing_is_stored(
    tmp_path: Path, content: bytes, message: str
) -> None:
    sheet = tmp_path / "labels.csv"
    sheet.write_bytes(content)
    store_path = tmp_path / "f.sqlite3"
    result = runner.invoke(app, ["feedback", "import", str(sheet), "--feedback", str(store_path)])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    with FeedbackStore(store_path) as store:
        assert store.counts() == (0, 0)


def test_a_foreign_store_file_is_refused_by_the_cli(tmp_path: Path) -> None:
    bad = tmp_path / "feedback.sqlite3"
    bad.write_bytes(b"PK\x03\x04 a zip file, not a database" * 100)
    sheet = tmp_path / "labels.csv"
    sheet.write_text("text,label\nx,user_unknown\n", encoding="utf-8")
    result = runner.invoke(app, ["feedback", "import", str(sheet), "--feedback", str(bad)])
    assert result.exit_code == 1
    assert "not a bounce-ml feedback store" in result.output
    assert bad.read_bytes().startswith(b"PK\x03\x04")


def test_exported_bounce_text_cannot_run_as_a_formula_and_comes_back_unchanged(
    tmp_path: Path,
) -> None:
    from bounce_ml.feedback.sheets import read_labeled_sheet, write_queue
    from bounce_ml.feedback.store import ReviewGroup
    from bounce_ml.labels.taxonomy import default_taxonomy

    text = '=HYPERLINK("http://203.0.113.5/x","550 user unknown")'
    sheet = tmp_path / "queue.csv"
    with open(sheet, "w", encoding="utf-8", newline="") as out:
        write_queue([ReviewGroup("k", 1, text, (("user_unknown", 0.4), ("unknown", 0.3)))], out)
    with open(sheet, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["text"] == "'" + text  # a spreadsheet shows it as text
    rows[0]["label"] = "user_unknown"
    with open(sheet, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    labeled, _, _ = read_labeled_sheet(sheet, default_taxonomy(), author=None)
    assert [(row.text, row.label) for row in labeled] == [(text, "user_unknown")]


def test_review_stores_a_lone_surrogate_as_the_replacement_character(tmp_path: Path) -> None:
    # A JSON escape can make a character that SQLite (UTF-8 only) cannot store.
    batch = tmp_path / "bounces.jsonl"
    batch.write_text('{"text": "\\ud800 Zenmail mailroom returned it"}\n', encoding="utf-8")
    store_path = tmp_path / "feedback.sqlite3"
    args = ["review", "--input", str(batch), "--feedback", str(store_path), "--below", "0.99"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    with FeedbackStore(store_path) as store:
        assert [group.example for group in store.review_queue()] == [
            "\ufffd Zenmail mailroom returned it"
        ]
        store.add_label("\udc80 Zenmail mailroom returned it", "content_rejected")
        assert store.review_queue() == []  # the same wording: the queued row got the label
