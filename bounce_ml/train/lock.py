"""One writer at a time in a model folder, and no leftovers from writers that died.

``train`` and ``model rollback`` replace the files of a model folder. Two of them at once
would interleave their moves; so each takes an exclusive lock on ``<model>/.lock`` first
and a second one is refused at once, naming the process that holds it. The lock goes with
the process (``flock``), so a killed writer never leaves the folder locked. Holding the
lock, the writer removes ``.staging-*`` folders: only a writer that died (``kill -9``)
can have left them. Readers take no lock: `bounce_ml.predict.artifacts` checks every file
against the metadata and reads again if it caught a writer half way.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bounce_ml.errors import BounceMLError

try:
    import fcntl
except ImportError:  # Windows: no flock, so no lock
    fcntl = None  # type: ignore[assignment]

LOCK_FILE = ".lock"
STAGING_PREFIX = ".staging-"


@contextmanager
def model_dir_lock(model_dir: Path) -> Iterator[None]:
    """Hold the model folder's write lock while the block runs (creating the folder).

    Raises
    ------
    BounceMLError
        When another process holds it.
    """
    model_dir.mkdir(parents=True, exist_ok=True)
    with open(model_dir / LOCK_FILE, "a+", encoding="utf-8") as handle:
        if fcntl is not None:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                raise BounceMLError(
                    f"{model_dir}: {holder} is writing this model folder (a train or a "
                    "rollback); try again when it has finished"
                ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"process {os.getpid()}\n")
        handle.flush()
        for stale in model_dir.glob(f"{STAGING_PREFIX}*"):
            shutil.rmtree(stale, ignore_errors=True)
        yield
