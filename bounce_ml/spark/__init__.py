"""Classify bounces where they already live: Spark DataFrames (the optional extra
``bounce-ml[spark]``).

- `classify_dataframe` adds the prediction columns to a DataFrame of bounce texts.
- `parse_emails_dataframe` turns a ``binaryFile`` DataFrame of bounce emails into one row per
  failed recipient, with the fields of ``bounce-ml predict --input``.

Both are thin: Arrow batches go through the same `Classifier` and email reader as the
command line, so a row gets the same answer on a cluster as on a laptop.
"""

from bounce_ml.spark.classify import classify_dataframe
from bounce_ml.spark.emails import parse_emails_dataframe

__all__ = ["classify_dataframe", "parse_emails_dataframe"]
