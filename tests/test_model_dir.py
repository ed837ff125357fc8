"""Loading a model directory: incomplete, corrupt or tampered models are one-line errors,
and prediction falls back to the rules only when asked to or when no model was shipped."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from bounce_ml import Classifier, config
from bounce_ml.cli import app
from bounce_ml.errors import BounceMLError
from bounce_ml.predict.artifacts import METADATA_FILE, PIPELINE_FILE, SCORER_FILE, sha256_file

runner = CliRunner()
EHLO = "421 4.7.0 Try again later, closing connection. (EHLO) gsmtp"


@pytest.fixture
def model_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "model"
    copy.mkdir()
    for name in (METADATA_FILE, SCORER_FILE, PIPELINE_FILE):
        shutil.copy(config.MODELS_DIR / name, copy / name)
    return copy


def _edit_metadata(model_dir: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    path = model_dir / METADATA_FILE
    metadata = json.loads(path.read_text(encoding="utf-8"))
    edit(metadata)
    path.write_text(json.dumps(metadata), encoding="utf-8")


def _rehash(model_dir: Path) -> None:
    """Make the metadata's hashes match the files again, as a careless copy would."""

    def rehash(metadata: dict[str, Any]) -> None:
        metadata["files"] = {name: sha256_file(model_dir / name) for name in metadata["files"]}

    _edit_metadata(model_dir, rehash)


def _predict(*args: str) -> Any:
    return runner.invoke(app, ["predict", "-f", "jsonl", *args, EHLO])


def _one_line_error(result: Any, *fragments: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    [line] = result.output.strip().splitlines()
    assert line.startswith("bounce-ml: error: ")
    for fragment in fragments:
        assert fragment in line


# 8. A missing or incomplete model is an error, not a silent switch to the rules.


@pytest.mark.parametrize("missing", [METADATA_FILE, SCORER_FILE, PIPELINE_FILE])
def test_incomplete_default_model_directory_is_an_error(
    model_copy: Path, missing: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (model_copy / missing).unlink()
    monkeypatch.setattr(config, "MODELS_DIR", model_copy)
    _one_line_error(_predict(), str(model_copy), "incomplete model")
    assert json.loads(_predict("--rules-only").output)["decided_by"] in ("rule", "none")


def test_rules_only_without_any_shipped_model_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(config, "MODELS_DIR", tmp_path)
    result = _predict()
    assert result.exit_code == 0, result.output
    assert f"bounce-ml: no trained model in {tmp_path}: the rules decide alone" in result.stderr
    assert json.loads(result.stdout)["decided_by"] in ("rule", "none")
    assert "no trained model" not in _predict("--rules-only").stderr


# 9. Metadata and arrays are validated on load.


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (lambda m: m.pop("threshold"), "threshold"),
        (lambda m: m.update(threshold="0.5"), "threshold"),
        (lambda m: m.update(threshold=float("nan")), "threshold"),
        (lambda m: m.update(threshold=7), "threshold"),
        (lambda m: m.update(labels="user_unknown"), "labels"),
        (lambda m: m.update(files=["scorer.npz"]), "files"),
        (lambda m: m["files"].update({"../../etc/passwd": "0" * 64}), "../../etc/passwd"),
        (lambda m: m["files"].pop(SCORER_FILE), SCORER_FILE),
    ],
)
def test_bad_metadata_is_one_line_error(model_copy: Path, edit: Callable, fragment: str) -> None:
    _edit_metadata(model_copy, edit)
    _one_line_error(_predict("--model", str(model_copy)), METADATA_FILE, fragment)


def test_deeply_nested_or_huge_metadata_is_one_line_error(model_copy: Path) -> None:
    (model_copy / METADATA_FILE).write_text("[" * 100_000, encoding="utf-8")
    _one_line_error(_predict("--model", str(model_copy)), METADATA_FILE)
    (model_copy / METADATA_FILE).write_text(" " * (2 << 20) + "{}", encoding="utf-8")
    _one_line_error(_predict("--model", str(model_copy)), METADATA_FILE, "larger than")


def _rewrite_scorer(model_dir: Path, change: Callable[[dict[str, np.ndarray]], None]) -> None:
    with np.load(model_dir / SCORER_FILE) as archive:
        arrays = dict(archive)
    change(arrays)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    (model_dir / SCORER_FILE).write_bytes(buffer.getvalue())
    _rehash(model_dir)


def _nan_coefficient(arrays: dict[str, np.ndarray]) -> None:
    arrays["coef_t"][3, 2] = np.nan


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda a: a.update(coef_t=a["coef_t"][:, :-1]), "coef_t"),
        (lambda a: a.update(intercept=a["intercept"][:3]), "intercept"),
        (_nan_coefficient, "coef_t"),
        (lambda a: a.update(words_idf=a["words_idf"][:10]), "words_idf"),
        (lambda a: a.update(classes=np.arange(len(a["classes"]))), "classes"),
        (lambda a: a.pop("chars_vocabulary"), "chars_vocabulary"),
        (lambda a: a.update(block_meta=a["block_meta"] * 1000), "block_meta"),
        # the stored n-gram tables: out of order, out of range, or short of tokens
        (lambda a: a.update(chars_table_keys=a["chars_table_keys"][::-1]), "ascending"),
        (lambda a: a.update(words_table_columns=a["words_table_columns"] + 10**9), "outside"),
        (lambda a: a.update(words_table_tokens=a["words_table_tokens"][:99]), "tokens"),
    ],
)
def test_wrong_arrays_in_the_scorer_are_one_line_errors(
    model_copy: Path, change: Callable, fragment: str
) -> None:
    _rewrite_scorer(model_copy, change)
    _one_line_error(_predict("--model", str(model_copy)), SCORER_FILE, fragment)


def test_truncated_scorer_is_one_line_error(model_copy: Path) -> None:
    data = (model_copy / SCORER_FILE).read_bytes()
    (model_copy / SCORER_FILE).write_bytes(data[: len(data) // 2])
    _rehash(model_copy)
    _one_line_error(_predict("--model", str(model_copy)), SCORER_FILE, "damaged")


# 10. Every file the metadata lists is checked, including the one predict does not load.


def test_tampered_pipeline_is_refused_by_predict(model_copy: Path) -> None:
    with open(model_copy / PIPELINE_FILE, "ab") as handle:
        handle.write(b"\0")
    _one_line_error(_predict("--model", str(model_copy)), PIPELINE_FILE, "SHA-256")


def test_every_listed_file_is_checked(model_copy: Path) -> None:
    (model_copy / "extra.dict").write_text("jieba words\n", encoding="utf-8")
    _edit_metadata(model_copy, lambda m: m["files"].update({"extra.dict": ""}))
    _rehash(model_copy)
    assert Classifier(model_dir=model_copy).model is not None
    (model_copy / "extra.dict").write_text("other words\n", encoding="utf-8")
    with pytest.raises(BounceMLError, match=r"extra\.dict: SHA-256"):
        Classifier(model_dir=model_copy)
    (model_copy / "extra.dict").unlink()
    with pytest.raises(BounceMLError, match=r"incomplete model: extra\.dict is missing"):
        Classifier(model_dir=model_copy)
