"""Batch prediction over a stream of input records, with counts for a summary.

The CLI's ``predict`` uses it for text lines and for ``--input`` files: records
are classified :data:`BATCH_SIZE` at a time, so a large file streams through
with flat memory and the model is never called one row at a time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from bounce_ml.mail.readers import batched, iter_records
from bounce_ml.mail.records import ReadProblem
from bounce_ml.predict.classifier import Classifier

BATCH_SIZE = 2_000


class BatchRun:
    """Classify rows in batches; report skipped items and truncations through ``report``."""

    def __init__(self, classifier: Classifier, *, report: Callable[[str], None]) -> None:
        self.classifier = classifier
        self.report = report
        self.labels: Counter[str] = Counter()
        self.problems = 0
        self.seen = 0

    def read(self, path: str, *, text_column: str, text_field: str) -> Iterator[dict[str, Any]]:
        """Rows of an input path; unreadable items are reported and skipped."""
        for item in iter_records(path, text_column=text_column, text_field=text_field):
            if isinstance(item, ReadProblem):
                self.problems += 1
                where = item.source if item.index is None else f"{item.source}:{item.index}"
                self.report(f"skipped {where}: {item.reason}")
                continue
            yield {
                "source": item.source,
                "index": item.index,
                "recipient": item.recipient,
                "status": item.status,
                "dsn_action": item.action,
                "remote_mta": item.remote_mta,
                "text": item.diagnostic,
                "note": item.note,
            }

    def predict(
        self, rows: Iterable[dict[str, Any]], on_batch: Callable[[int], None] = lambda n: None
    ) -> Iterator[dict[str, Any]]:
        """Each row (it needs a ``text``) with the prediction fields added, in order."""
        for batch in batched(rows, BATCH_SIZE):
            predictions = self.classifier.predict([row["text"] for row in batch])
            for row, prediction in zip(batch, predictions, strict=True):
                self.labels[prediction.label] += 1
                self.seen += 1
                if prediction.note and prediction.note.startswith("text truncated"):
                    self.report(f"warning: item {self.seen}: {prediction.note}")
                notes = [note for note in (row.get("note"), prediction.note) if note]
                yield {**row, **prediction.to_dict(), "note": "; ".join(notes) or None}
            on_batch(len(batch))

    def summary(self, written: int) -> str:
        """One line: how many were classified, per label, and how many were unreadable."""
        counts = ", ".join(f"{label} {n}" for label, n in self.labels.most_common())
        return f"{written} classified ({counts}); {self.problems} unreadable"
