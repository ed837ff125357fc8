"""The whole learning loop on a provider the model has never seen (the README walkthrough).

Halvard Mail is invented: its wording (tests/fixtures/feedback/) appears nowhere in
data/. Its 20 teaching rows go through the review queue, a spreadsheet and the
feedback store into a retrain; its 20 other wordings are held out.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bounce_ml import config
from bounce_ml.cli import app
from bounce_ml.corpus.files import corpus_files
from bounce_ml.train.compare import compare_models

FIXTURES = Path(__file__).parent / "fixtures" / "feedback"
TEACH = FIXTURES / "halvard_teach.csv"
HELD_OUT = FIXTURES / "halvard_holdout.csv"
runner = CliRunner()


def _invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _label_the_sheet(sheet: Path, answers: dict[str, str]) -> int:
    """What a person does in the spreadsheet: fill in the label column."""
    rows = _rows(sheet)
    for row in rows:
        row["label"] = answers.get(row["text"], "")
    with open(sheet, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return sum(1 for row in rows if row["label"])


@pytest.mark.slow
def test_teaching_an_unseen_provider_through_the_review_queue(tmp_path: Path) -> None:
    store, sheet, new_model = tmp_path / "feedback.sqlite3", tmp_path / "queue.csv", tmp_path / "m"
    baseline = config.MODELS_DIR

    before = compare_models(HELD_OUT, baseline, baseline).new.metrics()["combined"]["accuracy"]
    assert before < 0.7, "the provider must be new to the shipped model for this test to mean much"

    _invoke("review", "--input", str(TEACH), "--feedback", str(store), "--below", "1",
            "--export", str(sheet))  # fmt: skip
    answers = {row["text"]: row["label"] for row in _rows(TEACH)}
    assert _label_the_sheet(sheet, answers) == len(answers) == 20
    assert "imported 20 labeled rows" in _invoke("feedback", "import", str(sheet),
                                                 "--feedback", str(store))  # fmt: skip

    trained = _invoke("train", "--feedback", str(store), "--model", str(new_model))
    assert "20 rows from the feedback store" in trained

    held_out = compare_models(HELD_OUT, new_model, baseline)
    assert held_out.new.metrics()["combined"]["accuracy"] >= 0.90
    fixed, broken = held_out.changed_rows()
    assert len(fixed) > 0 and broken == []

    # the rest of the corpus: every label at least as good as before
    everything = tmp_path / "corpus.csv"
    with open(everything, "w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=["text", "label"])
        writer.writeheader()
        for path in corpus_files():
            writer.writerows({"text": r["text"], "label": r["label"]} for r in _rows(path))
    output = _invoke("evaluate", "--model", str(new_model), "--baseline", str(baseline),
                     "--data", str(everything))  # fmt: skip
    assert "labels worse: none" in output
    assert compare_models(everything, new_model, baseline).worse_labels() == []
