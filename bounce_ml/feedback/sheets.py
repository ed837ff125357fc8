"""The review queue as a spreadsheet: export it to CSV, read the labeled sheet back.

Spreadsheet programs save CSV in the encoding of the user's system: UTF-8 with a
byte order mark (Excel's "CSV UTF-8"), plain UTF-8, GBK on simplified Chinese
Windows, Big5 on traditional Chinese Windows. The export writes UTF-8 with a BOM,
which every one of them opens correctly; the import accepts all four.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from charset_normalizer import from_bytes

from bounce_ml.errors import BounceMLError
from bounce_ml.feedback.store import FeedbackStore, LabelInput, ReviewGroup
from bounce_ml.labels.taxonomy import Taxonomy

EXPORT_COLUMNS = (
    "count",
    "text",
    "model_label",
    "model_probability",
    "second_label",
    "second_probability",
    "label",
)
# Legacy Chinese encodings tried when a sheet is not UTF-8, as the codec that reads
# the whole family: GB18030 covers GB2312 and GBK, Big5-HKSCS covers Big5.
CHINESE_CODECS = {"gb18030": "gb18030", "big5": "big5hkscs"}


def write_queue(groups: list[ReviewGroup], out: TextIO) -> int:
    """Write the queue as CSV (UTF-8 with BOM) with an empty ``label`` column to fill in."""
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for group in groups:
        top = [*group.top_labels, ("", 0.0), ("", 0.0)][:2]
        writer.writerow(
            [
                group.count,
                group.example,
                *(cell for label, p in top for cell in (label, f"{p:.3f}" if label else "")),
                "",
            ]
        )
    return len(groups)


def decode_sheet(path: Path) -> tuple[str, str]:
    """The text of a CSV file and the encoding it was read with (UTF-8, GBK or Big5)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BounceMLError(f"{path}: file not found") from None
    except OSError as exc:
        raise BounceMLError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as exc:
        utf8_error = exc
    readable = {}
    for name, codec in CHINESE_CODECS.items():
        try:
            readable[name] = data.decode(codec)
        except UnicodeDecodeError:
            continue
    if len(readable) > 1:  # Big5 bytes are mostly valid GBK too: let the detector choose
        best = from_bytes(data, cp_isolation=list(readable)).best()
        if best is not None and best.encoding in readable:
            readable = {best.encoding: readable[best.encoding]}
    if not readable:
        raise BounceMLError(
            f"{path}: not UTF-8, GBK or Big5 text (byte {utf8_error.start} cannot be read); "
            "save the sheet as CSV UTF-8"
        )
    name = next(iter(readable))
    return readable[name], name


@dataclass(frozen=True, slots=True)
class ImportResult:
    labeled: int  # rows that got a label (queued wordings resolved or new rows)
    blank: int  # rows left without a label: still waiting for review
    encoding: str


def read_labeled_sheet(
    path: Path, taxonomy: Taxonomy, *, author: str | None
) -> tuple[list[LabelInput], int, str]:
    """The labeled rows of a sheet (``text`` and ``label`` columns), blank rows, and encoding.

    A row without a label is skipped (not reviewed yet). Any other problem
    refuses the sheet, naming the file and line.
    """
    content, encoding = decode_sheet(path)
    reader = csv.DictReader(io.StringIO(content, newline=""))
    header = [name.strip() for name in reader.fieldnames or []]
    reader.fieldnames = header
    missing = [column for column in ("text", "label") if column not in header]
    if missing:
        raise BounceMLError(
            f"{path}: missing column {missing[0]!r} (found: {', '.join(header) or 'none'})"
        )
    rows, blank = [], 0
    try:
        for record in reader:
            text, label = (record.get("text") or "").strip(), (record.get("label") or "").strip()
            if not label:
                blank += 1
                continue
            where = f"{path}:{reader.line_num}"
            if not text:
                raise BounceMLError(f"{where}: label {label!r} without a text")
            if label not in taxonomy.trainable:
                raise BounceMLError(f"{where}: unknown label {label!r}")
            rows.append(LabelInput(text, label, origin="import", author=author))
    except csv.Error as exc:
        raise BounceMLError(f"{path}:{reader.line_num}: malformed CSV ({exc})") from None
    return rows, blank, encoding


def import_sheet(store: FeedbackStore, path: Path, *, author: str | None = None) -> ImportResult:
    """Read a labeled sheet into the store in one transaction: every row or none."""
    rows, blank, encoding = read_labeled_sheet(path, store.taxonomy, author=author)
    store.add_labels(rows)
    return ImportResult(labeled=len(rows), blank=blank, encoding=encoding)
