"""Opening input files as users keep them: compressed or not, in the encoding they were saved.

- **Compression.** gzip, bzip2 and xz files (mail logs are usually rotated into these) are
  recognised by their first bytes and read through the decompressor, a piece at a time.
  Archives that hold several files (zip, 7-Zip, RAR) and zstandard are refused in one line.
- **Encoding.** A byte order mark decides (UTF-8, or UTF-16 as Excel's "Unicode text"
  writes). Otherwise a sample from the start is tried as UTF-8. When it is not UTF-8 (more
  bytes fail than form UTF-8 characters), charset-normalizer chooses among GB18030 (which
  reads GB2312 and GBK), Big5-HKSCS and Windows-1252, the same choice the email reader
  makes for a mislabelled body.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import io
import lzma
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from bounce_ml.errors import BounceMLError

__all__ = [
    "as_utf8",
    "check_encoding",
    "decompressed",
    "detect_encoding",
    "sampled",
    "without_compression",
]

# How much of the start of a file the encoding is guessed from.
SAMPLE_BYTES = 64 << 10
_DECOMPRESSORS: dict[bytes, Callable[..., Any]] = {
    b"\x1f\x8b": gzip.open,
    b"BZh": bz2.open,
    b"\xfd7zXZ\x00": lzma.open,
}
_COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz")
_REFUSED = {
    b"PK\x03\x04": "a zip archive",
    b"7z\xbc\xaf\x27\x1c": "a 7-Zip archive",
    b"Rar!\x1a\x07": "a RAR archive",
    b"\x28\xb5\x2f\xfd": "zstandard-compressed",
}
# Codecs that read a whole family: GB18030 covers GB2312 and GBK, Big5-HKSCS covers Big5.
_GUESSES = ("utf_8", "gb18030", "big5", "cp1252")
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "big5": "big5hkscs"}


def without_compression(path: Path) -> Path:
    """``log.csv.gz`` -> ``log.csv``: the name that tells what is inside."""
    return path.with_suffix("") if path.suffix.lower() in _COMPRESSED_SUFFIXES else path


def decompressed(raw: BinaryIO, name: str) -> BinaryIO:
    """``raw`` itself, or its decompressed content when it starts as a compressed file does.

    Raises
    ------
    BounceMLError
        For an archive or a compression that is not read.
    """
    start, raw = sampled(raw, 8)
    for magic, what in _REFUSED.items():
        if start.startswith(magic):
            raise BounceMLError(f"{name}: {what}; unpack it and give the files inside")
    for magic, decompressor in _DECOMPRESSORS.items():
        if start.startswith(magic):
            return decompressor(raw, "rb")
    return raw


def detect_encoding(sample: bytes) -> str:
    """The codec to read a text file with, from a sample of its first bytes."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    # Not final: the sample may end in the middle of a character.
    text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(sample, final=False)
    replaced = text.count("\ufffd")
    # A few bad bytes among many good UTF-8 characters are damage, not another encoding.
    if sum(not char.isascii() for char in text) >= 2 * replaced:
        return "utf-8"
    from charset_normalizer import from_bytes  # 0.1 s to import: only for text not UTF-8

    guess = from_bytes(sample, cp_isolation=list(_GUESSES)).best()
    if guess is None:
        return "utf-8"
    return _SUPERSETS.get(guess.encoding, guess.encoding)


def check_encoding(name: str) -> str:
    """The normalised codec name for ``--encoding``, or a one-line error."""
    try:
        codec = codecs.lookup(name)
        "".encode(codec.name)  # refuses codecs that are not text encodings, such as base64
    except (LookupError, ValueError):
        raise BounceMLError(f"unknown text encoding {name!r}") from None
    return codec.name


def as_utf8(stream: BinaryIO, encoding: str) -> BinaryIO:
    """``stream`` read as UTF-8 bytes, so that lines split on ``\\n`` whatever the codec.

    Encodings in which a newline is the single byte ``\\n`` (UTF-8, GB18030, Big5, the
    Windows code pages) are left as they are; UTF-16 and UTF-32 are recoded.
    """
    if codecs.lookup(encoding).name.startswith(("utf-16", "utf-32")):
        return codecs.EncodedFile(stream, "utf-8", encoding, errors="replace")
    return stream


def sampled(stream: BinaryIO, size: int = SAMPLE_BYTES) -> tuple[bytes, BinaryIO]:
    """The first ``size`` bytes of ``stream``, and a stream that still starts at the start
    (also for standard input and decompressors, which cannot seek back)."""
    sample = stream.read(size)
    return sample, io.BufferedReader(_Prefixed(sample, stream))


class _Prefixed(io.RawIOBase):
    """Bytes already read from a stream, then the rest of the stream."""

    def __init__(self, prefix: bytes, rest: BinaryIO) -> None:
        self._prefix = memoryview(prefix)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._prefix:
            size = min(len(buffer), len(self._prefix))
            buffer[:size] = self._prefix[:size]
            self._prefix = self._prefix[size:]
            return size
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
