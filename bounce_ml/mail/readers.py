"""Turn an input path into a stream of bounce records, reading large files piece by piece.

Kinds of input, detected from the path or named with ``input_format``:

- ``eml``: one message file
- ``maildir``: a Maildir folder (the messages in ``cur/`` and ``new/``)
- ``folder``: a folder of ``.eml`` files, searched recursively
- ``mbox``: messages separated by ``From`` lines
- ``csv``: a header row, then one message per row, its text in ``text_column``
- ``jsonl``: one JSON object per line, its text in ``text_field``
- ``text``: one message per non-blank line; also what ``-`` (standard input) is read as

Nothing reads a whole file: an mbox is split line by line and a CSV or JSONL file is read a
row at a time, so memory stays flat however large the input. Whatever cannot be read is
yielded as a `ReadProblem` (source, index, reason) and reading goes on.

Files compressed with gzip, bzip2 or xz are read through their decompressor; archives are
refused (`bounce_ml.inputfile`). Folder and Maildir input never follows a symbolic link out
of the folder: such a link is reported and skipped.

CSV, JSONL and text input is read in the encoding given, or the one detected from its first
64 KB (UTF-8, UTF-16 with a byte order mark, GB18030, Big5, Windows-1252). Undecodable bytes
are replaced by U+FFFD line by line and the record's ``note`` says so: one bad byte in a long
export should not cost its line. Text containing NUL bytes is binary data, not a message,
and is reported and skipped.

A CSV row may span lines inside a quoted field. A row longer than `MAX_CSV_ROW_CHARS`, or a
quote that is never closed, is reported with the exact lines it covers, and reading goes on
at the next row; a stray quote never glues the rows after it into one.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import json
import lzma
import os
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import BinaryIO, TypeVar

from bounce_ml.errors import BounceMLError
from bounce_ml.inputfile import as_utf8, decompressed, detect_encoding, sampled, without_compression
from bounce_ml.mail.emails import BrokenMessageError, parse_bounce
from bounce_ml.mail.records import BounceRecord, ReadProblem
from bounce_ml.mail.smtp import text_record

__all__ = [
    "INPUT_FORMATS",
    "REPLACED_BYTES",
    "batched",
    "iter_records",
    "message_items",
    "split_mbox",
]

INPUT_FORMATS = ("eml", "mbox", "maildir", "folder", "csv", "jsonl", "text")
# Bounds on what is held in memory at once. A longer line is cut (its row is reported).
# A longer message is parsed from its first MAX_MESSAGE_BYTES: the report comes first,
# the returned original last, so what gets cut off is what the parser ignores anyway.
MAX_LINE_BYTES = 1 << 20
MAX_MESSAGE_BYTES = 16 << 20
# A CSV row (all its lines) longer than this is skipped: the csv module's own field limit.
MAX_CSV_ROW_CHARS = 131_072

_FORMAT_BY_SUFFIX = {
    ".eml": "eml",
    ".mbox": "mbox",
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
_LINE_TOO_LONG = f"line longer than {MAX_LINE_BYTES} bytes, skipped"
REPLACED_BYTES = "undecodable bytes replaced by U+FFFD"
_LINK_OUT = "outside the folder; not followed"
_MESSAGE_CUT = f"message cut to {MAX_MESSAGE_BYTES} bytes, or a line in it to {MAX_LINE_BYTES}"

T = TypeVar("T")

_Item = BounceRecord | ReadProblem


def iter_records(
    path: str | Path,
    *,
    text_column: str | None = None,
    text_field: str | None = None,
    input_format: str | None = None,
    encoding: str | None = None,
    notice: Callable[[str], None] | None = None,
) -> Iterator[BounceRecord | ReadProblem]:
    """Read bounce records from a file, a folder or standard input (``-``).

    Parameters
    ----------
    path : str or Path
        What to read; ``-`` is standard input. gzip, bzip2 and xz files are decompressed.
    text_column : str, optional
        The CSV column holding the message text (default ``text``).
    text_field : str, optional
        The JSONL field holding the message text (default ``text``).
    input_format : str, optional
        One of `INPUT_FORMATS`, to override detection from the path.
    encoding : str, optional
        The codec of CSV, JSONL and text input; by default detected from its first bytes.
    notice : callable, optional
        Told, in one line, what a person should know about the whole input (the encoding
        it was detected to be).

    Returns
    -------
    Iterator of BounceRecord or ReadProblem
        Lazily produced, in input order.

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    ValueError
        When ``input_format`` is unknown or does not fit ``path`` (a folder format for a
        file, or the other way round).
    BounceMLError
        When ``path`` is an archive (zip, 7-Zip, RAR) or zstandard-compressed.
    """
    if input_format is not None and input_format not in INPUT_FORMATS:
        raise ValueError(f"unknown input format {input_format!r}; one of {INPUT_FORMATS}")
    text = _TextOptions(text_column or "text", text_field or "text", encoding, notice)
    if str(path) == "-":
        if input_format in ("maildir", "folder"):
            raise ValueError(f"standard input cannot be read as a {input_format}")
        stream = decompressed(sys.stdin.buffer, "standard input")
        return _read_stream(stream, "-", input_format or "text", text)
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file or folder: {path}")
    if path.is_dir():
        kind = input_format or _folder_format(path)
        if kind not in ("maildir", "folder"):
            raise ValueError(f"{path} cannot be read as {kind}")
        files = _message_files(path, kind)
        if not any(isinstance(item, Path) for item in files):
            what = "no messages in cur/ or new/" if kind == "maildir" else "no .eml files"
            return iter([ReadProblem(str(path), None, f"{what} in this folder")])
        return _read_message_files(files)
    if input_format in ("maildir", "folder"):
        raise ValueError(f"{path} cannot be read as {input_format}")
    raw = path.open("rb")
    try:
        stream = decompressed(raw, str(path))
    except BounceMLError:
        raw.close()
        raise
    return _read_file(raw, stream, path, input_format, text)


@dataclass(frozen=True, slots=True)
class _TextOptions:
    """How to read messages given as text: where the text is, and in which encoding."""

    column: str
    field: str
    encoding: str | None
    notice: Callable[[str], None] | None


if sys.version_info >= (3, 12):
    from itertools import batched
else:

    def batched(items: Iterable[T], size: int) -> Iterator[tuple[T, ...]]:
        """Group ``items`` into tuples of ``size`` (the last one may be shorter), as
        `itertools.batched` does from Python 3.12 on."""
        if size < 1:
            raise ValueError("size must be at least one")
        iterator = iter(items)
        while batch := tuple(itertools.islice(iterator, size)):
            yield batch


def split_mbox(stream: BinaryIO) -> Iterator[tuple[bytes, bool]]:
    """Split an mbox into its messages without reading it whole.

    A message starts after a ``From`` line that opens the file or follows a blank line;
    mboxrd quoting (``>From``) is undone. Text before the first ``From`` line is yielded as
    a message of its own, so that it gets reported rather than silently dropped. A last
    message that the file cuts short is yielded as it is.

    Parameters
    ----------
    stream : BinaryIO
        The mbox, opened in binary mode.

    Yields
    ------
    tuple of (bytes, bool)
        The message, and whether it was cut to fit `MAX_MESSAGE_BYTES` or `MAX_LINE_BYTES`.
    """
    message = bytearray()
    cut = False
    after_blank = True  # the start of the file counts as a blank line
    for line, line_cut in _bounded_lines(stream):
        if after_blank and line.startswith(b"From "):
            if message.strip():
                yield _without_separator(message), cut
            message, cut, after_blank = bytearray(), False, False
            continue
        after_blank = line in (b"\n", b"\r\n")
        if line.startswith(b">") and line.lstrip(b">").startswith(b"From "):
            line = line[1:]
        if len(message) + len(line) > MAX_MESSAGE_BYTES:
            cut = True
        else:
            message += line
        cut = cut or line_cut
    if message.strip():
        yield _without_separator(message), cut


def _folder_format(path: Path) -> str:
    return "maildir" if (path / "cur").is_dir() or (path / "new").is_dir() else "folder"


def _file_format(path: Path, start: bytes) -> str:
    """The kind of a file, from its name (less any compression suffix) or its first bytes."""
    name = without_compression(path)
    kind = _FORMAT_BY_SUFFIX.get(name.suffix.lower())
    if kind is not None:
        return kind
    return "mbox" if name.name.lower() == "mbox" or start.startswith(b"From ") else "text"


def _read_file(
    raw: BinaryIO, stream: BinaryIO, path: Path, kind: str | None, text: _TextOptions
) -> Iterator[_Item]:
    with raw:
        start, stream = sampled(stream, 5)
        kind = kind or _file_format(path, start)
        last: int | None = None
        try:
            for item in _read_stream(stream, str(path), kind, text):
                last = item.index
                yield item
        except (EOFError, OSError, lzma.LZMAError, zlib.error) as error:
            unit = "message" if kind in ("mbox", "eml") else "line"
            where = "at the start" if last is None else f"after {unit} {last}"
            yield ReadProblem(
                str(path),
                None,
                f"compressed data damaged or cut short {where} ({error}); "
                "the rest of the file is lost",
            )


def _read_stream(stream: BinaryIO, source: str, kind: str, text: _TextOptions) -> Iterator[_Item]:
    if kind == "eml":
        message, cut = _read_message(stream)
        yield from _message_items(message, source, None, cut=cut)
        return
    if kind == "mbox":
        for index, (message, cut) in enumerate(split_mbox(stream)):
            yield from _message_items(message, source, index, cut=cut)
        return
    sample, stream = sampled(stream)
    encoding = text.encoding or detect_encoding(sample)
    if text.encoding is None and not encoding.startswith("utf") and text.notice:
        text.notice(f"{source}: read as {encoding} (detected; --encoding to choose)")
    lines = _decoded_lines(as_utf8(stream, encoding), encoding)
    if kind == "csv":
        yield from _read_csv(lines, source, text.column)
    elif kind == "jsonl":
        yield from _read_jsonl(lines, source, text.field)
    else:
        yield from _read_text(lines, source)


def _message_files(folder: Path, kind: str) -> list[Path | ReadProblem]:
    """The message files of a folder in path order, and a problem for each symbolic link
    that leads out of it: a link must not smuggle another file's contents into the output."""
    root = folder.resolve()

    def outside(path: Path) -> bool:
        return path.is_symlink() and not path.resolve().is_relative_to(root)

    if kind == "maildir":
        subfolders = [folder / "cur", folder / "new"]
        candidates = [p for p in subfolders if outside(p)] + [
            path for p in subfolders if p.is_dir() and not outside(p) for path in p.iterdir()
        ]
    else:  # os.walk does not descend into linked folders
        candidates = [
            Path(top, name) for top, dirs, files in os.walk(folder) for name in dirs + files
        ]
    items: list[Path | ReadProblem] = []
    for path in sorted(candidates):
        is_message = kind == "maildir" or path.suffix.lower() == ".eml"
        if outside(path) and (path.is_dir() or is_message):
            what = "folder" if path.is_dir() else "file"
            items.append(ReadProblem(str(path), None, f"symbolic link to a {what} {_LINK_OUT}"))
        # Mail programs keep their own bookkeeping in dot files.
        elif is_message and path.is_file() and not path.name.startswith("."):
            items.append(path)
    return items


