"""The status-code table (data/status_codes.toml) and how codes and text are combined."""

from __future__ import annotations

from pathlib import Path

import pytest

from bounce_ml import BounceMLError, BounceRecord, Classifier, classify
from bounce_ml.labels.status_codes import default_status_table, load_status_table
from bounce_ml.mail.smtp import find_command, first_rejection, text_record

TABLE = default_status_table()


@pytest.mark.parametrize(
    ("status", "reply", "command", "table", "label"),
    [
        ("5.1.1", None, None, "status", "user_unknown"),
        ("4.2.2", None, None, "status", "mailbox_full"),  # X.2.2 covers both classes
        ("4.2.1", None, None, "status", "rate_limited"),  # class-specific beats X.2.1
        ("5.2.1", None, None, "status", "mailbox_disabled"),
        ("5.7.1", "550", "MAIL", "status", "sender_blocked"),  # broad code, command refines
        ("5.7.1", "550", "DATA", "status", "content_rejected"),
        ("5.0.0", "552", None, "reply", "mailbox_full"),  # no entry for 5.0.0
        ("550", None, None, None, None),  # a bare 550 says nothing
        (None, "550", "RCPT", "command", "user_unknown"),
        ("2.0.0", "250", "RCPT", None, None),  # success codes give no hint
    ],
)
def test_hint_takes_the_most_specific_entry(
    status: str | None, reply: str | None, command: str | None, table: str | None, label: str
) -> None:
    hint = TABLE.hint(status, reply, command)
    if table is None:
        assert hint is None
    else:
        assert hint is not None and (hint.entry.table, hint.label) == (table, label)


@pytest.mark.parametrize(
    ("record", "label", "decided_by"),
    [
        # Text missing: the code decides.
        (BounceRecord(text="", status="5.2.2"), "mailbox_full", "status"),
        (BounceRecord(text="", status="5.1.8"), "sender_blocked", "status"),
        (BounceRecord(text="", reply_code="552"), "mailbox_full", "status"),
        (BounceRecord(text="", smtp_command="HELO"), "helo_rejected", "status"),
        (BounceRecord(text=""), "unknown", "none"),
        # Text uninformative: the code decides.
        (BounceRecord(text="smtp; 550 delivery error", status="5.2.2"), "mailbox_full", "status"),
        # Text and code agree: the text decides.
        (BounceRecord(text="552 5.2.2 Mailbox full", status="5.2.2"), "mailbox_full", "model"),
        # They disagree and the code is trusted to narrow: the code wins.
        (
            BounceRecord(text="553 Domain of sender address does not exist", status="5.1.8"),
            "sender_blocked",
            "status",
        ),
        # They disagree and the code is broad (5.7.1): the text wins.
        (
            BounceRecord(text="550 5.7.1 <x@example.org>: User unknown", status="5.7.1"),
            "user_unknown",
            "model",
        ),
        # An override rule (a provider's known wording) is never narrowed.
        (
            BounceRecord(text="550 CoremailSys:System is busy", status="5.2.2"),
            "content_rejected",
            "rule",
        ),
    ],
)
def test_codes_fill_in_and_narrow_the_text(
    record: BounceRecord, label: str, decided_by: str
) -> None:
    prediction = classify(record)
    assert (prediction.label, prediction.decided_by) == (label, decided_by)
    if decided_by == "status":
        assert prediction.evidence[0].startswith(("status ", "reply ", "command "))


def test_rules_only_mode_uses_codes_too() -> None:
    classifier = Classifier(use_model=False)
    [silent, narrowed] = classifier.predict_records(
        [BounceRecord(status="5.3.4"), BounceRecord(text="sender rejected", status="5.2.2")]
    )
    assert (silent.label, silent.decided_by) == ("message_too_large", "status")
    assert (narrowed.label, narrowed.decided_by) == ("mailbox_full", "status")


def test_records_that_are_not_failures_are_unknown() -> None:
    for kind in ("auto_reply", "feedback_report", "delivered", "not_bounce"):
        prediction = classify(BounceRecord(text="550 5.1.1 user unknown", kind=kind))
        assert (prediction.label, prediction.decided_by) == ("unknown", "none")
        assert prediction.note == f"not a failure: {kind}"
    assert classify(BounceRecord(text="550 5.1.1 user unknown", kind="delayed")).label == (
        "user_unknown"
    )


