"""The Spark types of what bounce-ml adds to a DataFrame, written once for every module here."""

from __future__ import annotations

from pyspark.sql.types import (
    BooleanType,
    DoubleType,
    LongType,
    StringType,
    StructField,
    StructType,
)

from bounce_ml.predict.output import RECORD_COLUMNS

# One bounce record, in the column order of `bounce-ml predict --input`: the record's
# columns, its text and its note. Every column is a string but ``index``.
RECORD_SCHEMA = StructType(
    [
        StructField(name, LongType() if name == "index" else StringType())
        for name in (*RECORD_COLUMNS, "text", "note")
    ]
)

# The prediction fields (`bounce_ml.Prediction.to_dict` without the text), added after the
# input columns. ``note`` joins the input row's note, when it has one, and the prediction's.
PREDICTION_FIELDS = [
    StructField("label", StringType(), nullable=False),
    StructField("name_en", StringType(), nullable=False),
    StructField("name_zh", StringType(), nullable=False),
    StructField("confidence", DoubleType(), nullable=False),
    StructField("severity", StringType(), nullable=False),
    StructField("retry", BooleanType(), nullable=False),
    StructField("action", StringType(), nullable=False),
    StructField("advice", StringType(), nullable=False),
    StructField("decided_by", StringType(), nullable=False),
    StructField("rule_id", StringType()),
    StructField("evidence", StringType(), nullable=False),
    StructField("note", StringType()),
    StructField("truncated", BooleanType(), nullable=False),
]
PREDICTION_COLUMNS = [field.name for field in PREDICTION_FIELDS]
