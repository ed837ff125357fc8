import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from bounce_ml import Classifier, config
from bounce_ml.cli import app
from bounce_ml.corpus.files import data_hash, load_corpus
from bounce_ml.errors import BounceMLError
from bounce_ml.predict.artifacts import METADATA_FILE, SCORER_FILE, load_model
from bounce_ml.text.normalize import normalize_texts
from bounce_ml.train.artifacts import load_pipeline

runner = CliRunner()


def test_committed_model_was_trained_on_the_current_data() -> None:
    metadata = json.loads((config.MODELS_DIR / METADATA_FILE).read_text(encoding="utf-8"))
    assert metadata["data_hash"] == data_hash(), (
        "data/ changed: run `make train` and commit models/"
    )


@pytest.mark.slow
def test_numpy_scorer_matches_the_sklearn_pipeline() -> None:
    texts = load_corpus().texts[::7]
    pipeline = load_pipeline(config.MODELS_DIR)
    scorer = load_model(config.MODELS_DIR).scorer
    assert scorer.classes == list(pipeline.classes_)
    expected = pipeline.predict_proba(texts)
    np.testing.assert_allclose(scorer.predict_proba(normalize_texts(texts)), expected, atol=1e-5)


def test_committed_metadata_is_complete() -> None:
    metadata = json.loads((config.MODELS_DIR / METADATA_FILE).read_text(encoding="utf-8"))
    for key in ("labels", "data_hash", "rows", "libraries", "threshold", "files"):
        assert key in metadata
    assert 0 < metadata["threshold"] < 1


def _write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.mark.slow
def test_retraining_learns_a_label_present_only_in_an_added_file(small_data_dir, tmp_path) -> None:
    with open(config.CORPUS_DIR / "virus_detected.csv", encoding="utf-8", newline="") as handle:
        virus = list(csv.DictReader(handle))
    extra = _write_csv(
        tmp_path / "new.csv", [{"text": r["text"], "label": r["label"]} for r in virus[:50]]
    )
    model_dir = tmp_path / "model"
    args = ["train", "--data-dir", str(small_data_dir), "--model", str(model_dir)]

    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "virus_detected" not in load_model(model_dir).scorer.classes

    result = runner.invoke(app, [*args, "--add", str(extra)])
    assert result.exit_code == 0, result.output
    scorer = load_model(model_dir).scorer
    assert "virus_detected" in scorer.classes
    held_out = normalize_texts(["554 5.7.1 Rejected: the attachment contains a virus (W32/Netsky)"])
    assert scorer.classes[int(scorer.predict_proba(held_out).argmax())] == "virus_detected"
    # the previous model is kept, with its own metadata
    previous = list((model_dir / "previous").iterdir())
    assert len(previous) == 1 and (previous[0] / METADATA_FILE).is_file()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "text,label\nsomething bounced,no_such_label\n",
            "new.csv:2: unknown label 'no_such_label'",
        ),
        ("text,category\nsomething bounced,user_unknown\n", "new.csv: missing column 'label'"),
    ],
)
def test_train_refuses_bad_added_file(small_data_dir, tmp_path, content, message) -> None:
    extra = tmp_path / "new.csv"
    extra.write_text(content, encoding="utf-8")
    model_dir = tmp_path / "model"
    result = runner.invoke(
        app,
        [
            "train",
            "--data-dir",
            str(small_data_dir),
            "--model",
            str(model_dir),
            "--add",
            str(extra),
        ],
    )
    assert result.exit_code == 1
    assert message in result.output
    assert not model_dir.exists() or not (model_dir / METADATA_FILE).exists()


@pytest.fixture
def model_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "model"
    shutil.copytree(config.MODELS_DIR, copy, ignore=shutil.ignore_patterns("previous", "report"))
    return copy


def test_tampered_model_file_is_refused(model_copy: Path) -> None:
    data = bytearray((model_copy / SCORER_FILE).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (model_copy / SCORER_FILE).write_bytes(bytes(data))
    with pytest.raises(BounceMLError, match="SHA-256 does not match"):
        Classifier(model_dir=model_copy)
    result = runner.invoke(app, ["predict", "--model", str(model_copy), "550 user unknown"])
    assert result.exit_code == 1
    assert "refusing to load" in result.output


def test_tampered_pipeline_is_refused_before_unpickling(model_copy: Path) -> None:
    (model_copy / "pipeline.joblib").write_bytes(b"cos\nsystem\n(S'echo pwned'\ntR.")
    with pytest.raises(BounceMLError, match="SHA-256 does not match"):
        load_pipeline(model_copy)


def test_model_with_a_different_label_set_is_refused(model_copy: Path) -> None:
    path = model_copy / METADATA_FILE
    metadata = json.loads(path.read_text(encoding="utf-8"))
    metadata["labels"] = [*metadata["labels"][:-1], "made_up_label"]
    path.write_text(json.dumps(metadata), encoding="utf-8")
    with pytest.raises(BounceMLError, match="label set"):
        Classifier(model_dir=model_copy)


def test_missing_model_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BounceMLError, match="no trained model here"):
        Classifier(model_dir=tmp_path)
