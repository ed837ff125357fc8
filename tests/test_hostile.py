"""Hostile and broken text: every case has a clear outcome, never an exception or a hang."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from bounce_ml import classify, config
from bounce_ml.cli import app
from bounce_ml.predict.artifacts import load_model
from bounce_ml.predict.classifier import MAX_TEXT_CHARS
from bounce_ml.text.normalize import normalize_text
from bounce_ml.text.tokenize import Tokenizer

runner = CliRunner()
tokenize = Tokenizer(load_model(config.MODELS_DIR).scorer.segmenter)


def test_empty_and_whitespace_text_is_unknown_with_a_note() -> None:
    for text in ("", "   \t\n "):
        prediction = classify(text)
        assert prediction.label == "unknown"
        assert prediction.note == "empty text"


@pytest.mark.slow
def test_a_50_mb_line_is_truncated_with_a_flag_and_warning() -> None:
    line = "550 5.1.1 user unknown " + "x" * (50 * 1024 * 1024)
    prediction = classify(line)
    assert prediction.label == "user_unknown"
    assert prediction.truncated is True and classify("550 user unknown").truncated is False
    assert len(prediction.text) == MAX_TEXT_CHARS
    result = runner.invoke(app, ["predict", "-f", "jsonl"], input=line + "\n")
    assert result.exit_code == 0
    assert f"warning: item 1: text truncated to {MAX_TEXT_CHARS} characters" in result.output


def test_binary_junk_and_nul_bytes() -> None:
    junk = bytes(range(256)).decode("latin-1") + "\x00\x00\ufffd\ufeff"
    prediction = classify(junk)
    assert (prediction.label, prediction.decided_by) == ("unknown", "none")
    assert "\x00" not in normalize_text(junk)


def test_other_languages_give_a_valid_answer() -> None:
    texts = [
        "Der Empfänger ist unbekannt",
        "Получатель не найден",
        "宛先のメールアドレスが見つかりません",
        "수신자를 찾을 수 없습니다",
    ]
    for prediction in classify(texts):
        # each says "recipient unknown": that, or no confident answer, never another label
        assert prediction.label in ("user_unknown", "unknown")
        assert 0.0 <= prediction.confidence <= 1.0


def test_batch_keeps_order_and_length() -> None:
    texts = ["552 5.2.2 Mailbox full", "", "550 5.1.1 user unknown", "552 5.2.2 Mailbox full"]
    labels = [p.label for p in classify(texts)]
    assert labels == ["mailbox_full", "unknown", "user_unknown", "mailbox_full"]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_normalize_is_idempotent_and_tokenize_never_raises(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once
    assert all(token.strip() for token in tokenize(once))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=80), max_size=5))
def test_classify_never_raises(texts: list[str]) -> None:
    predictions = classify(texts)
    assert [p.text for p in predictions] == texts
    json.dumps([p.to_dict() for p in predictions], ensure_ascii=False)