def test_classify_takes_strings_records_and_mixed_lists_in_order() -> None:
    texts = ["552 5.2.2 Mailbox full", BounceRecord(status="5.1.1"), "收件人不存在"]
    assert [p.label for p in classify(texts)] == ["mailbox_full", "user_unknown", "user_unknown"]
    assert classify("552 5.2.2 Mailbox full").text == "552 5.2.2 Mailbox full"


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ("550 unknown user 503 need RCPT command", "550 unknown user"),
        (
            "550 5.7.1 IP blacklisted by zen.spamhaus.org 503 Error: need RCPT command",
            "550 5.7.1 IP blacklisted by zen.spamhaus.org",
        ),
        (
            "550 5.1.1 No such user; 554 5.5.1 Error: no valid recipients",
            "550 5.1.1 No such user",
        ),
        # A consequence with no rejection before it is the only reply: kept.
        ("503 5.5.1 Error: need RCPT command", "503 5.5.1 Error: need RCPT command"),
        ("554 5.7.1 Service unavailable", "554 5.7.1 Service unavailable"),
    ],
)
def test_first_rejection_is_the_cause(text: str, cause: str) -> None:
    assert first_rejection(text) == cause


def test_later_consequences_never_decide() -> None:
    prediction = classify("550 5.7.1 IP blacklisted by spamhaus 503 Error: need RCPT command")
    assert prediction.label == "ip_blacklisted"
    record = text_record("550 5.1.1 unknown user 503 5.5.1 need RCPT command")
    assert (record.status, record.reply_code) == ("5.1.1", "550")


def test_predict_reads_a_texts_cause_as_predict_records_does() -> None:
    texts = [
        "550 5.1.1 unknown user 503 5.5.1 need RCPT command",
        "554 5.7.1 Service unavailable",
        "mailbox full",
    ]
    records = [text_record(text) for text in texts]
    assert Classifier().predict(texts) == Classifier().predict_records(records)
    assert text_record(texts[0], cause="550 5.1.1 unknown user") == records[0]


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("host mx[192.0.2.1] said: 550 5.1.1 unknown (in reply to RCPT TO command)", "RCPT"),
        ("SMTP error from remote mail server after MAIL FROM:<a@b.example> SIZE=1234", "MAIL"),
        ("SMTP error from remote mail server after end of data: 554 spam", "DATA"),
        ("conversation with mx timed out while receiving the initial server greeting", "CONNECT"),
        ("504 5.5.2 Helo command rejected (in reply to EHLO command)", "HELO"),
        ("550 5.1.1 User unknown", None),
    ],
)
def test_find_command(text: str, command: str | None) -> None:
    assert find_command(text) == command


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[strength]\nstatus = 0.6\nreply = 0.4\n", "[strength]: missing key 'command'"),
        (
            '[strength]\nstatus = 0.6\nreply = 0.4\ncommand = 0.3\n[status."5.1.1"]\n'
            'label = "no_such_label"\ntrust = "narrow"\nmeaning = "x"\n',
            "[status.'5.1.1']: 'no_such_label' is not a label",
        ),
        (
            '[strength]\nstatus = 0.6\nreply = 0.4\ncommand = 0.3\n[status."5.1"]\n'
            'label = "user_unknown"\ntrust = "narrow"\nmeaning = "x"\n',
            "[status.'5.1']: not a valid status key",
        ),
        (
            '[strength]\nstatus = 0.6\nreply = 0.4\ncommand = 0.3\n[reply."550"]\n'
            'label = "user_unknown"\ntrust = "always"\nmeaning = "x"\n',
            "[reply.'550']: key 'trust' must be one of narrow, fallback",
        ),
        (
            "[strength]\nstatus = 0.6\nreply = 0.4\ncommand = 0.3\n[command.RCPT]\n"
            'label = "user_unknown"\ntrust = "fallback"\n',
            "[command.'RCPT']: missing key 'meaning'",
        ),
        (
            "[strength]\nstatus = 0.6\nreply = 0.4\ncommand = 0.3\n[codes]\n",
            "unknown key 'codes'",
        ),
        # A consequence pattern is tried only where one of the codes starts: one that starts
        # otherwise would never fire, so it is refused.
        (
            "[strength]\nstatus = 0.6\nreply = 0.4\ncommand = 0.3\n[transcript]\n"
            "codes = ['503']\nconsequences = ['need rcpt command']\n",
            "[transcript] pattern 'need rcpt command' must start with one of the codes (503)",
        ),
        (
            "[strength]\nstatus = 0.6\nreply = 0.4\ncommand = 0.3\n[transcript]\n"
            "codes = ['503']\nconsequences = ['(?:503|421) need rcpt']\n",
            "must start with one of the codes (503)",
        ),
    ],
)
def test_bad_table_is_refused_with_file_table_and_key(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "status_codes.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(BounceMLError) as error:
        load_status_table(path)
    assert str(path) in str(error.value) and message in str(error.value)
    assert "\n" not in str(error.value)