def _read_message_files(files: list[Path | ReadProblem]) -> Iterator[_Item]:
    index = 0
    for path in files:
        if isinstance(path, ReadProblem):
            yield path
            continue
        try:
            with _open_regular(path) as stream:
                message, cut = _read_message(stream)
        except OSError as error:
            yield ReadProblem(str(path), index, f"cannot read the file: {error.strerror}")
        else:
            yield from _message_items(message, str(path), index, cut=cut)
        index += 1


def _open_regular(path: Path) -> BinaryIO:
    """Open a message file (or what a link inside the folder points to), refusing a link
    that appeared since the folder was listed."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
    return os.fdopen(os.open(path.resolve(), flags), "rb")


def _read_message(stream: BinaryIO) -> tuple[bytes, bool]:
    """A message file's bytes, cut to `MAX_MESSAGE_BYTES`, and whether it was cut."""
    data = stream.read(MAX_MESSAGE_BYTES + 1)
    return data[:MAX_MESSAGE_BYTES], len(data) > MAX_MESSAGE_BYTES


def message_items(data: bytes, source: str, index: int | None = None) -> list[_Item]:
    """The records of one whole message held in memory (a Spark ``binaryFile`` row), or the
    problem that stops it being read; a message over `MAX_MESSAGE_BYTES` is cut to that size."""
    cut = len(data) > MAX_MESSAGE_BYTES
    return _message_items(data[:MAX_MESSAGE_BYTES], source, index, cut=cut)


