"""`bounce-ml spark predict`, run as a user runs it: a real process with a local Spark."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from bounce_ml import classify, config
from bounce_ml.predict.artifacts import METADATA_FILE, MODEL_FILES, SCORER_FILE

EMAILS = Path(__file__).parent / "fixtures" / "emails"
BOUNCE_ML = str(Path(sys.executable).parent / "bounce-ml")


def _spark_predict(*args: str) -> subprocess.CompletedProcess[str]:
    command = [BOUNCE_ML, "spark", "predict", "--master", "local[2]", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_emails_folder_to_parquet_gives_the_labels_of_predict_input(tmp_path: Path) -> None:
    output = tmp_path / "labels.parquet"
    result = _spark_predict("--input", str(EMAILS), "--output", str(output))
    assert result.returncode == 0, result.stderr
    table = pq.read_table(output).to_pylist()
    assert result.stderr.startswith(f"bounce-ml: {len(table)} classified (")

    cli = subprocess.run(
        [BOUNCE_ML, "predict", "--input", str(EMAILS), "-f", "jsonl"],
        capture_output=True,
        text=True,
        check=True,
    )
    expected = sorted(
        (Path(row["source"]).name, row["recipient"] or "", row["label"], row["confidence"])
        for row in map(json.loads, cli.stdout.splitlines())
    )
    got = sorted(
        (Path(row["source"]).name, row["recipient"] or "", row["label"], row["confidence"])
        for row in table
        if not (row["note"] or "").startswith("unreadable")
    )
    assert got == expected


@pytest.mark.slow
def test_csv_in_csv_out_keeps_columns_and_quoting(tmp_path: Path) -> None:
    texts = ['550 5.1.1 "bob"@example.com: no such user', "邮箱已满,\n请稍后再试", ""]
    source = tmp_path / "bounces.csv"
    with open(source, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "message"])
        writer.writerows([str(i), text] for i, text in enumerate(texts))
    output = tmp_path / "out"
    result = _spark_predict(
        "-i", str(source), "-o", str(output), "-f", "csv", "--text-column", "message", "-q"
    )
    assert (result.returncode, result.stderr) == (0, "")
    rows = []
    for part in sorted(output.glob("part-*.csv")):
        with open(part, encoding="utf-8", newline="") as handle:
            rows += list(csv.DictReader(handle))
    rows.sort(key=lambda row: int(row["id"]))
    # Spark reads an empty CSV cell as null, which is classified as empty text.
    assert [row["message"] for row in rows] == texts
    assert [row["label"] for row in rows] == [p.label for p in classify(texts)]


@pytest.mark.slow
def test_a_tampered_model_is_one_line_on_stderr(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    for name in MODEL_FILES:
        shutil.copy(config.MODELS_DIR / name, model / name)
    scorer = bytearray((config.MODELS_DIR / SCORER_FILE).read_bytes())
    scorer[-100] ^= 0x01
    (model / SCORER_FILE).write_bytes(bytes(scorer))
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "550 5.1.1 user unknown"}\n', encoding="utf-8")
    output = tmp_path / "out"
    result = _spark_predict("-i", str(source), "-o", str(output), "--model", str(model))
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("bounce-ml: error: ") and line.endswith(
        f"{SCORER_FILE}: SHA-256 does not match {METADATA_FILE}; "
        "refusing to load a model file that was changed after training"
    )
    assert sorted(tmp_path.iterdir()) == sorted([model, source])  # no output, no leftovers


def test_an_existing_output_is_refused_before_spark_starts(tmp_path: Path) -> None:
    output = tmp_path / "out"
    output.mkdir()
    (output / "keep.txt").write_text("mine", encoding="utf-8")
    result = _spark_predict("-i", str(EMAILS), "-o", str(output))
    assert result.returncode == 1
    assert (
        result.stderr
        == f"bounce-ml: error: {output}: already exists (use --overwrite to replace it)\n"
    )
    assert (output / "keep.txt").read_text(encoding="utf-8") == "mine"


def test_without_the_spark_extra_it_says_so_in_one_line(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "sys.modules['pyspark'] = None  # as if bounce-ml[spark] were not installed\n"
        "from bounce_ml.cli import app\n"
        "app(['spark', 'predict', '-i', sys.argv[1], '-o', sys.argv[2]])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(EMAILS), str(tmp_path / "out")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert result.stderr == (
        "bounce-ml: error: Spark is not installed: pip install 'bounce-ml[spark]' "
        "(needs Java 17+)\n"
    )
