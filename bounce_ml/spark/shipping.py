"""Ship a model directory to the executors with the job, and find it there.

The driver packs ``metadata.json`` and every file it lists (their hashes are all checked
when a model is loaded) into a zip archive and registers it with
``SparkContext.addArchive``. Spark copies it to every executor and unpacks it in the
executor's ``SparkFiles`` folder. The executor then loads it with the same
`bounce_ml.predict.artifacts.load_model` as the command line, so the SHA-256 of every file
is checked against the metadata where the model is used: a file changed on the way fails
the job with that error.
"""

from __future__ import annotations

import atexit
import hashlib
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pyspark import SparkFiles
from pyspark.sql import SparkSession

from bounce_ml import config
from bounce_ml.errors import BounceMLError
from bounce_ml.predict.artifacts import METADATA_FILE, read_metadata, sha256_file


@dataclass(frozen=True)
class ShippedModel:
    """A model registered with a Spark job, by the name of its archive."""

    archive_name: str

    def local_dir(self) -> Path:
        """Where the model is unpacked on the executor running this code."""
        return Path(SparkFiles.get(self.archive_name))


def ship_model(spark: SparkSession, model_dir: Path | None = None) -> ShippedModel:
    """Register ``model_dir`` (default: the packaged model) with the job of ``spark``.

    The archive is named after the SHA-256 of its files, so shipping the same model twice
    is free and two different models never share a name.
    """
    directory = model_dir or config.MODELS_DIR
    metadata = read_metadata(directory)  # no model there: say so now, not in a failed task
    names = [METADATA_FILE, *sorted(metadata["files"])]
    digest = hashlib.sha256()
    for name in names:
        path = directory / name
        if not path.is_file():
            raise BounceMLError(f"{path}: model file missing")
        digest.update(f"{name} {sha256_file(path)}\n".encode())
    archive_name = f"bounce-ml-model-{digest.hexdigest()[:16]}.zip"
    archive = _staging_dir() / archive_name
    if not archive.exists():
        _write_archive(directory, names, archive)
    context = spark.sparkContext
    if not any(Path(registered).name == archive_name for registered in context.listArchives):
        context.addArchive(str(archive))
    return ShippedModel(archive_name)


def _write_archive(directory: Path, names: list[str], archive: Path) -> None:
    partial = archive.with_suffix(".partial")
    with zipfile.ZipFile(partial, "w") as bundle:  # stored, not deflated: numbers compress badly
        for name in names:
            bundle.write(directory / name, arcname=name)
    partial.replace(archive)


@cache
def _staging_dir() -> Path:
    """A folder of this process for the archives it ships; removed when the process ends.

    Spark reads a registered archive when a task first needs it, so it must outlive the
    call that registered it."""
    folder = Path(tempfile.mkdtemp(prefix="bounce-ml-spark-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder
