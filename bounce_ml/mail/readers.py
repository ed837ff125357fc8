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

CSV, JSONL and text input is UTF-8. Undecodable bytes are replaced by U+FFFD line by line
and the record's ``note`` says so: one bad byte in a long export should not cost its line.
Text containing NUL bytes is binary data, not a message, and is reported and skipped.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import sys
from collections.abc import Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import BinaryIO, TypeVar

from bounce_ml.mail.emails import BrokenMessageError, parse_bounce
from bounce_ml.mail.records import BounceRecord, ReadProblem
from bounce_ml.mail.smtp import text_record

__all__ = ["INPUT_FORMATS", "batched", "iter_records", "split_mbox"]

INPUT_FORMATS = ("eml", "mbox", "maildir", "folder", "csv", "jsonl", "text")
# Bounds on what is held in memory at once. A longer line is cut (its row is reported).
# A longer message is parsed from its first MAX_MESSAGE_BYTES: the report comes first,
# the returned original last, so what gets cut off is what the parser ignores anyway.
MAX_LINE_BYTES = 1 << 20
MAX_MESSAGE_BYTES = 16 << 20

_FORMAT_BY_SUFFIX = {
    ".eml": "eml",
    ".mbox": "mbox",
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
_LINE_TOO_LONG = f"line longer than {MAX_LINE_BYTES} bytes, skipped"
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
) -> Iterator[BounceRecord | ReadProblem]:
    """Read bounce records from a file, a folder or standard input (``-``).

    Parameters
    ----------
    path : str or Path
        What to read; ``-`` is standard input.
    text_column : str, optional
        The CSV column holding the message text (default ``text``).
    text_field : str, optional
        The JSONL field holding the message text (default ``text``).
    input_format : str, optional
        One of `INPUT_FORMATS`, to override detection from the path.

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
    """
    if input_format is not None and input_format not in INPUT_FORMATS:
        raise ValueError(f"unknown input format {input_format!r}; one of {INPUT_FORMATS}")
    column, field = text_column or "text", text_field or "text"
    if str(path) == "-":
        kind = input_format or "text"
        if kind in ("maildir", "folder"):
            raise ValueError(f"standard input cannot be read as a {kind}")
        return _read_stream(sys.stdin.buffer, "-", kind, column, field)
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file or folder: {path}")
    kind = input_format or _detect_format(path)
    if path.is_dir() != (kind in ("maildir", "folder")):
        raise ValueError(f"{path} cannot be read as {kind}")
    if path.is_dir():
        files = _message_files(path, kind)
        if not any(isinstance(item, Path) for item in files):
            what = "no messages in cur/ or new/" if kind == "maildir" else "no .eml files"
            return iter([ReadProblem(str(path), None, f"{what} in this folder")])
        return _read_message_files(files)
    return _read_file(path, kind, column, field)


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


def _detect_format(path: Path) -> str:
    if path.is_dir():
        return "maildir" if (path / "cur").is_dir() or (path / "new").is_dir() else "folder"
    kind = _FORMAT_BY_SUFFIX.get(path.suffix.lower())
    if kind is not None:
        return kind
    if path.name.lower() == "mbox":
        return "mbox"
    with path.open("rb") as stream:
        return "mbox" if stream.read(5) == b"From " else "text"


def _read_file(path: Path, kind: str, column: str, field: str) -> Iterator[_Item]:
    with path.open("rb") as stream:
        yield from _read_stream(stream, str(path), kind, column, field)


def _read_stream(
    stream: BinaryIO, source: str, kind: str, column: str, field: str
) -> Iterator[_Item]:
    if kind == "eml":
        message, cut = _read_message(stream)
        yield from _message_items(message, source, None, cut=cut)
    elif kind == "mbox":
        for index, (message, cut) in enumerate(split_mbox(stream)):
            yield from _message_items(message, source, index, cut=cut)
    elif kind == "csv":
        yield from _read_csv(stream, source, column)
    elif kind == "jsonl":
        yield from _read_jsonl(stream, source, field)
    else:
        yield from _read_text(stream, source)


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


def _decode_line(line: bytes, number: int) -> str:
    # A byte order mark can only open the file; spreadsheet programs write one before CSV.
    return line.decode("utf-8-sig" if number == 1 else "utf-8", errors="replace")


def _text_item(source: str, index: int, text: str) -> _Item:
    """A record for one message given as text (a CSV cell, a JSON field, a line)."""
    text = text.strip()
    if not text:
        return ReadProblem(source, index, "empty text")
    if "\x00" in text:
        return ReadProblem(source, index, "NUL bytes: binary data, not text")
    note = "undecodable bytes replaced by U+FFFD" if "\ufffd" in text else None
    return text_record(text, source=source, index=index, note=note)


def _read_text(stream: BinaryIO, source: str) -> Iterator[_Item]:
    for number, (line, cut) in enumerate(_bounded_lines(stream), start=1):
        if cut:
            yield ReadProblem(source, number, _LINE_TOO_LONG)
        elif line.strip():
            yield _text_item(source, number, _decode_line(line, number))


def _read_jsonl(stream: BinaryIO, source: str, field: str) -> Iterator[_Item]:
    for number, (line, cut) in enumerate(_bounded_lines(stream), start=1):
        if cut:
            yield ReadProblem(source, number, _LINE_TOO_LONG)
            continue
        if not line.strip():
            continue
        try:
            item = json.loads(_decode_line(line, number))
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


class _DecodedLines:
    """The lines of a binary stream as text, for `csv.reader`; counts lines cut for length
    so that the rows they fall in can be reported."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.cut_lines = 0

    def __iter__(self) -> Iterator[str]:
        for number, (line, cut) in enumerate(_bounded_lines(self._stream), start=1):
            self.cut_lines += cut
            yield _decode_line(line, number)


def _read_csv(stream: BinaryIO, source: str, column: str) -> Iterator[_Item]:
    lines = _DecodedLines(stream)
    reader = csv.reader(lines)
    try:
        header = next(reader, None)
    except csv.Error as error:
        yield ReadProblem(source, 1, f"malformed CSV header: {error}")
        return
    if header is None:
        yield ReadProblem(source, None, "empty file: no header row")
        return
    names = [name.strip() for name in header]
    if column not in names:
        yield ReadProblem(source, None, f"no column {column!r}; columns found: {', '.join(names)}")
        return
    position = names.index(column)
    while True:
        start, cut_lines_before = reader.line_num + 1, lines.cut_lines
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield ReadProblem(source, start, f"malformed CSV row: {error}")
            continue
        if lines.cut_lines != cut_lines_before:
            yield ReadProblem(source, start, _LINE_TOO_LONG)
        elif not row:
            continue  # a blank line
        elif len(row) != len(names):
            yield ReadProblem(
                source, start, f"ragged row: {len(row)} fields where the header has {len(names)}"
            )
        else:
            yield _text_item(source, start, row[position])
