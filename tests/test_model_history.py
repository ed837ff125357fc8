"""`train` keeps previous models; `model list` and `model rollback` manage them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from bounce_ml import config
from bounce_ml.cli import app
from bounce_ml.predict.artifacts import METADATA_FILE, SCORER_FILE, read_metadata
from bounce_ml.train.history import KEEP_PREVIOUS, PREVIOUS_DIR, list_models, prune

runner = CliRunner()


def _train(data_dir: Path, model_dir: Path) -> str:
    args = ["train", "--data-dir", str(data_dir), "--model", str(model_dir)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.output


def test_train_keeps_the_previous_model_and_rollback_restores_it(small_data_dir, tmp_path) -> None:
    model_dir = tmp_path / "model"
    first = _train(small_data_dir, model_dir)
    assert "previous model" not in first
    first_created = read_metadata(model_dir)["created"]
    # the second model must differ: one more label file
    shutil.copy(config.CORPUS_DIR / "rate_limited.csv", small_data_dir / "corpus")
    second = _train(small_data_dir, model_dir)
    entries = list_models(model_dir)
    assert entries[0].id == "current"
    assert len(entries) == 2
    assert f"the previous model is kept as {entries[1].id}" in second
    assert entries[1].created == first_created
    assert entries[0].rows > entries[1].rows

    listing = runner.invoke(app, ["model", "list", "--model", str(model_dir)])
    assert listing.exit_code == 0, listing.output
    assert entries[1].id in listing.output and "current" in listing.output

    result = runner.invoke(app, ["model", "rollback", "--model", str(model_dir)])
    assert result.exit_code == 0, result.output
    assert read_metadata(model_dir)["created"] == first_created
    assert "rate_limited" not in read_metadata(model_dir)["labels"]
    # the replaced model is kept, so the rollback can be undone
    after = list_models(model_dir)
    assert len(after) == 2
    assert "rate_limited" in read_metadata(after[1].path)["labels"]
    assert f"kept as {after[1].id}" in result.output


def test_rollback_errors_are_one_line_and_change_nothing(small_data_dir, tmp_path) -> None:
    model_dir = tmp_path / "model"
    _train(small_data_dir, model_dir)
    result = runner.invoke(app, ["model", "rollback", "--model", str(model_dir)])
    assert result.exit_code == 1
    assert "no previous model to roll back to" in result.output

    _train(small_data_dir, model_dir)
    current = read_metadata(model_dir)["created"]
    result = runner.invoke(app, ["model", "rollback", "--to", "1999", "--model", str(model_dir)])
    assert result.exit_code == 1
    assert "no previous model '1999'" in result.output

    previous = list_models(model_dir)[1].path
    (previous / SCORER_FILE).write_bytes(b"damaged")
    result = runner.invoke(app, ["model", "rollback", "--model", str(model_dir)])
    assert result.exit_code == 1
    assert "SHA-256 does not match" in result.output
    assert read_metadata(model_dir)["created"] == current
    assert "Traceback" not in result.output


def test_only_the_newest_previous_models_are_kept(tmp_path: Path) -> None:
    model_dir = tmp_path / "model"
    previous = model_dir / PREVIOUS_DIR
    for day in range(1, KEEP_PREVIOUS + 3):
        entry = previous / f"202611{day:02d}T120000Z"
        shutil.copytree(
            config.MODELS_DIR, entry, ignore=shutil.ignore_patterns("previous", "report")
        )
        metadata = json.loads((entry / METADATA_FILE).read_text(encoding="utf-8"))
        metadata["created"] = f"2026-11-{day:02d}T12:00:00+00:00"
        (entry / METADATA_FILE).write_text(json.dumps(metadata), encoding="utf-8")
    prune(model_dir)
    kept = sorted(path.name for path in previous.iterdir())
    assert kept == [f"202611{day:02d}T120000Z" for day in range(3, KEEP_PREVIOUS + 3)]
