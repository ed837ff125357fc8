"""The feedback store: user corrections and the review queue, in one SQLite file.

One table holds every row a person labeled or a run queued for review. A queued
row has no label yet; labeling it (``resolve``) fills the label of every queued
row with the same normalised wording. ``labeled_rows`` is what
``bounce-ml train --feedback`` learns.

Durability and sharing: the file is opened in WAL mode, every write is one
``BEGIN IMMEDIATE`` transaction, and a writer waits up to :data:`BUSY_TIMEOUT_S`
for another one, so the CLI and the HTTP service can write at once without losing
rows. A table ``schema_version`` records the layout; a file that is not SQLite,
or a SQLite file without that table, is refused with one line naming it.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType

from bounce_ml.corpus.files import LabeledText
from bounce_ml.errors import BounceMLError
from bounce_ml.labels.taxonomy import Taxonomy, default_taxonomy
from bounce_ml.text.normalize import normalize_text
from bounce_ml.text.surrogates import replace_lone_surrogates

SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 30.0
ENV_VARIABLE = "BOUNCE_ML_FEEDBACK"
SOURCE = "feedback"  # the `source` of rows learned from the store

_SCHEMA = """
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE feedback (
    id INTEGER PRIMARY KEY,
    text TEXT NOT NULL,
    wording TEXT NOT NULL,            -- normalised text: what groups the review queue
    label TEXT,                       -- NULL while the row waits in the review queue
    status TEXT,                      -- DSN status, e.g. 5.1.1
    reply_code TEXT,                  -- SMTP reply code, e.g. 550
    origin TEXT NOT NULL,             -- cli, review, import, web, ...
    author TEXT,
    predicted_label TEXT,             -- the model's answer when the row came in
    predicted_confidence REAL,
    top_labels TEXT,                  -- JSON [[label, probability], ...] of that prediction
    created TEXT NOT NULL,            -- UTC, ISO 8601
    labeled TEXT                      -- when the label was given
);
CREATE INDEX feedback_wording ON feedback (wording);
CREATE INDEX feedback_queue ON feedback (label, wording);
"""


def default_feedback_path() -> Path:
    """``$BOUNCE_ML_FEEDBACK``, else ``feedback.sqlite3`` in the user's data folder.

    The data folder is ``$XDG_DATA_HOME/bounce-ml`` or ``~/.local/share/bounce-ml``:
    outside the installed package, so an upgrade never touches it.
    """
    override = os.environ.get(ENV_VARIABLE)
    if override:
        return Path(override).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "bounce-ml" / "feedback.sqlite3"


def _utf8(value: str | None) -> str | None:
    """A value SQLite can store (UTF-8 only): lone surrogates replaced by U+FFFD."""
    return None if value is None else replace_lone_surrogates(value)


def wording_key(text: str) -> str:
    """The review-queue key of a text: its normalised wording (addresses, ids masked)."""
    return normalize_text(text)


@dataclass(frozen=True, slots=True)
class LabelInput:
    """One labeled text to store: the arguments of :meth:`FeedbackStore.add_label`."""

    text: str
    label: str
    status: str | None = None
    reply_code: str | None = None
    origin: str = "cli"
    author: str | None = None
    predicted_label: str | None = None
    predicted_confidence: float | None = None


@dataclass(frozen=True, slots=True)
class ReviewCandidate:
    """A prediction someone should look at: the model was unsure or said ``unknown``."""

    text: str
    predicted_label: str
    predicted_confidence: float
    top_labels: tuple[tuple[str, float], ...] = ()
    status: str | None = None
    reply_code: str | None = None
    origin: str = "review"


@dataclass(frozen=True, slots=True)
class ReviewGroup:
    """All queued rows of one normalised wording."""

    key: str
    count: int
    example: str
    top_labels: tuple[tuple[str, float], ...]  # the model's top-2 (label, probability)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class FeedbackStore:
    """Open (or create) the feedback store at ``path``.

    Raises
    ------
    BounceMLError
        When the file is not SQLite, is another program's database, or was
        written by a newer bounce-ml.
    """

    def __init__(self, path: str | Path, *, taxonomy: Taxonomy | None = None) -> None:
        self.path = Path(path)
        self.taxonomy = taxonomy or default_taxonomy()
        if self.path.is_dir():
            raise BounceMLError(f"{self.path}: is a folder, not a feedback store file")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except sqlite3.Error as exc:
            raise BounceMLError(f"{self.path}: cannot open the feedback store ({exc})") from None
        try:
            self._open()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise BounceMLError(f"{self.path}: not a bounce-ml feedback store ({exc})") from None
        except BounceMLError:
            self._db.close()
            raise

    def _open(self) -> None:
        self._db.execute("PRAGMA journal_mode=WAL")
        with self._transaction():
            tables = {
                name
                for (name,) in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            if not tables:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
                return
            if "schema_version" not in tables:
                raise BounceMLError(
                    f"{self.path}: a SQLite file of another program (tables: "
                    f"{', '.join(sorted(tables))}), not a bounce-ml feedback store"
                )
            row = self._db.execute("SELECT MAX(version) FROM schema_version").fetchone()
            version = row[0] if row else None
            if version != SCHEMA_VERSION:
                raise BounceMLError(
                    f"{self.path}: feedback store schema version {version}, "
                    f"this bounce-ml reads version {SCHEMA_VERSION}"
                )

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; the write lock is taken at BEGIN, so nothing is lost."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _checked_label(self, label: str) -> str:
        label = label.strip()
        if label not in self.taxonomy.trainable:
            raise BounceMLError(
                f"unknown label {label!r} (expected one of {', '.join(self.taxonomy.trainable)})"
            )
        return label

    def add_label(
        self,
        text: str,
        label: str,
        *,
        status: str | None = None,
        reply_code: str | None = None,
        origin: str = "cli",
        author: str | None = None,
        predicted_label: str | None = None,
        predicted_confidence: float | None = None,
    ) -> int:
        """Store one labeled text; return its row id."""
        return self.add_labels(
            [
                LabelInput(
                    text=text,
                    label=label,
                    status=status,
                    reply_code=reply_code,
                    origin=origin,
                    author=author,
                    predicted_label=predicted_label,
                    predicted_confidence=predicted_confidence,
                )
            ]
        )[0]

    def add_labels(self, rows: Iterable[LabelInput]) -> list[int]:
        """Store labeled texts in one transaction (all or none); return their row ids.

        A text whose wording waits in the review queue labels those queued rows
        (its id is the first of them) instead of adding a row of its own.
        """
        checked = []
        for row in rows:
            if not row.text.strip():
                raise BounceMLError("empty text: nothing to label")
            checked.append((row, self._checked_label(row.label)))
        now = _now()
        ids = []
        with self._transaction() as db:
            for row, label in checked:
                text = replace_lone_surrogates(row.text)  # SQLite stores UTF-8 only
                key = wording_key(text)
                (queued,) = db.execute(
                    "SELECT MIN(id) FROM feedback WHERE wording = ? AND label IS NULL", (key,)
                ).fetchone()
                if queued is not None:
                    db.execute(
                        "UPDATE feedback SET label = ?, origin = ?, author = ?, labeled = ? "
                        "WHERE wording = ? AND label IS NULL",
                        (label, row.origin, _utf8(row.author), now, key),
                    )
                    ids.append(int(queued))
                    continue
                cursor = db.execute(
                    "INSERT INTO feedback (text, wording, label, status, reply_code, origin, "
                    "author, predicted_label, predicted_confidence, created, labeled) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        text,
                        key,
                        label,
                        _utf8(row.status),
                        _utf8(row.reply_code),
                        row.origin,
                        _utf8(row.author),
                        row.predicted_label,
                        row.predicted_confidence,
                        now,
                        now,
                    ),
                )
                ids.append(int(cursor.lastrowid or 0))
        return ids

    def add_for_review(self, items: Iterable[ReviewCandidate]) -> int:
        """Queue predictions for review; return how many rows were queued.

        A wording a person already labeled in this store is not queued again.
        """
        texts = [(replace_lone_surrogates(item.text), item) for item in items]  # UTF-8 only
        candidates = [(text, wording_key(text), item) for text, item in texts if text.strip()]
        now = _now()
        queued = 0
        with self._transaction() as db:
            for text, key, item in candidates:
                labeled = db.execute(
                    "SELECT 1 FROM feedback WHERE wording = ? AND label IS NOT NULL LIMIT 1",
                    (key,),
                ).fetchone()
                if labeled:
                    continue
                db.execute(
                    "INSERT INTO feedback (text, wording, status, reply_code, origin, "
                    "predicted_label, predicted_confidence, top_labels, created) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        text,
                        key,
                        _utf8(item.status),
                        _utf8(item.reply_code),
                        item.origin,
                        item.predicted_label,
                        item.predicted_confidence,
                        json.dumps([[label, round(p, 4)] for label, p in item.top_labels]),
                        now,
                    ),
                )
                queued += 1
        return queued

    def review_queue(self, limit: int | None = 100) -> list[ReviewGroup]:
        """Queued wordings, most frequent first (then oldest first); ``None``: all of them."""
        rows = self._db.execute(
            "SELECT wording, COUNT(*), MIN(id) FROM feedback WHERE label IS NULL "
            "GROUP BY wording ORDER BY COUNT(*) DESC, MIN(id) LIMIT ?",
            (-1 if limit is None else limit,),
        ).fetchall()
        groups = []
        for key, count, first_id in rows:
            example, top = self._db.execute(
                "SELECT text, top_labels FROM feedback WHERE id = ?", (first_id,)
            ).fetchone()
            top_labels = tuple((str(label), float(p)) for label, p in json.loads(top or "[]"))
            groups.append(ReviewGroup(key, count, example, top_labels[:2]))
        return groups

    def resolve(self, key: str, label: str, *, origin: str, author: str | None = None) -> int:
        """Label every queued row of wording ``key``; return how many rows were labeled.

        ``key`` may also be any text of that wording: it is normalised first.
        """
        label = self._checked_label(label)
        key = replace_lone_surrogates(key)
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE feedback SET label = ?, origin = ?, author = ?, labeled = ? "
                "WHERE wording IN (?, ?) AND label IS NULL",
                (label, origin, _utf8(author), _now(), key, wording_key(key)),
            )
        return cursor.rowcount

    def labeled_rows(self) -> list[LabeledText]:
        """Every labeled row, oldest first, as training rows.

        When one wording was labeled twice differently, the later label wins and
        the rows with the earlier one are left out. Rows of one wording share a
        ``group``, so cross-validation keeps them in one fold, as it does with the
        variants of a corpus template.
        """
        rows = self._db.execute(
            "SELECT id, text, wording, label FROM feedback WHERE label IS NOT NULL "
            "ORDER BY labeled, id"
        ).fetchall()
        latest = {wording: label for _, _, wording, label in rows}
        return [
            LabeledText(
                text=text,
                label=label,
                lang=_lang(text),
                source=SOURCE,
                group=f"{SOURCE}:{hashlib.sha1(wording.encode()).hexdigest()[:12]}",
                file=str(self.path),
                line=row_id,
            )
            for row_id, text, wording, label in sorted(rows)
            if latest[wording] == label
        ]

    def counts(self) -> tuple[int, int]:
        """(labeled rows, rows waiting for review)."""
        labeled, queued = self._db.execute(
            "SELECT COUNT(label), COUNT(*) - COUNT(label) FROM feedback"
        ).fetchone()
        return int(labeled), int(queued)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> FeedbackStore:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _lang(text: str) -> str:
    """``en``, ``zh-Hans`` or ``mixed``: enough for the corpus coverage counts."""
    has_chinese = any("\u4e00" <= char <= "\u9fff" for char in text)
    has_latin = any("a" <= char.lower() <= "z" for char in text)
    if not has_chinese:
        return "en"
    return "mixed" if has_latin else "zh-Hans"
