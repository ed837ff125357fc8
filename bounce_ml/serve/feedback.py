"""The service's side of the feedback store: queueing unsure predictions, off the request path.

Every classification the service makes may add rows to the review queue. A
request should not wait for SQLite (a write can wait on another process's lock),
so `ReviewRecorder` hands the candidates to a thread of its own, which owns one
store connection and writes them in batches. Reading the queue and storing a
person's label happen on request, each with a short-lived connection of its own
(a SQLite connection belongs to the thread that opened it).
"""

from __future__ import annotations

import queue
import sqlite3
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from bounce_ml.errors import BounceMLError
from bounce_ml.feedback.store import FeedbackStore, ReviewCandidate

# Candidate batches waiting to be written; past this the service drops new ones (and
# says so once) rather than grow without bound when the disk is slower than the traffic.
MAX_PENDING_BATCHES = 10_000


class ReviewRecorder:
    """Write review candidates to the store at ``path`` from a background thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._pending: queue.Queue[Sequence[ReviewCandidate] | None] = queue.Queue(
            MAX_PENDING_BATCHES
        )
        self._thread = threading.Thread(target=self._write, name="review-recorder", daemon=True)
        self._warned = False

    def start(self) -> None:
        self._thread.start()

    def submit(self, candidates: Sequence[ReviewCandidate]) -> None:
        """Queue candidates for writing; never blocks."""
        if not candidates:
            return
        try:
            self._pending.put_nowait(candidates)
        except queue.Full:
            if not self._warned:
                self._warned = True
                _log(f"{self.path}: review queue writer is behind; dropping review candidates")

    def stop(self) -> None:
        """Write what is pending, then stop the thread."""
        self._pending.put(None)
        self._thread.join()

    def _write(self) -> None:
        with FeedbackStore(self.path) as store:
            while True:
                batch = self._pending.get()
                if batch is None:
                    return
                candidates = list(batch)
                while not self._pending.empty():  # whatever else arrived: one transaction
                    more = self._pending.get_nowait()
                    if more is None:
                        self._store(store, candidates)
                        return
                    candidates.extend(more)
                self._store(store, candidates)

    @staticmethod
    def _store(store: FeedbackStore, candidates: list[ReviewCandidate]) -> None:
        try:
            store.add_for_review(candidates)
        except (BounceMLError, OSError, sqlite3.Error, ValueError) as exc:
            _log(f"{store.path}: {len(candidates)} review candidates not stored: {exc}")


def _log(message: str) -> None:
    print(f"bounce-ml: {message}", file=sys.stderr, flush=True)