def _message_items(data: bytes, source: str, index: int | None, *, cut: bool) -> list[_Item]:
    try:
        records = parse_bounce(data, source=source, index=index)
    except BrokenMessageError as error:
        return [ReadProblem(source, index, str(error))]
    except Exception as error:  # one message the email package chokes on must not end a run
        return [ReadProblem(source, index, f"cannot parse: {type(error).__name__}: {error}")]
    return [record.with_note(_MESSAGE_CUT) if cut else record for record in records]


def _bounded_lines(stream: BinaryIO) -> Iterator[tuple[bytes, bool]]:
    """Yield each line of ``stream`` and whether it was cut to `MAX_LINE_BYTES`, so that a
    file without line breaks cannot fill memory."""
    read = partial(stream.readline, MAX_LINE_BYTES)
    for line in iter(read, b""):
        cut = False
        if len(line) == MAX_LINE_BYTES and not line.endswith(b"\n"):
            for rest in iter(read, b""):
                cut = True
                if rest.endswith(b"\n"):
                    break
        yield (line + b"\n", True) if cut else (line, False)


def _without_separator(message: bytearray) -> bytes:
    """Drop the blank line that separates a message from the next ``From`` line."""
    if message.endswith(b"\r\n\r\n"):
        return bytes(message[:-2])
    if message.endswith(b"\n\n"):
        return bytes(message[:-1])
    return bytes(message)


