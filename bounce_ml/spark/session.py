"""Start a Spark session for bounce-ml's own commands, and turn job failures into one line.

Spark's JVM writes its start-up notices, progress bars and every failed task's stack
traces to standard error. A command line that promises one-line errors sends all of that
to a log file instead, and shows the user the message that matters.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from py4j.protocol import Py4JError
from pyspark.errors import PySparkException
from pyspark.sql import SparkSession

from bounce_ml.errors import BounceMLError

# Settings of the sessions bounce-ml starts itself: small shuffles (its jobs have none to
# speak of), no web UI, no progress bars.
LOCAL_SETTINGS = {
    "spark.sql.shuffle.partitions": "4",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}
# What a failed Spark call raises on the driver.
SPARK_ERRORS = (PySparkException, Py4JError)
# How a Python worker's traceback ends when our code refused something.
_OUR_ERROR = re.compile(r"^bounce_ml\.errors\.BounceMLError: (?P<message>.+)$", re.MULTILINE)


def local_session(master: str, *, log_file: Path | None = None) -> SparkSession:
    """A Spark session on ``master`` whose Python workers run this interpreter.

    With ``log_file``, the JVM's standard error (its log) goes there for its whole life.
    """
    if shutil.which("java") is None and "JAVA_HOME" not in os.environ:
        raise BounceMLError("Spark needs Java 17 or later: install a JDK or set JAVA_HOME")
    # Executors start `python3` from PATH unless told otherwise; that may lack bounce-ml.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master(master).appName("bounce-ml")
    for key, value in LOCAL_SETTINGS.items():
        builder = builder.config(key, value)
    with _stderr_to(log_file):
        try:
            return builder.getOrCreate()
        except Exception as exc:  # the JVM did not start: Java too old, no memory, ...
            where = f" (see {log_file})" if log_file else ""
            raise BounceMLError(f"Spark could not start on {master}{where}: {exc}") from None


@contextmanager
def _stderr_to(log_file: Path | None) -> Iterator[None]:
    """Point file descriptor 2 at ``log_file`` while the JVM starts, so that it inherits it."""
    if log_file is None:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(log_file, "ab") as log:
            os.dup2(log.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@contextmanager
def spark_job(master: str) -> Iterator[SparkSession]:
    """A session for one command: Spark's log goes to a file, kept only if something failed;
    a failed job becomes a `BounceMLError` with our message or Spark's first line."""
    log_file = new_log_file()
    spark = local_session(master, log_file=log_file)
    keep_log = False
    try:
        yield spark
    except SPARK_ERRORS as exc:
        message = job_error(exc)
        keep_log = message is None
        raise BounceMLError(message or failure_line(exc, log_file)) from None
    finally:
        spark.stop()
        if not keep_log:
            log_file.unlink()


def job_error(exc: BaseException) -> str | None:
    """Our own error message inside a failed Spark job (raised on an executor), if any."""
    match = _OUR_ERROR.search(str(exc))
    return match.group("message") if match else None


def failure_line(exc: BaseException, log_file: Path) -> str:
    """One line for a Spark failure that is not ours: its first line, and where the rest is."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    first = lines[0] if lines else type(exc).__name__
    return f"Spark job failed: {first} (Spark's log: {log_file})"


def new_log_file() -> Path:
    """A fresh file for Spark's log."""
    handle, path = tempfile.mkstemp(prefix="bounce-ml-spark-", suffix=".log")
    os.close(handle)
    return Path(path)
