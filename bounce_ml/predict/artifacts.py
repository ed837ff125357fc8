"""Loading a trained model directory for prediction, verified by SHA-256.

A model directory holds ``scorer.npz`` (what prediction uses), ``pipeline.joblib``
(the scikit-learn pipeline, for evaluation and inspection) and ``metadata.json``
(label set, data hash, metrics, threshold, library versions and the SHA-256 of
both files). Pickle files run code when loaded, so nothing is loaded before its
hash matches the metadata; never load model files from an untrusted source.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bounce_ml.errors import BounceMLError
from bounce_ml.labels.taxonomy import Taxonomy, default_taxonomy
from bounce_ml.predict.scorer import LinearScorer

SCORER_FILE = "scorer.npz"
PIPELINE_FILE = "pipeline.joblib"
METADATA_FILE = "metadata.json"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def has_model(model_dir: Path) -> bool:
    return (model_dir / METADATA_FILE).is_file()


def read_metadata(model_dir: Path) -> dict[str, Any]:
    """The metadata of a model directory, or a clear error."""
    path = model_dir / METADATA_FILE
    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BounceMLError(f"{model_dir}: no trained model here (run `bounce-ml train`)") from None
    except (OSError, ValueError) as exc:
        raise BounceMLError(f"{path}: unreadable model metadata ({exc})") from None
    if not isinstance(metadata, dict) or not isinstance(metadata.get("files"), dict):
        raise BounceMLError(f"{path}: model metadata lacks the 'files' hashes")
    return metadata


def verified_path(model_dir: Path, name: str, metadata: dict[str, Any]) -> Path:
    """Path of a model file whose SHA-256 matches the metadata; refuse anything else."""
    path = model_dir / name
    expected = metadata["files"].get(name)
    if not path.is_file():
        raise BounceMLError(f"{path}: model file missing")
    if expected is None or sha256_file(path) != expected:
        raise BounceMLError(
            f"{path}: SHA-256 does not match {METADATA_FILE}; refusing to load a model file "
            "that was changed after training"
        )
    return path


@dataclass
class LoadedModel:
    scorer: LinearScorer
    metadata: dict[str, Any]

    @property
    def threshold(self) -> float:
        return float(self.metadata["threshold"])


def load_model(model_dir: Path, taxonomy: Taxonomy | None = None) -> LoadedModel:
    """Load the scorer of a model directory after checking its hash and label set."""
    taxonomy = taxonomy or default_taxonomy()
    metadata = read_metadata(model_dir)
    scorer = LinearScorer.load(verified_path(model_dir, SCORER_FILE, metadata))
    labels = metadata.get("labels")
    if labels != scorer.classes:
        raise BounceMLError(f"{model_dir}: label set in {METADATA_FILE} does not match the model")
    unknown = [label for label in labels if label not in taxonomy.trainable]
    if unknown:
        raise BounceMLError(
            f"{model_dir}: model predicts label {unknown[0]!r}, which the taxonomy does not have"
        )
    return LoadedModel(scorer, metadata)
