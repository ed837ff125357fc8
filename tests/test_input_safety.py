"""Input safety: symbolic links, compressed files, encodings."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import shutil
import zipfile
from pathlib import Path

from typer.testing import CliRunner

from bounce_ml.cli import app
from bounce_ml.corpus.files import read_labeled_file
from bounce_ml.mail.readers import iter_records
from bounce_ml.mail.records import BounceRecord, ReadProblem

runner = CliRunner()
FIXTURES = Path(__file__).parent / "fixtures"
READERS = FIXTURES / "readers"
EML = FIXTURES / "emails" / "postfix_dsn_user_unknown.eml"


def test_symlinks_out_of_a_folder_are_skipped_and_reported(tmp_path: Path) -> None:
    outside = tmp_path / "secrets"
    outside.mkdir()
    (outside / "env.eml").write_text("DB_PASSWORD=hunter2\n", encoding="utf-8")
    (outside / "deep").mkdir()
    (outside / "deep" / "more.eml").write_bytes(EML.read_bytes())
    folder = tmp_path / "mail"
    folder.mkdir()
    shutil.copy(EML, folder / "real.eml")
    (folder / "leak.eml").symlink_to(outside / "env.eml")
    (folder / "same.eml").symlink_to(folder / "real.eml")  # stays inside: read
    (folder / "linked-dir").symlink_to(outside / "deep")
    items = list(iter_records(folder))
    records = [item for item in items if isinstance(item, BounceRecord)]
    problems = {Path(p.source).name: p.reason for p in items if isinstance(p, ReadProblem)}
    assert sorted(Path(r.source).name for r in records) == ["real.eml", "same.eml"]
    assert problems == {
        "leak.eml": "symbolic link to a file outside the folder; not followed",
        "linked-dir": "symbolic link to a folder outside the folder; not followed",
    }
    assert not any("hunter2" in r.text for r in records)


def test_maildir_subfolders_linked_elsewhere_are_not_followed(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(EML, elsewhere / "1.eml")
    maildir = tmp_path / "Maildir"
    (maildir / "new").mkdir(parents=True)
    shutil.copy(EML, maildir / "new" / "2")
    (maildir / "cur").symlink_to(elsewhere)
    items = list(iter_records(maildir))
    assert [(Path(i.source).name, type(i).__name__) for i in items] == [
        ("cur", "ReadProblem"),
        ("2", "BounceRecord"),
    ]


# 12. Compressed input is read through its decompressor, or refused in one line.


def _texts(items: list) -> list[str]:
    return [item.text for item in items if isinstance(item, BounceRecord)]


def test_gzip_bzip2_and_xz_inputs_are_read_transparently(tmp_path: Path) -> None:
    rows = "text\n550 5.1.1 user unknown\n552 5.2.2 mailbox full\n"
    for suffix, opener in ((".gz", gzip.open), (".bz2", bz2.open), (".xz", lzma.open)):
        path = tmp_path / f"log.csv{suffix}"
        with opener(path, "wt", encoding="utf-8") as handle:
            handle.write(rows)
        assert _texts(list(iter_records(path))) == [
            "550 5.1.1 user unknown",
            "552 5.2.2 mailbox full",
        ], suffix
    mbox = tmp_path / "bounces.mbox.gz"
    mbox.write_bytes(gzip.compress((READERS / "truncated.mbox").read_bytes()))
    assert len(_texts(list(iter_records(mbox)))) == 3
    unnamed = tmp_path / "rotated.1"  # no telling suffix: the content decides
    unnamed.write_bytes(gzip.compress(b"421 4.7.0 try again later\n"))
    assert _texts(list(iter_records(unnamed))) == ["421 4.7.0 try again later"]


def test_archives_are_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "logs.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("log.txt", "550 user unknown\n")
    result = runner.invoke(app, ["predict", "-i", str(path)])
    assert result.exit_code == 1
    assert result.output == (
        f"bounce-ml: error: {path}: a zip archive; unpack it and give the files inside\n"
    )


def test_damaged_compressed_data_is_reported_after_what_could_be_read(tmp_path: Path) -> None:
    data = gzip.compress(b"".join(b"550 5.1.1 user %d unknown\n" % n for n in range(20_000)))
    path = tmp_path / "cut.txt.gz"
    path.write_bytes(data[: len(data) // 2])
    items = list(iter_records(path))
    *records, problem = items
    assert len(records) > 1000 and all(isinstance(r, BounceRecord) for r in records)
    assert isinstance(problem, ReadProblem) and problem.index is None
    assert problem.reason.startswith("compressed data damaged or cut short after line ")
    assert problem.reason.endswith("the rest of the file is lost")


# 13. Encodings: detected as for email bodies, or named; BOM accepted everywhere.

GBK_ROWS = [
    "收件人不存在，邮件无法投递 550 5.1.1",
    "对方邮箱空间已满，请稍后再试 552 5.2.2",
    "您的邮件被判定为垃圾邮件，已被退回 554",
]
BIG5_ROWS = ["收件者信箱不存在，郵件無法遞送 550", "對方信箱空間已滿，請稍後再試 552"]


def test_gbk_csv_and_big5_jsonl_are_detected_and_said(tmp_path: Path) -> None:
    csv_path = tmp_path / "gbk.csv"
    csv_path.write_bytes(
        ("id,text\n" + "".join(f"{n},{t}\n" for n, t in enumerate(GBK_ROWS))).encode("gbk")
    )
    result = runner.invoke(app, ["predict", "-i", str(csv_path), "-f", "jsonl"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["text"] for row in rows] == GBK_ROWS
    assert [row["label"] for row in rows][:2] == ["user_unknown", "mailbox_full"]
    assert f"bounce-ml: {csv_path}: read as gb18030 (detected; --encoding to choose)" in (
        result.stderr
    )

    jsonl_path = tmp_path / "big5.jsonl"
    lines = "".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in BIG5_ROWS)
    jsonl_path.write_bytes(lines.encode("big5"))
    assert _texts(list(iter_records(jsonl_path))) == BIG5_ROWS


def test_encoding_can_be_named_and_utf16_with_a_bom_is_read(tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes("550 Empfänger unbekannt\n".encode("latin-1"))
    result = runner.invoke(
        app, ["predict", "-i", str(path), "-f", "jsonl", "--encoding", "latin-1"]
    )
    assert json.loads(result.stdout)["text"] == "550 Empfänger unbekannt"
    bad = runner.invoke(app, ["predict", "-i", str(path), "--encoding", "klingon"])
    assert bad.exit_code == 1 and "unknown text encoding 'klingon'" in bad.output

    utf16 = tmp_path / "unicode.txt"
    utf16.write_bytes("text\n收件人不存在 550\n".encode("utf-16"))
    assert _texts(list(iter_records(utf16, input_format="csv"))) == ["收件人不存在 550"]


def test_replaced_characters_are_warned_about(tmp_path: Path) -> None:
    path = tmp_path / "mixed.txt"
    path.write_bytes(b"550 user unknown\n552 mailbox \xff\xfe full\n")
    result = runner.invoke(app, ["predict", "-i", str(path), "-f", "jsonl", "--encoding", "utf-8"])
    assert result.exit_code == 0
    assert "bounce-ml: warning: undecodable bytes replaced by U+FFFD in 1 row" in result.stderr


def test_labeled_files_accept_a_byte_order_mark_and_refuse_a_bare_header(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(
        b"\xef\xbb\xbftext,label\n"
        b"550 5.1.1 user unknown,user_unknown\n"
        b"552 5.2.2 mailbox full,mailbox_full\n"
    )
    corpus = read_labeled_file(path)
    assert corpus.problems == [] and corpus.labels == ["user_unknown", "mailbox_full"]
    result = runner.invoke(app, ["evaluate", "--data", str(path), "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output

    header_only = tmp_path / "empty.csv"
    header_only.write_text("text,label\n", encoding="utf-8")
    assert read_labeled_file(header_only).problems == [
        f"{header_only}: no rows after the header: nothing to learn from"
    ]
