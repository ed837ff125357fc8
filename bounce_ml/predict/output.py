"""Writing prediction rows as a table, JSON, JSON lines or CSV, always as valid UTF-8."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from bounce_ml.mail.records import BounceRecord
from bounce_ml.predict.classifier import Prediction
from bounce_ml.text.surrogates import has_lone_surrogates, replace_lone_surrogates

# The record's columns, in output order, before the prediction's.
RECORD_COLUMNS = (
    "source",
    "index",
    "kind",
    "recipient",
    "status",
    "reply_code",
    "smtp_command",
    "dsn_action",
    "feedback_type",
    "remote_mta",
)

# The output format an --output file implies by its extension.
EXTENSIONS = {
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".txt": "table",
}
REPLACED_NOTE = "invalid characters replaced by U+FFFD"
# A spreadsheet runs a cell starting with one of these as a formula (=HYPERLINK(...)).
# OWASP's CSV injection guidance: prefix such a cell with a single quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def result_row(record: BounceRecord, prediction: Prediction) -> dict[str, Any]:
    """One output row: the record's columns, then the prediction's; the two notes joined."""
    row = {column: getattr(record, column) for column in RECORD_COLUMNS}
    row.update(prediction.to_dict())
    notes = [note for note in (record.note, prediction.note) if note]
    row["note"] = "; ".join(notes) or None
    return row


def write_rows(
    rows: Iterable[dict[str, Any]], fmt: str, out: TextIO, *, escape_formulas: bool = True
) -> int:
    """Write rows in ``fmt``; streams for jsonl and csv. Returns the number of rows.

    A row with characters that cannot be written as UTF-8 gets them replaced by U+FFFD
    and says so in its ``note``, so one bad row never stops the others. In CSV, cells that
    a spreadsheet would run as formulas are prefixed with ``'`` unless ``escape_formulas``
    is False (for programs that read the CSV).
    """
    rows = map(writable_row, rows)
    if fmt == "jsonl":
        return _count(out.write(json.dumps(row, ensure_ascii=False) + "\n") for row in rows)
    if fmt == "csv":
        return _write_csv(map(_without_formulas, rows) if escape_formulas else rows, out)
    materialised = list(rows)
    if fmt == "json":
        json.dump(materialised, out, ensure_ascii=False, indent=2)
        out.write("\n")
    else:
        _write_table(materialised, out)
    return len(materialised)


def writable_row(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` as it can be written as UTF-8: lone surrogates replaced by U+FFFD, and its
    ``note`` saying so (the row itself when it has none)."""
    if not any(isinstance(v, str) and has_lone_surrogates(v) for v in row.values()):
        return row
    fixed = {k: replace_lone_surrogates(v) if isinstance(v, str) else v for k, v in row.items()}
    if "note" in fixed:
        fixed["note"] = "; ".join(note for note in (fixed["note"], REPLACED_NOTE) if note)
    return fixed


def escape_formula(value: str) -> str:
    """``value`` with a ``'`` before it when a spreadsheet would run it as a formula.

    >>> escape_formula("=1+2"), escape_formula("550 user unknown")
    ("'=1+2", '550 user unknown')
    """
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def unescape_formula(value: str) -> str:
    """The inverse of `escape_formula`, for a sheet that comes back from a spreadsheet."""
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_STARTS) else value


def _without_formulas(row: dict[str, Any]) -> dict[str, Any]:
    return {
        key: escape_formula(value) if isinstance(value, str) else value
        for key, value in row.items()
    }


def _count(iterator: Iterator[Any]) -> int:
    return sum(1 for _ in iterator)


def _write_csv(rows: Iterable[dict[str, Any]], out: TextIO) -> int:
    writer = None
    count = 0
    for row in rows:
        if writer is None:
            writer = csv.DictWriter(out, fieldnames=list(row), extrasaction="ignore")
            writer.writeheader()
        writer.writerow(row)
        count += 1
    return count


def _write_table(rows: list[dict[str, Any]], out: TextIO) -> None:
    """One block per message: readable in a terminal, whatever its width."""
    for number, row in enumerate(rows, start=1):
        confidence = f"{row['confidence']:.2f}"
        retry = "retry" if row["retry"] else "do not retry"
        lines = [f"[{number}] {_one_line(row['text'], 100)}"]
        for key in ("source", "kind", "recipient", "status"):
            if row.get(key):
                lines.append(f"    {key:<11} {row[key]}")
        lines += [
            f"    label       {row['label']}  {row['name_zh']} / {row['name_en']}",
            f"    confidence  {confidence} (decided by {row['decided_by']})",
            f"    severity    {row['severity']}, {retry}",
            f"    action      {row['action']}",
            f"    advice      {row['advice']}",
            f"    evidence    {_evidence(row)}",
        ]
        if row.get("note"):
            lines.append(f"    note        {row['note']}")
        out.write("\n".join(lines) + "\n\n")


def _evidence(row: dict[str, Any]) -> str:
    words = row["evidence"] or "-"
    return f"rule {row['rule_id']}: {words}" if row["decided_by"] == "rule" else words


def _one_line(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"
