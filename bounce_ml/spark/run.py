"""``bounce-ml spark predict``: read a file or folder with Spark, classify it, write the result.

Inputs: Parquet, CSV (with a header row), JSON lines, a ``.eml`` file or a folder of any
one of these (a folder with ``.eml`` files is read as emails). Outputs: a folder of
Parquet (the default), CSV or JSON-lines part files, as Spark writes them. The output is
written beside its final place and moved there only when the job has succeeded, so a
failed run leaves an existing output as it was.
"""

from __future__ import annotations

import shutil
import uuid
from collections import Counter
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession

from bounce_ml.errors import BounceMLError
from bounce_ml.spark.classify import classify_dataframe
from bounce_ml.spark.emails import parse_emails_dataframe

INPUT_SUFFIXES = {
    ".parquet": "parquet",
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".eml": "emails",
}
OUTPUT_FORMATS = ("parquet", "csv", "jsonl")
# Quoting as RFC 4180 and Python's csv module have it ("" inside quotes), not Spark's default.
_CSV_OPTIONS = {"header": "true", "escape": '"', "encoding": "UTF-8"}


def input_kind(path: Path) -> str:
    """What ``path`` holds, from its extension or, for a folder, its files' extensions."""
    if not path.exists():
        raise BounceMLError(f"{path}: no such file or folder")
    if path.is_file():
        suffixes = {path.suffix.lower()}
    else:
        suffixes = {
            file.suffix.lower()
            for file in path.rglob("*")
            if file.is_file() and not file.name.startswith((".", "_"))
        }
    kinds = {INPUT_SUFFIXES[suffix] for suffix in suffixes if suffix in INPUT_SUFFIXES}
    if "emails" in kinds:
        return "emails"
    if len(kinds) != 1:
        found = ", ".join(sorted(kinds)) or "none of .parquet, .csv, .jsonl or .eml"
        raise BounceMLError(f"{path}: cannot tell what to read (found {found})")
    return kinds.pop()


def read_input(spark: SparkSession, path: Path, kind: str) -> DataFrame:
    """The rows to classify: the table as it is, or one row per failed recipient of emails."""
    location = str(path)
    if kind == "parquet":
        return spark.read.parquet(location)
    if kind == "csv":
        # multiLine: a quoted bounce text may span lines.
        return spark.read.options(**_CSV_OPTIONS, multiLine="true").csv(location)
    if kind == "jsonl":
        return spark.read.json(location)
    binary = spark.read.format("binaryFile").option("recursiveFileLookup", "true")
    return parse_emails_dataframe(binary.option("pathGlobFilter", "*.eml").load(location))


def check_output(output: Path, *, overwrite: bool) -> None:
    """Refuse an output that exists (without ``overwrite``) or whose folder does not."""
    if output.exists() and not overwrite:
        raise BounceMLError(f"{output}: already exists (use --overwrite to replace it)")
    if not output.parent.is_dir():
        raise BounceMLError(f"{output}: folder {output.parent} does not exist")


def predict(
    spark: SparkSession,
    input_path: Path,
    output: Path,
    *,
    fmt: str,
    text_column: str,
    model_dir: Path | None,
    lang: str,
    overwrite: bool,
) -> Counter[str]:
    """Classify ``input_path`` into ``output``; returns how many rows got each label."""
    check_output(output, overwrite=overwrite)
    kind = input_kind(input_path)
    rows = read_input(spark, input_path, kind)
    column = "text" if kind == "emails" else text_column
    try:
        classified = classify_dataframe(rows, column, model_dir=model_dir, lang=lang)
    except BounceMLError as exc:
        raise BounceMLError(f"{input_path}: {exc}") from None
    staging = output.parent / f".{output.name}.{uuid.uuid4().hex[:8]}.partial"
    try:
        _write(classified, staging, fmt)
        counts = _label_counts(spark, staging, fmt)
        _replace(staging, output)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return counts


def _write(df: DataFrame, folder: Path, fmt: str) -> None:
    writer = df.write.mode("errorifexists")
    if fmt == "parquet":
        writer.parquet(str(folder))
    elif fmt == "csv":
        writer.options(**_CSV_OPTIONS).csv(str(folder))
    else:
        writer.json(str(folder), ignoreNullFields=False)


def _label_counts(spark: SparkSession, folder: Path, fmt: str) -> Counter[str]:
    """Labels as written: read back one column, not classified a second time."""
    reader = spark.read.options(**_CSV_OPTIONS, multiLine="true") if fmt == "csv" else spark.read
    written = reader.format("json" if fmt == "jsonl" else fmt).load(str(folder))
    return Counter(
        {row["label"]: row["count"] for row in written.groupBy("label").count().collect()}
    )


def _replace(staging: Path, output: Path) -> None:
    if output.is_dir():
        shutil.rmtree(output)
    elif output.exists():
        output.unlink()
    staging.rename(output)
