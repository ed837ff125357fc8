"""Writers of a model folder: one at a time, no leftovers, and readers see whole models."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from bounce_ml import config
from bounce_ml.cli import app
from bounce_ml.corpus.files import corpus_files
from bounce_ml.predict.artifacts import load_model
from bounce_ml.train import fit
from bounce_ml.train.artifacts import load_pipeline, save_model
from bounce_ml.train.lock import model_dir_lock

runner = CliRunner()


def test_a_second_writer_is_refused_and_stale_staging_is_swept(small_data_dir, tmp_path) -> None:
    model_dir = tmp_path / "model"
    stale = model_dir / ".staging-killed"
    stale.mkdir(parents=True)
    (stale / "scorer.npz").write_bytes(b"half a model")
    args = ["train", "--data-dir", str(small_data_dir), "--model", str(model_dir)]
    with model_dir_lock(model_dir):  # another train holds the folder
        busy = runner.invoke(app, args)
        rollback = runner.invoke(app, ["model", "rollback", "--model", str(model_dir)])
    for result in (busy, rollback):
        assert result.exit_code == 1
        *steps, line = result.output.splitlines()  # train reports its steps first
        assert all(step.startswith("bounce-ml: ") and "error" not in step for step in steps)
        assert line.startswith(f"bounce-ml: error: {model_dir}: process ")
        assert line.endswith(
            "is writing this model folder (a train or a rollback); try again when it has finished"
        )
    assert not (model_dir / "metadata.json").exists()

    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert not stale.exists()
    assert [p.name for p in model_dir.iterdir() if p.name.startswith(".staging-")] == []


@pytest.mark.slow
def test_readers_see_the_old_or_the_new_model_whole(tmp_path: Path) -> None:
    model_dir = tmp_path / "model"
    loaded = load_model(config.MODELS_DIR)
    pipeline = load_pipeline(config.MODELS_DIR)
    base = loaded.scorer.intercept
    intercepts = {"a": base + 0.5, "b": base + 1.0}  # two models whose scorer files differ
    metadata = dict(loaded.metadata)
    loaded.scorer.intercept = intercepts["a"]
    save_model(model_dir, loaded.scorer, pipeline, {**metadata, "generation": "a"})
    failures: list[BaseException] = []

    def write() -> None:
        try:
            for turn in range(6):
                generation = "ab"[turn % 2]
                loaded.scorer.intercept = intercepts[generation]
                save_model(
                    model_dir, loaded.scorer, pipeline, {**metadata, "generation": generation}
                )
        except BaseException as error:
            failures.append(error)

    writer = threading.Thread(target=write)
    writer.start()
    reads = 0
    while writer.is_alive():
        model = load_model(model_dir)
        expected = intercepts[model.metadata["generation"]]
        np.testing.assert_array_equal(model.scorer.intercept, expected)
        reads += 1
    writer.join()
    assert failures == [] and reads > 0


def test_train_shows_progress_on_stderr(small_data_dir, tmp_path) -> None:
    args = ["train", "--data-dir", str(small_data_dir), "--model", str(tmp_path / "model")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    steps = [line for line in result.stderr.splitlines() if line.startswith("bounce-ml: ")]
    assert [step.split(":")[1].split()[0] for step in steps] == ["reading", "fitting", "saving"]
    assert "240 rows" in steps[1]
    assert result.stdout.startswith("trained on 240 rows")


def test_train_refuses_more_rows_than_measured_before_reading_them(
    small_data_dir, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fit, "MAX_TRAIN_LINES", 200)
    model_dir = tmp_path / "model"
    result = runner.invoke(
        app, ["train", "--data-dir", str(small_data_dir), "--model", str(model_dir)]
    )
    lines = sum(path.read_bytes().count(b"\n") for path in corpus_files(small_data_dir))
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == (
        f"bounce-ml: error: the training files hold {lines} lines, more than the 200 rows "
        "`train` is measured to handle on this machine (README, 'Speed, memory and safety'); "
        "train on a sample of your rows"
    )
    assert not (model_dir / "metadata.json").exists()
