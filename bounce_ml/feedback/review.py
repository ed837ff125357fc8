"""Choosing what a person should review: predictions that are ``unknown`` or unsure."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from dataclasses import dataclass

from bounce_ml.feedback.store import FeedbackStore, ReviewCandidate, ReviewGroup
from bounce_ml.labels.taxonomy import UNKNOWN
from bounce_ml.mail.readers import batched
from bounce_ml.mail.records import BounceRecord
from bounce_ml.predict.classifier import Classifier, Prediction

BATCH_SIZE = 2_000
# Below this top probability a model answer is worth a person's look, even where it
# decides (the model threshold is lower: an unsure answer is still better than none).
REVIEW_BELOW = 0.6


def needs_review(prediction: Prediction, below: float = REVIEW_BELOW) -> bool:
    """``unknown``, or the model's most probable label is below ``below``."""
    if prediction.label == UNKNOWN:
        return True
    return bool(prediction.top_labels) and prediction.top_labels[0][1] < below


def candidate(record: BounceRecord, prediction: Prediction) -> ReviewCandidate:
    """A review-queue entry for one input record and its prediction."""
    code = record.status
    enhanced = code is not None and "." in code  # 5.1.1, not 550
    return ReviewCandidate(
        text=prediction.text,
        predicted_label=prediction.label,
        predicted_confidence=prediction.confidence,
        top_labels=prediction.top_labels,
        status=code if enhanced else None,
        reply_code=record.reply_code or (None if enhanced else code),
        origin="review",
    )


@dataclass
class ReviewRun:
    classified: int = 0
    queued: int = 0


def queue_for_review(
    store: FeedbackStore,
    classifier: Classifier,
    records: Iterable[BounceRecord],
    below: float = REVIEW_BELOW,
) -> ReviewRun:
    """Classify records and queue the ones that need review."""
    run = ReviewRun()
    for batch in batched(records, BATCH_SIZE):
        predictions = classifier.predict_records(batch)
        run.classified += len(batch)
        run.queued += store.add_for_review(
            candidate(record, p)
            for record, p in zip(batch, predictions, strict=True)
            if needs_review(p, below)
        )
    return run


def queue_table(groups: list[ReviewGroup]) -> str:
    """One line per queued wording: count, the model's top-2 guesses, an example."""
    lines = [f"{'rows':>6}  {'model guesses':<42}  example"]
    for group in groups:
        guesses = ", ".join(f"{label} {p:.2f}" for label, p in group.top_labels) or "-"
        example = textwrap.shorten(group.example, 90, placeholder="…")
        lines.append(f"{group.count:>6}  {guesses:<42}  {example}")
    return "\n".join(lines)
