"""The model a service process serves, and its atomic replacement (reload).

`ServedModel` is immutable: a Classifier per output language and the model's
metadata, loaded together. `ModelSlot` holds the current one. A request takes
the current `ServedModel` once and uses it to the end, so a reload that swaps
the slot meanwhile never changes a request half-way. A model that fails to load
(missing file, hash mismatch, label set the taxonomy lacks) is refused and the
old one keeps serving.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bounce_ml import config
from bounce_ml.labels.taxonomy import Taxonomy, default_taxonomy
from bounce_ml.predict.classifier import Classifier

LANGS = ("en", "zh")
# Classified once at load, so jieba's dictionary is in memory before the first request.
WARM_UP = "550 5.1.1 user unknown 收件人不存在"
# Metadata fields that GET /v1/model shows (the rest are training details). Models trained
# with cross-validation carry its metrics; others leave them to `bounce-ml evaluate`.
PUBLIC_METADATA = (
    "created",
    "data_hash",
    "labels",
    "rows",
    "rows_per_label",
    "features",
    "threshold",
    "threshold_from",
    "feedback",
    "metrics_cv",
)


@dataclass(frozen=True)
class ServedModel:
    """One loaded model, with a Classifier per language of the action and advice."""

    model_dir: Path
    classifiers: dict[str, Classifier]
    loaded_at: str

    @classmethod
    def load(cls, model_dir: Path, taxonomy: Taxonomy) -> ServedModel:
        classifiers = {
            lang: Classifier(model_dir=model_dir, lang=lang, taxonomy=taxonomy) for lang in LANGS
        }
        for classifier in classifiers.values():
            classifier.predict([WARM_UP])
        return cls(
            model_dir=model_dir,
            classifiers=classifiers,
            loaded_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        )

    def describe(self) -> dict[str, Any]:
        """Metadata for GET /v1/model."""
        model = self.classifiers["en"].model
        metadata = model.metadata if model else {}
        return {
            "model_dir": str(self.model_dir),
            "loaded_at": self.loaded_at,
            **{key: metadata.get(key) for key in PUBLIC_METADATA},
        }


class ModelSlot:
    """The model being served; `reload` swaps in a new one or leaves the old in place."""

    def __init__(self, model_dir: Path | None, taxonomy: Taxonomy | None = None) -> None:
        self.model_dir = model_dir or config.MODELS_DIR
        self.taxonomy = taxonomy or default_taxonomy()
        self._current: ServedModel | None = None
        self._reloading = threading.Lock()

    @property
    def current(self) -> ServedModel | None:
        return self._current

    def reload(self) -> ServedModel:
        """Load the model directory again and serve it; raises BounceMLError and keeps the
        old model when the new one cannot be loaded."""
        with self._reloading:
            fresh = ServedModel.load(self.model_dir, self.taxonomy)
            self._current = fresh  # one reference assignment: atomic for readers
            return fresh
