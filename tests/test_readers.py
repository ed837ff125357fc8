"""Input readers: each kind of input, hostile input, and flat memory on a large mbox."""

from __future__ import annotations

import io
import sys
import tracemalloc
from collections import Counter
from pathlib import Path

import pytest

from bounce_ml.mail import readers
from bounce_ml.mail.readers import batched, iter_records, split_mbox
from bounce_ml.mail.records import BounceRecord, ReadProblem
from bounce_ml.tomlfile import read_toml

FIXTURES = Path(__file__).parent / "fixtures"
READERS = FIXTURES / "readers"


def outline(items: list[BounceRecord | ReadProblem]) -> list[tuple[str, int | None, str]]:
    """Each item as (kind, index, recipient or text or reason), for compact comparisons."""
    return [
        ("record", item.index, item.recipient or item.text)
        if isinstance(item, BounceRecord)
        else ("problem", item.index, item.reason)
        for item in items
    ]


def test_csv_with_ragged_rows_reports_them_by_line_and_goes_on() -> None:
    items = list(iter_records(READERS / "ragged.csv"))
    assert outline(items) == [
        ("record", 2, "550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown"),
        (
            "record",
            3,
            "SMTP error from remote mail server after RCPT TO:<carol@example.net>:\n"
            "552 5.2.2 Mailbox full",
        ),
        ("problem", 5, "ragged row: 4 fields where the header has 3"),
        ("problem", 6, "ragged row: 2 fields where the header has 3"),
        ("problem", 7, "empty text"),
        ("record", 9, "收件人\ufffd不存在 550"),
        ("record", 10, '421 4.7.0 frequency limited, "try later"'),
    ]
    assert items[0].status == "5.1.1" and items[0].source == str(READERS / "ragged.csv")
    assert items[5].note == "undecodable bytes replaced by U+FFFD"


def test_csv_without_the_text_column_is_one_problem_naming_the_columns() -> None:
    [problem] = iter_records(READERS / "no_text_column.csv")
    assert isinstance(problem, ReadProblem) and problem.index is None
    assert problem.reason == "no column 'text'; columns found: id, message, code"


def test_csv_text_column_can_be_chosen() -> None:
    items = list(iter_records(READERS / "no_text_column.csv", text_column="message"))
    assert outline(items) == [("record", 2, "User unknown"), ("record", 3, "Mailbox full")]


def test_csv_unclosed_quote_is_reported_not_swallowed(tmp_path: Path) -> None:
    path = tmp_path / "unclosed.csv"
    path.write_text('text\n"550 User unknown\n' + "x" * 200_000 + "\n", encoding="utf-8")
    [problem] = iter_records(path)
    assert isinstance(problem, ReadProblem)
    assert problem.reason == (
        "quote opened on this line is never closed; lines 2-3 (2 lines) skipped"
    )


def test_jsonl_reports_each_bad_line() -> None:
    assert outline(list(iter_records(READERS / "broken.jsonl"))) == [
        ("record", 1, "550 5.1.1 User unknown"),
        ("problem", 2, "not JSON: Invalid control character at: line 1 column 27 (char 26)"),
        ("problem", 3, "no field 'text'; fields found: message"),
        ("problem", 4, "not a JSON object but a list"),
        ("problem", 5, "field 'text' is not a string"),
        ("record", 7, "收件人邮箱已满 552"),
    ]


def test_jsonl_field_can_be_chosen_and_deep_nesting_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "items.ndjson"
    path.write_text('{"msg": "552 Mailbox full"}\n' + "[" * 100_000 + "\n", encoding="utf-8")
    items = list(iter_records(path, text_field="msg"))
    assert outline(items) == [
        ("record", 1, "552 Mailbox full"),
        ("problem", 2, "not JSON: nested too deeply"),
    ]


def test_text_lines_survive_invalid_utf8_and_nul_bytes() -> None:
    items = list(iter_records(READERS / "invalid_utf8.txt"))
    assert [(kind, index) for kind, index, _ in outline(items)] == [
        ("record", 1),
        ("record", 2),
        ("problem", 3),
        ("record", 6),
        ("record", 7),
    ]
    assert items[1].text == "554 rejected \ufffd\ufffd\ufffd by content filter"
    assert items[1].note == "undecodable bytes replaced by U+FFFD"
    assert items[2].reason == "NUL bytes: binary data, not text"
    assert items[4] == BounceRecord(
        text="421 4.7.0 Try again later",
        status="4.7.0",
        reply_code="421",
        source=str(READERS / "invalid_utf8.txt"),
        index=7,
    )


