"""Shared fixtures: tests never read ../shared; they use the project's data/ and tmp dirs."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from bounce_ml import config


@pytest.fixture
def small_data_dir(tmp_path: Path) -> Path:
    """A copy of data/ whose corpus is a small slice (first rows of four labels)."""
    data = tmp_path / "data"
    shutil.copytree(config.DATA_DIR, data, ignore=shutil.ignore_patterns("corpus", "generated"))
    (data / "corpus").mkdir()
    for label in ("user_unknown", "mailbox_full", "host_unknown", "message_too_large"):
        with open(config.CORPUS_DIR / f"{label}.csv", encoding="utf-8", newline="") as source:
            rows = list(csv.DictReader(source))[:60]
        with open(data / "corpus" / f"{label}.csv", "w", encoding="utf-8", newline="") as target:
            writer = csv.DictWriter(target, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return data