def _decoded_lines(stream: BinaryIO, encoding: str) -> Iterator[tuple[int, str, bool]]:
    """Number, text and whether it was cut (see `_bounded_lines`) of each line."""
    recoded = codecs.lookup(encoding).name.startswith(("utf-16", "utf-32"))
    codec = "utf-8" if recoded or encoding == "utf-8-sig" else encoding
    for number, (line, cut) in enumerate(_bounded_lines(stream), start=1):
        # A byte order mark can only open the file; spreadsheet programs write one before CSV.
        if number == 1 and line.startswith(codecs.BOM_UTF8) and codec == "utf-8":
            line = line[len(codecs.BOM_UTF8) :]
        yield number, line.decode(codec, errors="replace"), cut


def _text_item(source: str, index: int, text: str) -> _Item:
    """A record for one message given as text (a CSV cell, a JSON field, a line)."""
    text = text.strip()
    if not text:
        return ReadProblem(source, index, "empty text")
    if "\x00" in text:
        return ReadProblem(source, index, "NUL bytes: binary data, not text")
    note = REPLACED_BYTES if "\ufffd" in text else None
    return text_record(text, source=source, index=index, note=note)


def _read_text(lines: Iterable[tuple[int, str, bool]], source: str) -> Iterator[_Item]:
    for number, line, cut in lines:
        if cut:
            yield ReadProblem(source, number, _LINE_TOO_LONG)
        elif line.strip():
            yield _text_item(source, number, line)


