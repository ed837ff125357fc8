"""Saving a trained model directory, and loading its scikit-learn pipeline.

Kept apart from `bounce_ml.predict.artifacts` because both need joblib, which
prediction never imports.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import joblib

from bounce_ml.predict.artifacts import (
    METADATA_FILE,
    PIPELINE_FILE,
    SCORER_FILE,
    read_metadata,
    sha256_file,
    verified_path,
)
from bounce_ml.predict.scorer import LinearScorer
from bounce_ml.train.history import FILES_BESIDE_METADATA, archive_current, prune
from bounce_ml.train.lock import STAGING_PREFIX, model_dir_lock


def load_pipeline(model_dir: Path) -> Any:
    """The scikit-learn pipeline of a model directory, after checking its hash."""
    metadata = read_metadata(model_dir)
    return joblib.load(verified_path(model_dir, PIPELINE_FILE, metadata))


def save_model(
    model_dir: Path, scorer: LinearScorer, pipeline: Any, metadata: dict[str, Any]
) -> str | None:
    """Write a model directory so that an interruption never leaves a broken model in place.

    The files are first written to a staging directory. The old model is moved
    to ``previous/<id>/``, metadata first, so at every moment either
    ``metadata.json`` is absent (no model: refused clearly) or it matches the
    files beside it. Returns the id the old model was kept under, if there was one.
    It holds the folder's write lock (`bounce_ml.train.lock`) while it writes.
    """
    with model_dir_lock(model_dir):
        return _save_unlocked(model_dir, scorer, pipeline, metadata)


def _save_unlocked(
    model_dir: Path, scorer: LinearScorer, pipeline: Any, metadata: dict[str, Any]
) -> str | None:
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=model_dir))
    try:
        scorer.save(staging / SCORER_FILE)
        joblib.dump(pipeline, staging / PIPELINE_FILE, compress=3)
        metadata = {
            **metadata,
            "files": {name: sha256_file(staging / name) for name in FILES_BESIDE_METADATA},
        }
        (staging / METADATA_FILE).write_text(
            json.dumps(metadata, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        archived = archive_current(model_dir)
        for name in (*FILES_BESIDE_METADATA, METADATA_FILE):
            os.replace(staging / name, model_dir / name)
        prune(model_dir)
        return archived
    finally:
        shutil.rmtree(staging, ignore_errors=True)
