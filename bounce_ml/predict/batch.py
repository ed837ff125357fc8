"""Batch prediction over a stream of input records, with counts for a summary.

The CLI's ``predict`` uses it for text lines and for ``--input`` files: records
are classified :data:`BATCH_SIZE` at a time, so a large file streams through
with flat memory and the model is never called one row at a time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from itertools import islice

from bounce_ml.mail.records import BounceRecord, ReadProblem
from bounce_ml.predict.classifier import Classifier, Prediction

BATCH_SIZE = 2_000
# Skipped items are grouped by file and reason; this many groups are held at most.
MAX_SKIP_GROUPS = 1_000
SKIP_EXAMPLES = 3  # item numbers named per group


class BatchRun:
    """Classify records in batches; report skipped items and truncations through ``report``.

    Skipped items are reported when reading ends, one line per file and reason with the
    count, so a million rows with one mistake make one line rather than a million.
    """

    def __init__(self, classifier: Classifier, *, report: Callable[[str], None]) -> None:
        self.classifier = classifier
        self.report = report
        self.labels: Counter[str] = Counter()
        self.problems = 0
        self.replaced = 0
        self.seen = 0
        # (source, reason) -> how many, and the first few item numbers
        self._skipped: dict[tuple[str, str], tuple[int, list[int | None]]] = {}

    def read(
        self, path: str, *, text_column: str, text_field: str, encoding: str | None = None
    ) -> Iterator[BounceRecord]:
        """Records of an input path; unreadable items are counted, reported and skipped."""
        # The readers (email parsing, encodings) load only when a path is read:
        # `bounce-ml predict TEXT` starts without them.
        from bounce_ml.mail.readers import REPLACED_BYTES, iter_records

        items = iter_records(
            path,
            text_column=text_column,
            text_field=text_field,
            encoding=encoding,
            notice=self.report,
        )
        for item in items:
            if isinstance(item, ReadProblem):
                self._skip(item)
                continue
            self.replaced += bool(item.note and REPLACED_BYTES in item.note)
            yield item
        self._report_skipped()
        if self.replaced:
            rows = "row" if self.replaced == 1 else "rows"
            self.report(f"warning: {REPLACED_BYTES} in {self.replaced} {rows} (see their note)")

    def _skip(self, problem: ReadProblem) -> None:
        self.problems += 1
        key = (problem.source, problem.reason)
        if key not in self._skipped and len(self._skipped) >= MAX_SKIP_GROUPS:
            self._report_skipped()  # many different reasons: report them as they come
        count, examples = self._skipped.get(key, (0, []))
        if len(examples) < SKIP_EXAMPLES:
            examples.append(problem.index)
        self._skipped[key] = (count + 1, examples)

    def _report_skipped(self) -> None:
        for (source, reason), (count, examples) in self._skipped.items():
            if count == 1:
                place = source if examples[0] is None else f"{source}:{examples[0]}"
                self.report(f"skipped {place}: {reason}")
            else:
                numbers = ", ".join(str(index) for index in examples if index is not None)
                at = f" (at {numbers}, ...)" if numbers else ""
                self.report(f"skipped {count} items of {source}{at}: {reason}")
        self._skipped.clear()

    def predict(
        self, records: Iterable[BounceRecord], on_batch: Callable[[int], None] = lambda n: None
    ) -> Iterator[tuple[BounceRecord, Prediction]]:
        """Each record with its prediction, in order."""
        iterator = iter(records)  # islice, not readers.batched: TEXT needs no readers
        while batch := tuple(islice(iterator, BATCH_SIZE)):
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
