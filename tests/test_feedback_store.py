"""The feedback store on a real SQLite file: schema, queue, labels, errors, two writers."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bounce_ml import classify
from bounce_ml.errors import BounceMLError
from bounce_ml.feedback.store import (
    FeedbackStore,
    ReviewCandidate,
    default_feedback_path,
    wording_key,
)


def _candidate(text: str, label: str = "unknown", confidence: float = 0.2) -> ReviewCandidate:
    return ReviewCandidate(
        text=text,
        predicted_label=label,
        predicted_confidence=confidence,
        top_labels=(("temporary_failure", 0.2), ("rate_limited", 0.15)),
    )


def test_default_path_is_in_the_user_data_dir_and_env_overrides(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("BOUNCE_ML_FEEDBACK", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_feedback_path() == tmp_path / "xdg" / "bounce-ml" / "feedback.sqlite3"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_feedback_path() == (
        tmp_path / "home" / ".local" / "share" / "bounce-ml" / "feedback.sqlite3"
    )
    monkeypatch.setenv("BOUNCE_ML_FEEDBACK", str(tmp_path / "mine.db"))
    assert default_feedback_path() == tmp_path / "mine.db"


def test_labels_survive_reopening_and_become_training_rows(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    with FeedbackStore(path) as store:
        row_id = store.add_label(
            "550 Mailbox unavailable: account aeon-7 gone",
            "user_unknown",
            reply_code="550",
            author="ops",
            predicted_label="mailbox_disabled",
            predicted_confidence=0.41,
        )
    with FeedbackStore(path) as store:
        rows = store.labeled_rows()
    assert [(r.text, r.label, r.line, r.file) for r in rows] == [
        ("550 Mailbox unavailable: account aeon-7 gone", "user_unknown", row_id, str(path))
    ]
    assert rows[0].source == "feedback"
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute("SELECT version FROM schema_version").fetchall() == [(1,)]
        stored = db.execute(
            "SELECT origin, author, predicted_label, predicted_confidence, reply_code, created "
            "FROM feedback"
        ).fetchone()
    assert stored[:5] == ("cli", "ops", "mailbox_disabled", 0.41, "550")
    assert stored[5].endswith("+00:00")


def test_review_queue_groups_by_wording_most_frequent_first(tmp_path: Path) -> None:
    with FeedbackStore(tmp_path / "f.sqlite3") as store:
        queued = store.add_for_review(
            [
                _candidate("451 Zenmail: slot busy for a@example.com"),
                _candidate("452 Zenmail: quota shard full"),
                _candidate("451 Zenmail: slot busy for b@example.org"),
                _candidate("451 Zenmail: slot busy for c@example.net"),
            ]
        )
        assert queued == 4
        queue = store.review_queue()
        assert [(g.count, g.example) for g in queue] == [
            (3, "451 Zenmail: slot busy for a@example.com"),
            (1, "452 Zenmail: quota shard full"),
        ]
        assert queue[0].key == wording_key("451 Zenmail: slot busy for z@example.com")
        assert queue[0].top_labels == (("temporary_failure", 0.2), ("rate_limited", 0.15))
        assert store.review_queue(limit=1) == queue[:1]

        assert store.resolve(queue[0].key, "rate_limited", origin="review", author="li") == 3
        assert [g.example for g in store.review_queue()] == ["452 Zenmail: quota shard full"]
        assert {(r.label, r.group) for r in store.labeled_rows()} == {
            ("rate_limited", store.labeled_rows()[0].group)
        }
        # a wording already labeled is not queued again; another one is
        assert store.add_for_review([_candidate("451 Zenmail: slot busy for d@example.com")]) == 0
        assert store.counts() == (3, 1)


def test_a_label_outside_the_taxonomy_is_refused_and_nothing_is_written(tmp_path) -> None:
    with FeedbackStore(tmp_path / "f.sqlite3") as store:
        with pytest.raises(BounceMLError, match="unknown label 'quota_full'"):
            store.add_label("552 over quota", "quota_full")
        with pytest.raises(BounceMLError, match="unknown label 'unknown'"):
            store.add_label("552 over quota", "unknown")
        store.add_for_review([_candidate("552 over quota")])
        with pytest.raises(BounceMLError, match="unknown label 'mailboxfull'"):
            store.resolve(wording_key("552 over quota"), "mailboxfull", origin="review")
        assert store.counts() == (0, 1)


def test_a_file_that_is_not_sqlite_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite3"
    path.write_bytes(b"these are my notes, not a database\n" * 200)
    with pytest.raises(BounceMLError, match=r"notes.sqlite3: not a bounce-ml feedback store"):
        FeedbackStore(path)
    assert path.read_bytes().startswith(b"these are my notes")


def test_another_programs_sqlite_file_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE contacts (name TEXT)")
    with pytest.raises(BounceMLError, match=r"other.db: a SQLite file of another program"):
        FeedbackStore(path)
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    assert tables == ["contacts"]


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "f.sqlite3"
    FeedbackStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(BounceMLError, match="schema version 99"):
        FeedbackStore(path)


WRITER = """
import sys
from bounce_ml.feedback.store import FeedbackStore
path, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
with FeedbackStore(path) as store:
    for i in range(count):
        store.add_label(f"550 {name} row {i} mailbox gone", "user_unknown", origin=name)
"""


def test_two_processes_writing_at_once_lose_no_row(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    FeedbackStore(path).close()
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), name, "300"])
        for name in ("cli", "web")
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    with FeedbackStore(path) as store:
        rows = store.labeled_rows()
    assert len(rows) == 600
    assert len({r.text for r in rows}) == 600


def test_review_candidates_carry_the_models_top_two_labels() -> None:
    prediction = classify("421 4.7.0 Try again later, closing connection.")
    assert len(prediction.top_labels) == 2
    (first, p1), (second, p2) = prediction.top_labels
    assert first != second and 1 >= p1 >= p2 > 0
    assert "top_labels" not in prediction.to_dict()
