"""Add bounce-ml's prediction columns to a Spark DataFrame of bounce texts or records.

Rows travel to Python as Arrow batches (``mapInPandas``; their size is
``spark.sql.execution.arrow.maxRecordsPerBatch``, 10,000 by default). Each Python worker
builds one `Classifier` from the shipped model and keeps it for every task it runs, so
the model is loaded and verified once per worker, and its cache of normalised wordings
carries over from batch to batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from functools import cache, partial
from pathlib import Path
from typing import Any

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql.types import StringType, StructType

from bounce_ml.errors import BounceMLError
from bounce_ml.mail.records import KINDS, BounceRecord
from bounce_ml.mail.smtp import text_record
from bounce_ml.predict.classifier import Classifier
from bounce_ml.predict.output import result_row
from bounce_ml.spark.schema import PREDICTION_COLUMNS, PREDICTION_FIELDS, RECORD_SCHEMA
from bounce_ml.spark.shipping import ShippedModel, ship_model

LANGS = ("en", "zh")
# The record columns the classifier reads besides the text, when a DataFrame has them all.
CODE_COLUMNS = ("kind", "status", "reply_code", "smtp_command")


def classify_dataframe(
    df: DataFrame,
    text_col: str = "text",
    *,
    status_col: str | None = None,
    model_dir: Path | None = None,
    lang: str = "en",
) -> DataFrame:
    """``df`` with the prediction columns added after its own.

    Parameters
    ----------
    df : the rows to classify; every column is kept as it is.
    text_col : the string column holding the bounce text. A null text is classified as
        empty text (label ``unknown``, note ``empty text``), as the command line does.
    status_col : a string column with each row's DSN status (``5.2.2``) or SMTP reply code
        (``550``), when the table has it apart from the text; a null falls back to the code
        found in the text. Rows with every column of `parse_emails_dataframe` are read as
        whole records instead (kind, status, reply code and refused command).
    model_dir : a trained model directory on the driver (default: the packaged model).
        It is shipped to the executors with the job and verified there.
    lang : ``en`` or ``zh``, the language of the action and advice.

    The added columns are label, name_en, name_zh, confidence, severity, retry, action,
    advice, decided_by, rule_id, evidence, note and truncated (`bounce_ml.spark.schema`).
    When ``df`` already has a string ``note`` column, the prediction's note is appended to
    it, as ``bounce-ml predict --input`` does.

    Raises
    ------
    BounceMLError
        At once for a missing or non-string text or status column, a column name the
        predictions would overwrite, an unknown ``lang`` or a missing model; when the job
        runs, for a model file whose SHA-256 does not match its metadata on an executor.
    """
    if lang not in LANGS:
        raise BounceMLError(f"unknown language {lang!r}; one of {', '.join(LANGS)}")
    _check_columns(df.schema, text_col, status_col)
    as_records = status_col is None and set(RECORD_SCHEMA.fieldNames()) <= set(df.columns)
    fields = [field for field in df.schema.fields if field.name != "note"] + PREDICTION_FIELDS
    model = ship_model(df.sparkSession, model_dir)
    columns = {"text": text_col, "status": status_col}
    if as_records:
        columns.update((name, name) for name in CODE_COLUMNS)
    if "note" in df.columns:
        columns["note"] = "note"
    classify = partial(
        _classify_batches,
        model=model,
        lang=lang,
        columns={field: column for field, column in columns.items() if column is not None},
        as_records=as_records,
    )
    return df.mapInPandas(classify, StructType(fields))


def _check_columns(schema: StructType, text_col: str, status_col: str | None) -> None:
    names = schema.fieldNames()
    for column in (text_col, status_col):
        if column is None:
            continue
        if column not in names:
            raise BounceMLError(f"no column {column!r}; columns found: {', '.join(names)}")
        if not isinstance(schema[column].dataType, StringType):
            raise BounceMLError(f"column {column!r} is {schema[column].dataType.simpleString()}")
    clashes = [name for name in PREDICTION_COLUMNS if name in names and name != "note"]
    if clashes:
        raise BounceMLError(
            f"column {clashes[0]!r} would be overwritten by the predictions; rename it first"
        )
    if "note" in names and not isinstance(schema["note"].dataType, StringType):
        raise BounceMLError("column 'note' must be a string to take the prediction's note")


def _classify_batches(
    batches: Iterator[pd.DataFrame],
    *,
    model: ShippedModel,
    lang: str,
    columns: dict[str, str],
    as_records: bool,
) -> Iterator[pd.DataFrame]:
    """On an executor: each Arrow batch with the prediction columns added.

    ``columns`` maps record fields (text, note, kind, status, reply_code, smtp_command) to
    the batch columns that hold them."""
    try:
        classifier = _classifier(model.local_dir(), lang)
    except BounceMLError as exc:  # as the base class, which the driver recognises (job_error)
        raise BounceMLError(str(exc)) from None
    make_record = _whole_record if as_records else _text_record
    for batch in batches:
        values = {field: [_string(v) for v in batch[column]] for field, column in columns.items()}
        records = [
            make_record({field: values[field][i] for field in values}) for i in range(len(batch))
        ]
        predictions = classifier.predict_records(records)
        rows = [result_row(r, p) for r, p in zip(records, predictions, strict=True)]
        frame = pd.DataFrame.from_records(rows, columns=PREDICTION_COLUMNS, index=batch.index)
        yield pd.concat([batch.drop(columns="note", errors="ignore"), frame], axis=1)


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None  # pandas gives NaN or None for null


def _text_record(fields: dict[str, str | None]) -> BounceRecord:
    """A text read as the command line reads a line; a status given beside it wins."""
    record = text_record(fields["text"] or "", note=fields.get("note"))
    status = fields.get("status")
    return record if status is None else replace(record, status=status)


def _whole_record(fields: dict[str, str | None]) -> BounceRecord:
    """A row of `parse_emails_dataframe`, as the email reader made it."""
    kind = fields["kind"]
    return BounceRecord(
        text=fields["text"] or "",
        status=fields["status"],
        reply_code=fields["reply_code"],
        smtp_command=fields["smtp_command"],
        kind=kind if kind in KINDS else "failed",  # type: ignore[arg-type]
        note=fields.get("note"),
    )


@cache
def _classifier(model_dir: Path, lang: str) -> Classifier:
    # Python workers outlive tasks (spark.python.worker.reuse), so one load serves them all.
    return Classifier(model_dir=model_dir, lang=lang)
