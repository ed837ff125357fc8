"""Bounce email parsing: the fixtures against expected.toml (records, kinds, status codes,
error sentences and labels), charsets, and damaged input."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bounce_ml.labels.taxonomy import UNKNOWN, default_taxonomy
from bounce_ml.mail.emails import BrokenMessageError, decode_text, parse_bounce
from bounce_ml.mail.smtp import find_status
from bounce_ml.predict.classifier import Classifier
from bounce_ml.tomlfile import read_toml

FIXTURES = Path(__file__).parent / "fixtures" / "emails"
EXPECTED = read_toml(FIXTURES / "expected.toml")
MESSAGES = sorted(name for name, want in EXPECTED.items() if "records" in want)
NOT_MESSAGES = sorted(name for name, want in EXPECTED.items() if "problem" in want)
LABELS = set(default_taxonomy().trainable)
# Emails whose error sentence is extracted right but that the classifier gets wrong
# (`known_miss` in expected.toml): expected strictly, so that a fix shows up.
KNOWN_LABEL_MISSES = {
    name: want["known_miss"] for name, want in EXPECTED.items() if "known_miss" in want
}


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier()


def test_every_fixture_has_expectations() -> None:
    assert sorted(path.name for path in FIXTURES.glob("*.eml")) == sorted(EXPECTED)
    assert len(MESSAGES) >= 150
    assert len({EXPECTED[name]["system"] for name in MESSAGES}) >= 40


def test_every_kind_is_covered_by_a_fixture() -> None:
    kinds = {
        want.get("kind", EXPECTED[name].get("kind"))
        for name in MESSAGES
        for want in EXPECTED[name]["records"]
    }
    assert kinds == {
        "failed",
        "delayed",
        "auto_reply",
        "feedback_report",
        "delivered",
        "not_bounce",
    }


def test_expected_labels_are_categories() -> None:
    labels = {r["label"] for name in MESSAGES for r in EXPECTED[name]["records"] if "label" in r}
    assert labels - {UNKNOWN} == LABELS  # every category is covered by at least one fixture


@pytest.mark.parametrize("name", MESSAGES)
def test_fixture_gives_expected_records(name: str) -> None:
    records = parse_bounce((FIXTURES / name).read_bytes(), source=name, index=7)
    expected = EXPECTED[name]["records"]

    assert [r.recipient for r in records] == [want.get("recipient") for want in expected]
    for record, want in zip(records, expected, strict=True):
        assert (record.source, record.index) == (name, 7)
        assert record.status == want.get("status")
        assert record.dsn_action == want.get("action")
        assert record.kind == want.get("kind", EXPECTED[name].get("kind", record.kind))
        assert record.feedback_type == want.get("feedback_type")
        for word in want["words"]:
            assert word in record.text
        if "note" in want:
            assert want["note"] in (record.note or "")


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.xfail(reason=KNOWN_LABEL_MISSES[name], strict=True))
        if name in KNOWN_LABEL_MISSES
        else name
        for name in MESSAGES
    ],
)
def test_fixture_records_get_the_expected_label(name: str, classifier: Classifier) -> None:
    records = parse_bounce((FIXTURES / name).read_bytes())
    predictions = classifier.predict_records(records)
    expected = [want.get("label", UNKNOWN) for want in EXPECTED[name]["records"]]
    assert [p.label for p in predictions] == expected


@pytest.mark.parametrize("name", NOT_MESSAGES)
def test_not_a_message_is_refused(name: str) -> None:
    with pytest.raises(BrokenMessageError, match=EXPECTED[name]["problem"]):
        parse_bounce((FIXTURES / name).read_bytes())


@pytest.mark.parametrize(
    ("name", "misleading"),
    [
        ("qmail_prose_no_mailbox.eml", ["relaying denied", "nina@example.org", "mailbox full"]),
        ("postfix_prose_helo_misleading_original.eml", ["victor@", "user unknown", "spamhaus"]),
        ("netease163_gbk_quoted_printable.eml", ["收件人不存在", "lisi@", "user unknown"]),
        ("exim_prose_mailbox_full.eml", ["User unknown"]),
    ],
)
def test_returned_original_is_ignored(name: str, misleading: list[str]) -> None:
    records = parse_bounce((FIXTURES / name).read_bytes())
    text = " ".join(f"{r.recipient} {r.text}" for r in records)
    for words in misleading:
        assert words not in text


def test_parsed_message_is_accepted_too() -> None:
    raw = (FIXTURES / "postfix_dsn_user_unknown.eml").read_bytes()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    [record] = parse_bounce(message)
    assert (record.recipient, record.status) == ("bob@example.org", "5.1.1")


def test_report_with_only_delivered_recipients_says_so() -> None:
    raw = b"""\
From: MAILER-DAEMON@mail.example.com
Subject: Successful Mail Delivery Report
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: text/plain

Your message was successfully delivered to the destination(s) listed below.

--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.example.com

Final-Recipient: rfc822; erin@example.org
Action: delivered
Status: 2.0.0

