"""Shared fixtures: tests never read ../shared; they use the project's data/ and tmp dirs."""

from __future__ import annotations

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
        lines = (config.CORPUS_DIR / f"{label}.csv").read_text(encoding="utf-8").splitlines(True)
        (data / "corpus" / f"{label}.csv").write_text("".join(lines[:61]), encoding="utf-8")
    return data