def _read_jsonl(lines: Iterable[tuple[int, str, bool]], source: str, field: str) -> Iterator[_Item]:
    for number, line, cut in lines:
        if cut:
            yield ReadProblem(source, number, _LINE_TOO_LONG)
            continue
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            yield ReadProblem(source, number, f"not JSON: {error}")
            continue
        except RecursionError:
            yield ReadProblem(source, number, "not JSON: nested too deeply")
            continue
        if not isinstance(item, dict):
            yield ReadProblem(source, number, f"not a JSON object but a {type(item).__name__}")
        elif field not in item:
            found = ", ".join(list(item)[:20])
            yield ReadProblem(source, number, f"no field {field!r}; fields found: {found}")
        elif not isinstance(item[field], str):
            yield ReadProblem(source, number, f"field {field!r} is not a string")
        else:
            yield _text_item(source, number, item[field])


@dataclass
class _CsvRecord:
    """The physical lines of one CSV row: a row goes on while a quoted field is open."""

    first: int
    last: int
    lines: list[str] | None  # None once the row is longer than MAX_CSV_ROW_CHARS
    closed: bool  # False when the file ended inside a quoted field

    @property
    def span(self) -> str:
        count = self.last - self.first + 1
        return f"lines {self.first}-{self.last} ({count} lines) skipped"


def _csv_records(lines: Iterable[tuple[int, str, bool]]) -> Iterator[_CsvRecord]:
    """Group lines into rows without holding more than `MAX_CSV_ROW_CHARS` of any row."""
    record: _CsvRecord | None = None
    size, in_quotes = 0, False
    for number, line, cut in lines:
        if record is None:
            record, size = _CsvRecord(number, number, [], closed=True), 0
        record.last = number
        size += len(line)
        if cut or size > MAX_CSV_ROW_CHARS:
            record.lines = None
        elif record.lines is not None:
            record.lines.append(line)
        in_quotes = _quote_open_after(line, in_quotes)
        if not in_quotes:
            yield record
            record = None
    if record is not None:
        record.closed = False
        yield record


def _quote_open_after(line: str, in_quotes: bool) -> bool:
    """Whether a quoted field is open at the end of ``line``, read as the csv module reads:
    a quote opens a field only at its start, and ``""`` inside a quoted field is a quote."""
    position = 0
    while position < len(line):
        if in_quotes:
            close = line.find('"', position)
            if close < 0:
                return True
            if line.startswith('"', close + 1):
                position = close + 2
                continue
            in_quotes, position = False, close + 1
        elif line.startswith('"', position):
            in_quotes, position = True, position + 1
            continue
        comma = line.find(",", position)
        if comma < 0:
            return False
        position = comma + 1
    return in_quotes


def _csv_row(record: _CsvRecord) -> list[str] | str:
    """The fields of a complete record, or why it cannot be read."""
    if not record.closed:
        return f"quote opened on this line is never closed; {record.span}"
    if record.lines is None:
        return f"row longer than {MAX_CSV_ROW_CHARS} characters; {record.span}"
    # strict: text after a closing quote is an error, not glued on (a stray quote that a
    # later quote closes would otherwise merge the rows between them into one)
    try:
        rows = list(csv.reader(record.lines, strict=True))
    except csv.Error as error:
        where = f"; {record.span}" if record.last > record.first else ""
        return f"malformed CSV row: {error}{where}"
    return rows[0] if rows else []


def _read_csv(lines: Iterable[tuple[int, str, bool]], source: str, column: str) -> Iterator[_Item]:
    records = _csv_records(lines)
    first = next(records, None)
    if first is None:
        yield ReadProblem(source, None, "empty file: no header row")
        return
    header = _csv_row(first)
    if isinstance(header, str):
        yield ReadProblem(source, first.first, f"malformed CSV header: {header}")
        return
    names = [name.strip() for name in header]
    if column not in names:
        yield ReadProblem(source, None, f"no column {column!r}; columns found: {', '.join(names)}")
        return
    position = names.index(column)
    for record in records:
        row = _csv_row(record)
        if isinstance(row, str):
            yield ReadProblem(source, record.first, row)
        elif not row:
            continue  # a blank line
        elif len(row) != len(names):
            where = f"; {record.span}" if record.last > record.first else ""
            yield ReadProblem(
                source,
                record.first,
                f"ragged row: {len(row)} fields where the header has {len(names)}{where}",
            )
        else:
            yield _text_item(source, record.first, row[position])
