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

from bounce_ml.errors import BounceMLError
from bounce_ml.feedback.store import FeedbackStore, LabelInput, ReviewGroup
from bounce_ml.inputfile import SAMPLE_BYTES, detect_encoding
from bounce_ml.labels.taxonomy import Taxonomy
from bounce_ml.predict.output import escape_formula, unescape_formula

EXPORT_COLUMNS = (
    "count",
    "text",
    "model_label",
    "model_probability",
    "second_label",
    "second_probability",
    "label",
)
# The encodings spreadsheet programs save CSV in, as `detect_encoding` names their codecs,
# and the name shown to the user (GB18030 reads GB2312 and GBK, Big5-HKSCS reads Big5).
SHEET_ENCODINGS = {
    "utf-8": "utf-8",
    "utf-8-sig": "utf-8",
    "gb18030": "gb18030",
    "big5hkscs": "big5",
}


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
                escape_formula(group.example),  # the text is the bounce's, not ours
                *(cell for label, p in top for cell in (label, f"{p:.3f}" if label else "")),
                "",
            ]
        )
    return len(groups)


def decode_sheet(path: Path) -> tuple[str, str]:
    """The text of a CSV file and the encoding it was read with (UTF-8, GBK or Big5).

    The encoding is detected as for ``predict --input`` (`bounce_ml.inputfile`), but a
    sheet must decode whole: a label read through a replaced byte would be stored wrong.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BounceMLError(f"{path}: file not found") from None
    except OSError as exc:
        raise BounceMLError(f"{path}: cannot read ({exc.strerror})") from None
    encoding = detect_encoding(data[:SAMPLE_BYTES])
    shown = SHEET_ENCODINGS.get(encoding)
    problem = f"read as {encoding}"
    if shown is not None:
        try:
            return data.decode(encoding), shown
        except UnicodeDecodeError as exc:
            problem = f"byte {exc.start} cannot be read"
    raise BounceMLError(
        f"{path}: not UTF-8, GBK or Big5 text ({problem}); save the sheet as CSV UTF-8"
    )


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
            text = unescape_formula((record.get("text") or "").strip())
            label = (record.get("label") or "").strip()
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