def test_overlong_line_is_skipped_without_reading_it_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readers, "MAX_LINE_BYTES", 1000)
    path = tmp_path / "lines.txt"
    path.write_bytes(b"550 first\n" + b"y" * 5000 + b"\n552 third\n")
    items = list(iter_records(path))
    assert [(kind, index) for kind, index, _ in outline(items)] == [
        ("record", 1),
        ("problem", 2),
        ("record", 3),
    ]


def test_mbox_ending_mid_message_still_gives_its_last_message() -> None:
    items = list(iter_records(READERS / "truncated.mbox"))
    assert outline(items) == [
        ("record", 0, "bob@example.org"),
        ("record", 1, "mia@example.org"),
        ("record", 2, "quinn@example.org"),
    ]
    assert items[2].status == "5.2.2" and "Mailbox full" in items[2].text


def test_split_mbox_separators_and_quoting() -> None:
    mbox = (
        b"From a@example.org Mon Mar  3 09:00:00 2025\r\n"
        b"Subject: one\r\n\r\n"
        b">From the quoted line\r\n"
        b">>From a twice quoted line\r\n"
        b"From here: no blank line before, so no separator\r\n\r\n"
        b"From b@example.org Mon Mar  3 10:00:00 2025\n"
        b"Subject: two\n\nbody\n\n\n"
        b"From c@example.org Mon Mar  3 11:00:00 2025\n"
        b"Subject: thr"
    )
    assert list(split_mbox(io.BytesIO(mbox))) == [
        (
            b"Subject: one\r\n\r\nFrom the quoted line\r\n>From a twice quoted line\r\n"
            b"From here: no blank line before, so no separator\r\n",
            False,
        ),
        (b"Subject: two\n\nbody\n\n", False),
        (b"Subject: thr", False),
    ]


def test_mbox_message_too_large_is_cut_and_noted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readers, "MAX_MESSAGE_BYTES", 2000)
    report = (READERS / "truncated.mbox").read_bytes().split(b"\n\nFrom ")[1]
    path = tmp_path / "big.mbox"
    path.write_bytes(b"From " + report + b"\n" + b"padding line\n" * 500)
    [record] = iter_records(path)
    assert record.recipient == "mia@example.org"
    assert "message cut" in (record.note or "")


def test_junk_and_headerless_messages_in_an_mbox_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "junk"
    path.write_bytes(
        b"From x Mon Mar  3 09:00:00 2025\n\x00\x01\x02 binary \xff\xfe junk\n\n"
        + (READERS / "truncated.mbox").read_bytes()
    )
    items = list(iter_records(path))  # detected as mbox from its first bytes
    assert outline(items)[0] == ("problem", 0, "no header fields: not an email message")
    assert [index for _, index, _ in outline(items)] == [0, 1, 2, 3]


def test_maildir_reads_cur_and_new_but_not_tmp() -> None:
    items = list(iter_records(READERS / "maildir"))
    assert [(Path(item.source).parent.name, item.index, item.recipient) for item in items] == [
        ("cur", 0, "bob@example.org"),
        ("cur", 1, None),
        ("new", 2, "mia@example.org"),
    ]
    assert "not a bounce" in (items[1].note or "")


def test_folder_of_eml_files_gives_every_fixture() -> None:
    expected = read_toml(FIXTURES / "emails" / "expected.toml")
    items = list(iter_records(FIXTURES / "emails"))
    problems = [Path(item.source).name for item in items if isinstance(item, ReadProblem)]
    assert problems == [name for name, want in expected.items() if "problem" in want]
    records = [item for item in items if isinstance(item, BounceRecord)]
    assert len(records) == sum(len(want.get("records", [])) for want in expected.values())
    assert len({item.index for item in items}) == len(expected)


def test_single_eml_has_no_index() -> None:
    [record] = iter_records(FIXTURES / "emails" / "postfix_dsn_user_unknown.eml")
    assert (record.index, record.recipient) == (None, "bob@example.org")


def test_standard_input_is_read_as_text_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(b"550 5.1.1 User unknown\n\n552 Mailbox full\n"))
    monkeypatch.setattr(sys, "stdin", stdin)
    assert outline(list(iter_records("-"))) == [
        ("record", 1, "550 5.1.1 User unknown"),
        ("record", 3, "552 Mailbox full"),
    ]


