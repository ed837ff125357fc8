"""The previous models ``train`` keeps in ``previous/``: listing them and rolling back.

Each previous model is a complete model directory ``previous/<id>/``, where the id
is its training time (``20261128T181402Z``), so the ids sort by age. ``train``
and ``rollback`` move the current model there before putting another in place,
and keep the newest :data:`KEEP_PREVIOUS`.

Every move puts ``metadata.json`` out first and in last: a model directory without
metadata is refused clearly, so an interruption never leaves a mixed model.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from bounce_ml.errors import BounceMLError
from bounce_ml.predict.artifacts import (
    METADATA_FILE,
    PIPELINE_FILE,
    SCORER_FILE,
    has_model,
    load_model,
    read_metadata,
)

PREVIOUS_DIR = "previous"
KEEP_PREVIOUS = 5
FILES_BESIDE_METADATA = (SCORER_FILE, PIPELINE_FILE)  # metadata.json moves out first, in last


@dataclass(frozen=True, slots=True)
class ModelEntry:
    """One model directory and what its metadata says about it."""

    id: str  # "current", or the id of a previous model
    path: Path
    created: str
    rows: int
    feedback_rows: int
    threshold: float

    @classmethod
    def of(cls, entry_id: str, path: Path) -> ModelEntry:
        metadata = read_metadata(path)
        return cls(
            id=entry_id,
            path=path,
            created=str(metadata.get("created", "?")),
            rows=int(metadata.get("rows", 0)),
            feedback_rows=int((metadata.get("feedback") or {}).get("rows", 0)),
            threshold=float(metadata.get("threshold", 0.0)),
        )


def model_id(model_dir: Path) -> str:
    """A sortable id: the training time in the metadata (else now, for a damaged model)."""
    try:
        created = datetime.fromisoformat(str(read_metadata(model_dir)["created"]))
    except (BounceMLError, KeyError, ValueError):
        created = datetime.now(timezone.utc)
    return created.strftime("%Y%m%dT%H%M%SZ")


def move_model(source: Path, target: Path) -> None:
    """Move a model's files from ``source`` to ``target``: metadata out first, in last."""
    target.mkdir(parents=True, exist_ok=True)
    staged = target / f".{METADATA_FILE}.moving"
    os.replace(source / METADATA_FILE, staged)
    for name in FILES_BESIDE_METADATA:
        if (source / name).exists():
            os.replace(source / name, target / name)
    os.replace(staged, target / METADATA_FILE)


def archive_current(model_dir: Path) -> str | None:
    """Move the current model (if any) into ``previous/``; return its id there.

    Callers :func:`prune` once the new model is in place.
    """
    if not has_model(model_dir):
        return None
    previous = model_dir / PREVIOUS_DIR
    base = entry_id = model_id(model_dir)
    number = 1
    while (previous / entry_id).exists():
        number += 1
        entry_id = f"{base}-{number}"
    move_model(model_dir, previous / entry_id)
    return entry_id


def prune(model_dir: Path, keep: int = KEEP_PREVIOUS) -> None:
    """Delete all but the newest ``keep`` previous models."""
    for path in previous_models(model_dir / PREVIOUS_DIR)[keep:]:
        shutil.rmtree(path)


def previous_models(previous: Path) -> list[Path]:
    """Previous model directories, newest first."""
    if not previous.is_dir():
        return []
    return sorted(
        (path for path in previous.iterdir() if has_model(path)),
        key=lambda path: path.name,
        reverse=True,
    )


def list_models(model_dir: Path) -> list[ModelEntry]:
    """The current model (if any) then the previous ones, newest first."""
    entries = [ModelEntry.of("current", model_dir)] if has_model(model_dir) else []
    entries += [
        ModelEntry.of(path.name, path) for path in previous_models(model_dir / PREVIOUS_DIR)
    ]
    return entries


def rollback(model_dir: Path, to: str | None = None) -> tuple[str, str | None]:
    """Put a previous model (the newest, or id ``to``) back in place of the current one.

    The current model becomes a previous one, so a rollback can itself be undone.
    Returns (id restored, id the current model was archived as).
    """
    candidates = previous_models(model_dir / PREVIOUS_DIR)
    if not candidates:
        raise BounceMLError(f"{model_dir}: no previous model to roll back to")
    if to is None:
        chosen = candidates[0]
    else:
        by_id = {path.name: path for path in candidates}
        if to not in by_id:
            raise BounceMLError(f"{model_dir}: no previous model {to!r} (have: {', '.join(by_id)})")
        chosen = by_id[to]
    load_model(chosen)  # refuse a damaged model before touching the current one
    archived = archive_current(model_dir)
    move_model(chosen, model_dir)
    chosen.rmdir()
    prune(model_dir)
    return chosen.name, archived