--b--
"""
    [record] = parse_bounce(raw)
    assert (record.recipient, record.kind, record.status) == (
        "erin@example.org",
        "delivered",
        "2.0.0",
    )


def test_bounce_without_recipient_keeps_its_text() -> None:
    raw = (
        b"From: MAILER-DAEMON@mx.example.org\nSubject: failure notice\n\n"
        b"Delivery failed: 554 5.7.1 message refused as spam.\n"
    )
    [record] = parse_bounce(raw)
    assert record.recipient is None
    assert record.status == "5.7.1"
    assert "refused as spam" in record.text
    assert "no recipient" in (record.note or "")


@pytest.mark.parametrize("raw", [b"", b"\n\n  \n", b"just a line of text without headers\n"])
def test_empty_or_headerless_input_is_refused(raw: bytes) -> None:
    with pytest.raises(BrokenMessageError):
        parse_bounce(raw)


@pytest.mark.parametrize(
    ("text", "encoding", "label"),
    [
        # 喆 is outside GB2312: the label's superset (GB18030) reads it.
        ("收件人王喆不存在", "gbk", "gb2312"),
        ("收件人邮箱已满，请稍后再试。", "gbk", None),
        ("收件人邮箱已满，请稍后再试。", "gbk", "iso-8859-1"),
        ("收件人邮箱已满，请稍后再试。", "gbk", "utf-8"),
        ("您寄送到的郵件無法送達，對方郵件伺服器拒絕連線。", "big5", None),
        ("您寄送到的郵件無法送達，對方郵件伺服器拒絕連線。", "big5", "big5"),
        ("发件人：张㐀", "gb18030", "gb18030"),
        ("退信原因：收件人不存在", "utf-8", None),
        ("Empfänger unbekannt: das Postfach existiert nicht.", "iso-8859-1", "iso-8859-1"),
        ("User unknown", "ascii", "x-no-such-charset"),
        # Japanese, Korean and Russian, declared, missing or wrong.
        ("宛先のメールアドレスが見つかりません", "iso2022_jp", None),
        ("宛先のメールアドレスが見つかりません", "iso2022_jp", "us-ascii"),
        ("宛先のメールアドレスが見つかりません", "shift_jis", None),
        ("宛先のメールアドレスが見つかりません", "euc_jp", "iso-8859-1"),
        ("수신자를 찾을 수 없습니다", "euc_kr", None),
        ("수신자를 찾을 수 없습니다", "euc_kr", "iso-8859-1"),
        ("Получатель не найден", "koi8_r", "koi8-r"),
        ("Получатель не найден", "cp1251", None),
        ("Получатель не найден", "cp1251", "koi8-r"),
    ],
)
def test_decode_text_reads_declared_missing_and_wrong_labels(
    text: str, encoding: str, label: str | None
) -> None:
    assert decode_text(text.encode(encoding), label) == text


@given(st.binary(max_size=300), st.sampled_from([None, "utf-8", "gb2312", "big5", "latin-1"]))
def test_decode_text_never_raises(data: bytes, label: str | None) -> None:
    assert isinstance(decode_text(data, label), str)


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("550 5.1.1 <bob@example.org>: User unknown", "5.1.1"),
        ("550-5.7.26 unauthenticated", "5.7.26"),
        ("Sorry, no mailbox here by that name. (#5.1.1)", "5.1.1"),
        ("552 Requested mail action aborted", "552"),
        ("对方服务器返回：550 User not found", "550"),
        ("421 4.7.0 Too many connections", "4.7.0"),
        ("Connected to 10.4.5.6 but the connection died", None),
        ("connect to mx.example.org port 587: timed out", None),
        ("250 2.0.0 Ok: queued", None),
        ("收件人域名不存在", None),
    ],
)
def test_find_status(text: str, status: str | None) -> None:
    assert find_status(text) == status


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(MESSAGES),
    cut=st.floats(min_value=0, max_value=1),
    noise=st.binary(max_size=40),
)
def test_damaged_messages_give_records_or_a_clear_refusal(
    name: str, cut: float, noise: bytes
) -> None:
    raw = (FIXTURES / name).read_bytes()
    damaged = raw[: int(len(raw) * cut)] + noise
    try:
        records = parse_bounce(damaged)
    except BrokenMessageError:
        return
    assert records


def test_evaluate_emails_reports_each_mail_system() -> None:
    from typer.testing import CliRunner

    from bounce_ml.cli import app

    result = CliRunner().invoke(app, ["evaluate", "--emails", str(FIXTURES)])
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split()[1:] for line in result.output.splitlines() if line}
    systems = {EXPECTED[name].get("system", "?") for name in MESSAGES}
    assert systems <= set(rows)
    assert rows["all"][0] == str(len(MESSAGES))  # every email counted once


def test_evaluate_emails_names_a_missing_file(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from bounce_ml.cli import app

    (tmp_path / "expected.toml").write_text('["gone.eml"]\nrecords = []\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["evaluate", "--emails", str(tmp_path)])
    assert result.exit_code == 1
    assert "expected.toml: ['gone.eml']: no such file" in result.output
