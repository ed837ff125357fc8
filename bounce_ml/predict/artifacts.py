"""Loading a trained model directory for prediction, verified by SHA-256 and validated.

A model directory holds ``scorer.npz`` (what prediction uses), ``pipeline.joblib``
(the scikit-learn pipeline, for evaluation and inspection) and ``metadata.json``
(label set, data hash, metrics, threshold, library versions and the SHA-256 of
every other file in it). Pickle files run code when loaded, so nothing is loaded
before its hash matches the metadata; never load model files from an untrusted source.

Loading checks, each failure one line naming the file:

- the metadata: at most `MAX_METADATA_BYTES`, a JSON object with a ``files`` table of
  plain file names and SHA-256 digests (``scorer.npz`` among them), a ``labels`` list and a
  ``threshold`` between 0 and 1;
- every file the metadata lists: present, and its SHA-256 as listed;
- the scorer's arrays: names, dtypes, shapes and finite values (`LinearScorer.load`).

``train`` replaces the files of a model directory one by one. A reader that catches it
half way sees files that do not match the metadata; it waits and reads again, so it gets
the old model or the new one, whole, or (after `LOAD_ATTEMPTS`) a clear error.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bounce_ml.errors import BounceMLError
from bounce_ml.labels.taxonomy import Taxonomy, default_taxonomy
from bounce_ml.predict.scorer import LinearScorer

SCORER_FILE = "scorer.npz"
PIPELINE_FILE = "pipeline.joblib"
METADATA_FILE = "metadata.json"
MODEL_FILES = (METADATA_FILE, SCORER_FILE, PIPELINE_FILE)
MAX_METADATA_BYTES = 1 << 20
# A train replacing the files takes milliseconds; a reader retries for about two seconds.
LOAD_ATTEMPTS = 8
RETRY_SECONDS = 0.25

_SHA256 = re.compile(r"[0-9a-f]{64}")
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


class _FilesDoNotMatch(BounceMLError):
    """The files beside the metadata are missing or changed: perhaps a train is writing."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def has_model(model_dir: Path) -> bool:
    return (model_dir / METADATA_FILE).is_file()


def has_any_model_file(model_dir: Path) -> bool:
    """Whether a model was ever put in this folder, even if it is incomplete now."""
    return any((model_dir / name).exists() for name in MODEL_FILES)


def read_metadata(model_dir: Path) -> dict[str, Any]:
    """The validated metadata of a model directory, or a one-line error."""
    path = model_dir / METADATA_FILE
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_METADATA_BYTES + 1)
    except FileNotFoundError:
        if has_any_model_file(model_dir):
            raise _FilesDoNotMatch(
                f"{model_dir}: incomplete model: {METADATA_FILE} is missing "
                "(an interrupted train? run `bounce-ml train`, or use --rules-only)"
            ) from None
        raise BounceMLError(f"{model_dir}: no trained model here (run `bounce-ml train`)") from None
    except OSError as exc:
        raise BounceMLError(f"{path}: cannot read the model metadata ({exc.strerror})") from None
    if len(data) > MAX_METADATA_BYTES:
        raise BounceMLError(f"{path}: model metadata larger than {MAX_METADATA_BYTES} bytes")
    try:
        metadata = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else exc
        raise BounceMLError(f"{path}: unreadable model metadata ({reason})") from None
    problem = _metadata_problem(metadata)
    if problem:
        raise BounceMLError(f"{path}: {problem}")
    return metadata


def _metadata_problem(metadata: Any) -> str | None:
    if not isinstance(metadata, dict):
        return "model metadata is not a JSON object"
    files = metadata.get("files")
    if not isinstance(files, dict) or not files:
        return "model metadata lacks the 'files' hashes"
    for name, digest in files.items():
        if not _PLAIN_NAME.fullmatch(name) or name == METADATA_FILE:
            return f"'files' names {name!r}, which is not a plain file name of the model"
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            return f"'files' gives {name!r} no SHA-256"
    if SCORER_FILE not in files:
        return f"'files' does not list {SCORER_FILE}"
    labels = metadata.get("labels")
    if not (
        isinstance(labels, list)
        and labels
        and all(isinstance(label, str) for label in labels)
        and len(set(labels)) == len(labels)
    ):
        return "'labels' is not a list of distinct label names"
    threshold = metadata.get("threshold")
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float)
        or not (math.isfinite(threshold) and 0 <= threshold <= 1)
    ):
        return f"'threshold' must be a number from 0 to 1, not {threshold!r}"
    return None


def verified_bytes(model_dir: Path, name: str, metadata: dict[str, Any]) -> bytes:
    """The content of a model file whose SHA-256 matches the metadata; refuse anything else.

    The bytes that were hashed are the bytes returned, so a file replaced between checking
    and loading can never be loaded unchecked.
    """
    path = model_dir / name
    expected = metadata["files"].get(name)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise _FilesDoNotMatch(f"{model_dir}: incomplete model: {name} is missing") from None
    except OSError as exc:
        raise BounceMLError(f"{path}: cannot read the model file ({exc.strerror})") from None
    if expected is None or hashlib.sha256(data).hexdigest() != expected:
        raise _FilesDoNotMatch(
            f"{path}: SHA-256 does not match {METADATA_FILE}; refusing to load a model file "
            "that was changed after training"
        )
    return data


def verified_path(model_dir: Path, name: str, metadata: dict[str, Any]) -> Path:
    """Path of a model file whose SHA-256 matches the metadata; refuse anything else."""
    verified_bytes(model_dir, name, metadata)
    return model_dir / name


@dataclass
class LoadedModel:
    scorer: LinearScorer
    metadata: dict[str, Any]

    @property
    def threshold(self) -> float:
        return float(self.metadata["threshold"])


def load_model(model_dir: Path, taxonomy: Taxonomy | None = None) -> LoadedModel:
    """Load the scorer of a model directory after checking every file and the label set."""
    taxonomy = taxonomy or default_taxonomy()
    for attempt in range(1, LOAD_ATTEMPTS + 1):
        try:
            return _load_once(model_dir, taxonomy)
        except _FilesDoNotMatch:
            if attempt == LOAD_ATTEMPTS:
                raise
            time.sleep(RETRY_SECONDS)
    raise AssertionError("unreachable")


def _load_once(model_dir: Path, taxonomy: Taxonomy) -> LoadedModel:
    metadata = read_metadata(model_dir)
    contents = {name: verified_bytes(model_dir, name, metadata) for name in metadata["files"]}
    try:
        scorer = LinearScorer.load(io.BytesIO(contents[SCORER_FILE]))
    except ValueError as exc:
        raise BounceMLError(f"{model_dir / SCORER_FILE}: damaged model file ({exc})") from None
    labels = metadata["labels"]
    if labels != scorer.classes:
        raise BounceMLError(f"{model_dir}: label set in {METADATA_FILE} does not match the model")
    unknown = [label for label in labels if label not in taxonomy.trainable]
    if unknown:
        raise BounceMLError(
            f"{model_dir}: model predicts label {unknown[0]!r}, which the taxonomy does not have"
        )
    return LoadedModel(scorer, metadata)