def test_standard_input_can_be_named_another_format(monkeypatch: pytest.MonkeyPatch) -> None:
    data = (READERS / "broken.jsonl").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    items = list(iter_records("-", input_format="jsonl"))
    assert [item.source for item in items] == ["-"] * 6


def test_input_format_overrides_detection() -> None:
    items = list(iter_records(READERS / "ragged.csv", input_format="text"))
    assert outline(items)[0] == ("record", 1, "id,provider,text")


@pytest.mark.parametrize(
    ("path", "input_format", "error"),
    [
        (READERS / "ragged.csv", "xml", ValueError),
        (READERS / "maildir", "csv", ValueError),
        (READERS / "ragged.csv", "maildir", ValueError),
        ("-", "folder", ValueError),
        (READERS / "no-such-file.csv", None, FileNotFoundError),
    ],
)
def test_unusable_arguments_fail_at_once(
    path: Path | str, input_format: str | None, error: type[Exception]
) -> None:
    with pytest.raises(error):
        iter_records(path, input_format=input_format)


def test_binary_junk_as_text_gives_problems_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "junk.bin"
    path.write_bytes(bytes(range(256)) * 40)  # 41 "lines"; all but the last hold a NUL byte
    *problems, last = iter_records(path)
    assert len(problems) == 40
    assert all(problem.reason == "NUL bytes: binary data, not text" for problem in problems)
    assert isinstance(last, BounceRecord) and last.note == "undecodable bytes replaced by U+FFFD"


@pytest.mark.parametrize(
    ("size", "expected"), [(2, [(0, 1), (2, 3), (4,)]), (5, [(0, 1, 2, 3, 4)])]
)
def test_batched(size: int, expected: list[tuple[int, ...]]) -> None:
    assert list(batched(range(5), size)) == expected


def test_batched_refuses_size_zero() -> None:
    with pytest.raises(ValueError):
        list(batched(range(5), 0))


# Messages for the large mbox. All DSNs share one boundary: the email package compiles a
# regular expression per new boundary, which would only slow the test down.
DSN_MESSAGE = """\
From MAILER-DAEMON  Mon Mar  3 09:12:47 2025
Return-Path: <>
From: MAILER-DAEMON@mail.sender.example (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: alice@sender.example
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="report"

--report
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mail.sender.example.

<user{n}@example.org>: host mx.example.org[192.0.2.7] said: 550 5.1.1
    <user{n}@example.org>: Recipient address rejected: User unknown (in reply
    to RCPT TO command)

--report
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.sender.example

Final-Recipient: rfc822; user{n}@example.org
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.org
Diagnostic-Code: smtp; 550 5.1.1 <user{n}@example.org>: Recipient address
    rejected: User unknown

--report
Content-Type: text/rfc822-headers

From: Alice Sender <alice@sender.example>
To: user{n}@example.org
Subject: Newsletter {n}

--report--

"""
PROSE_MESSAGE = """\
From MAILER-DAEMON@mx.example.org  Mon Mar  3 10:00:00 2025
From: MAILER-DAEMON@mx.example.org
To: alice@sender.example
Subject: failure notice

Hi. This is the qmail-send program at mx.example.org.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<user{n}@example.org>:
192.0.2.7 does not like recipient.
Remote host said: 552 5.2.2 <user{n}@example.org>: Mailbox full
Giving up on 192.0.2.7.

--- Below this line is a copy of the message.

From: Alice Sender <alice@sender.example>
To: user{n}@example.org
Subject: Newsletter {n}

Hello, this is newsletter number {n}.

"""


def test_large_mbox_streams_in_flat_memory(tmp_path: Path) -> None:
    count = 20_000
    path = tmp_path / "large.mbox"
    with path.open("w", encoding="ascii") as mbox:
        for n in range(count):
            mbox.write((DSN_MESSAGE if n % 2 else PROSE_MESSAGE).format(n=n))
    size = path.stat().st_size

    tracemalloc.start()
    try:
        statuses = Counter(
            item.status if isinstance(item, BounceRecord) else item.reason
            for item in iter_records(path)
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert statuses == {"5.1.1": count // 2, "5.2.2": count // 2}
    print(f"mbox of {count} messages, {size / 1e6:.1f} MB: peak traced memory {peak / 1e6:.2f} MB")
    assert peak < size / 10
