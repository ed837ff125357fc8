import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bounce_ml.cli import app

runner = CliRunner()


@pytest.mark.slow
def test_evaluate_a_labeled_file_against_the_saved_model(tmp_path: Path) -> None:
    labeled = tmp_path / "held_out.csv"
    labeled.write_text(
        "text,label\n"
        '"550 5.1.1 <a@example.com>: User unknown",user_unknown\n'
        '"552 5.2.2 Mailbox full",mailbox_full\n'
        '"收件人邮箱空间不足，邮件被退回",mailbox_full\n'
        '"554 5.7.1 Client host [192.0.2.1] blocked using zen.spamhaus.org",ip_blacklisted\n',
        encoding="utf-8",
    )
    out = tmp_path / "report"
    result = runner.invoke(app, ["evaluate", "--data", str(labeled), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "| combined |" in result.output
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert set(metrics["metrics"]) == {"rules", "model", "combined"}
    assert metrics["rows"] == 4
    assert metrics["metrics"]["combined"]["accuracy"] == 1.0
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "## Per label" in report and "## Most confident mistakes" in report
    assert (out / "confusion.png").read_bytes()[:4] == b"\x89PNG"


def test_evaluate_refuses_a_bad_labeled_file(tmp_path: Path) -> None:
    labeled = tmp_path / "bad.csv"
    labeled.write_text("text,label\nhello,not_a_label\n", encoding="utf-8")
    result = runner.invoke(app, ["evaluate", "--data", str(labeled), "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert f"{labeled}:2: unknown label 'not_a_label'" in result.output


def test_data_check_passes_on_the_corpus() -> None:
    result = runner.invoke(app, ["data", "check"])
    assert result.exit_code == 0, result.output
    assert "OK: corpus is valid and meets every coverage target" in result.output
    assert "distinct wordings per label x language" in result.output


@pytest.mark.slow
def test_source_split_holds_out_providers_without_splitting_a_template() -> None:
    from bounce_ml.corpus.files import load_corpus
    from bounce_ml.train.crossval import grouped_splits, split_keys

    corpus = load_corpus()
    keys = split_keys(corpus, "source")
    for train, test in grouped_splits(corpus, 5, 0, "source"):
        assert not {keys[i] for i in train} & {keys[i] for i in test}
        assert not {corpus.groups[i] for i in train} & {corpus.groups[i] for i in test}
