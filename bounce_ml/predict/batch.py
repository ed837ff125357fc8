"""Batch prediction over a stream of input records, with counts for a summary.

The CLI's ``predict`` uses it for text lines and for ``--input`` files: records
are classified :data:`BATCH_SIZE` at a time, so a large file streams through
with flat memory and the model is never called one row at a time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator

from bounce_ml.mail.records import BounceRecord, ReadProblem
from bounce_ml.predict.classifier import Classifier, Prediction

BATCH_SIZE = 2_000


class BatchRun:
    """Classify records in batches; report skipped items and truncations through ``report``."""

    def __init__(self, classifier: Classifier, *, report: Callable[[str], None]) -> None:
        self.classifier = classifier
        self.report = report
        self.labels: Counter[str] = Counter()
        self.problems = 0
        self.seen = 0

    def read(self, path: str, *, text_column: str, text_field: str) -> Iterator[BounceRecord]:
        """Records of an input path; unreadable items are reported and skipped."""
        # The readers (email parsing, encodings) load only when a path is read:
        # `bounce-ml predict TEXT` starts without them.
        from bounce_ml.mail.readers import iter_records

        for item in iter_records(path, text_column=text_column, text_field=text_field):
            if isinstance(item, ReadProblem):
                self.problems += 1
                where = item.source if item.index is None else f"{item.source}:{item.index}"
                self.report(f"skipped {where}: {item.reason}")
                continue
            yield item

    def predict(
        self, records: Iterable[BounceRecord], on_batch: Callable[[int], None] = lambda n: None
    ) -> Iterator[tuple[BounceRecord, Prediction]]:
        """Each record with its prediction, in order."""
        from bounce_ml.mail.readers import batched

        for batch in batched(records, BATCH_SIZE):
            predictions = self.classifier.predict_records(batch)
            for record, prediction in zip(batch, predictions, strict=True):
                self.labels[prediction.label] += 1
                self.seen += 1
                if prediction.truncated:
                    self.report(
                        f"warning: item {self.seen}: text truncated to {len(prediction.text)} "
                        "characters"
                    )
                yield record, prediction
            on_batch(len(batch))

    def summary(self, written: int) -> str:
        """One line: how many were classified, per label, and how many were unreadable."""
        counts = ", ".join(f"{label} {n}" for label, n in self.labels.most_common())
        return f"{written} classified ({counts}); {self.problems} unreadable"
