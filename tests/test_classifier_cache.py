"""The Classifier remembers answers per wording and per (wording, codes): what it remembers
must never change an answer."""

from __future__ import annotations

import pytest

from bounce_ml import Classifier
from bounce_ml.mail.records import BounceRecord
from bounce_ml.predict import classifier as classifier_module

TEXTS = [
    "550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown",
    "552 5.2.2 Mailbox full",
    "421 4.7.0 Try again later",
    "收件人不存在",
    "mailbox unavailable",
]


def _fresh(record: BounceRecord) -> tuple[str, str, tuple[str, ...]]:
    prediction = Classifier().predict_records([record])[0]
    return prediction.label, prediction.decided_by, prediction.evidence


def test_a_full_cache_still_answers_a_batch_of_remembered_and_new_wordings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(classifier_module, "CACHE_SIZE", 3)
    classifier = Classifier()
    first = classifier.predict(TEXTS[:3])
    # Two remembered wordings and two new ones: more than the cache holds, so it is emptied.
    again = classifier.predict([TEXTS[0], TEXTS[3], TEXTS[1], TEXTS[4]])
    assert [p.label for p in again] == [
        first[0].label,
        Classifier().predict([TEXTS[3]])[0].label,
        first[1].label,
        Classifier().predict([TEXTS[4]])[0].label,
    ]


def test_the_same_wording_with_other_codes_gets_its_own_answer() -> None:
    records = [
        BounceRecord(text="mailbox unavailable", status="5.2.2"),
        BounceRecord(text="mailbox unavailable", status="5.1.1"),
        BounceRecord(text="mailbox unavailable"),
        BounceRecord(text="mailbox unavailable", status="5.2.2"),
    ]
    batch = Classifier().predict_records(records)
    assert [(p.label, p.decided_by, p.evidence) for p in batch] == [_fresh(r) for r in records]
    assert batch[0].label != batch[1].label  # the codes decide here, so the test can tell


def test_remembered_answers_carry_each_line_text() -> None:
    lines = ["550 5.1.1 user unknown", "  550 5.1.1 USER UNKNOWN  ", "x" * 10_001 + " 550 5.1.1"]
    predictions = Classifier().predict(lines)
    assert [p.text for p in predictions] == [lines[0], lines[1], lines[2][:10_000]]
    assert [p.truncated for p in predictions] == [False, False, True]
