"""Shared fixtures: tests never read ../shared; they use the project's data/ and tmp dirs."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bounce_ml import config

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


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


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkSession]:
    """One real local Spark session (two cores) for the whole run; its log goes to a file."""
    from bounce_ml.spark.session import local_session

    log_file = tmp_path_factory.mktemp("spark") / "spark.log"
    session = local_session("local[2]", log_file=log_file)
    yield session
    session.stop()
