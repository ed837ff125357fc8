"""Read bounce emails at scale: a ``binaryFile`` DataFrame in, one row per recipient out.

Each message goes through the same reader as ``bounce-ml predict --input`` and gives the
same fields (`bounce_ml.spark.schema.RECORD_SCHEMA`). A file that is not an email message
is kept as one row of kind ``not_bounce`` with an empty text and a note saying why (the
command line reports and skips it; a DataFrame keeps it, so no input disappears).
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
from pyspark.sql import DataFrame

from bounce_ml.errors import BounceMLError
from bounce_ml.mail.readers import message_items
from bounce_ml.mail.records import BounceRecord
from bounce_ml.spark.schema import RECORD_SCHEMA

BINARY_FILE_COLUMNS = ("path", "content")


def parse_emails_dataframe(df_binary: DataFrame) -> DataFrame:
    """One row per failed (or delayed) recipient of each message in ``df_binary``.

    Parameters
    ----------
    df_binary : a DataFrame with the ``path`` and ``content`` columns of Spark's
        ``binaryFile`` source, one row per message file, e.g.
        ``spark.read.format("binaryFile").option("pathGlobFilter", "*.eml").load(folder)``.

    The rows have the columns of ``predict --input`` before its predictions: ``source``
    (the path), ``index`` (null: one message per file), ``kind``, ``recipient``,
    ``status``, ``reply_code``, ``smtp_command``, ``dsn_action``, ``feedback_type``,
    ``remote_mta``, ``text`` (the diagnostic) and ``note``. `classify_dataframe` reads
    them as whole records, codes and kind included, as the command line does.
    """
    missing = [name for name in BINARY_FILE_COLUMNS if name not in df_binary.columns]
    if missing:
        raise BounceMLError(
            f"no column {missing[0]!r}: expected a DataFrame read with format('binaryFile')"
        )
    return df_binary.select(*BINARY_FILE_COLUMNS).mapInPandas(_parse_batches, RECORD_SCHEMA)


def _parse_batches(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """On an executor: the records of the messages in each batch."""
    for batch in batches:
        records = []
        for path, content in zip(batch["path"], batch["content"], strict=True):
            for item in message_items(bytes(content), path):
                if not isinstance(item, BounceRecord):
                    note = f"unreadable: {item.reason}"
                    item = BounceRecord(kind="not_bounce", source=path, note=note)
                records.append(item.to_dict())
        yield pd.DataFrame.from_records(records, columns=RECORD_SCHEMA.fieldNames())
