"""Decode the text of a message part, whatever its charset label says.

Bounce bodies come in every legacy charset, often with a missing or wrong label: Chinese
(GB2312, GBK, GB18030, Big5), Japanese (ISO-2022-JP, Shift_JIS, EUC-JP), Korean (EUC-KR),
Russian (KOI8-R, windows-1251) and Western European (windows-1252). The declared label is
tried first; when it fails, or when it is a single-byte label that cannot fail, the bytes
are decoded with each candidate codec and the plausible results are weighed by
charset-normalizer.
"""

from __future__ import annotations

import codecs
import re

__all__ = ["decode_text"]

# Codecs a detected or declared label is read with: GB18030 is a superset of GB2312 and
# GBK, and Big5-HKSCS of Big5, so text with a character outside the named set still decodes.
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "big5": "big5hkscs"}
# What an unlabelled or mislabelled part is tried as, most common first.
_GUESSES = (
    "utf_8", "gb18030", "big5hkscs", "shift_jis", "euc_jp", "euc_kr", "cp1251", "koi8_r",
    "cp1252",
)  # fmt: skip
# Single-byte codecs decode any bytes, so a failed decode cannot show that such a label is
# wrong (GBK text labelled iso-8859-1): their text is weighed against the guesses instead.
_PERMISSIVE_CODEC_PREFIXES = ("iso8859", "latin", "cp125", "koi8", "mac")
# ISO-2022-JP is 7-bit: its escape sequences give it away even without a label.
_ISO_2022_JP_ESCAPE = re.compile(rb"\x1b(?:\$[@B]|\$\(D|\(J|\(I)")
_IDEOGRAPH = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HALF_WIDTH_KANA = re.compile(r"[\uff61-\uff9f]")


def decode_text(data: bytes, charset: str | None = None) -> str:
    """Decode ``data`` with its declared charset, or by detection when the label is missing
    or wrong; never raises.

    Parameters
    ----------
    data : bytes
        The decoded transfer encoding (no base64 left), in some text charset.
    charset : str or None
        The declared label, if any.
    """
    if _ISO_2022_JP_ESCAPE.search(data):
        return data.decode("iso2022_jp_ext", errors="replace")
    if data.isascii():
        return data.decode("ascii")
    codec = _codec_name(charset)
    permissive = codec is not None and codec.startswith(_PERMISSIVE_CODEC_PREFIXES)
    # UTF-8 is tried second because it is the most common wrong label's true charset, and
    # text that happens to be valid UTF-8 without being UTF-8 is rare.
    for trial in ["utf_8"] if codec is None or permissive else [codec, "utf_8"]:
        try:
            return data.decode(trial)
        except UnicodeError:
            continue
    candidates = _plausible([*_GUESSES, codec] if permissive and codec else list(_GUESSES), data)
    if len(candidates) == 1:
        return data.decode(candidates[0])
    from charset_normalizer import from_bytes  # 0.1 s to import: only for undecided text

    guess = from_bytes(data, cp_isolation=candidates).best() if candidates else None
    if guess is not None:
        return data.decode(_SUPERSETS.get(guess.encoding, guess.encoding), errors="replace")
    return data.decode(codec if permissive and codec else "utf_8", errors="replace")


def _plausible(candidates: list[str], data: bytes) -> list[str]:
    """The candidate codecs that decode ``data`` into text a person could have written.

    charset-normalizer alone reads short Chinese text as Korean or Japanese; but Korean
    bounces are written in Hangul without Chinese characters, and Japanese ones always
    have kana and never half-width katakana, which decoding Chinese bytes as those gives.
    """
    plausible = []
    for codec in dict.fromkeys(candidates):
        try:
            text = data.decode(codec)
        except UnicodeError:
            continue
        if codec == "euc_kr" and _IDEOGRAPH.search(text):
            continue
        if codec in ("shift_jis", "euc_jp") and (
            not _KANA.search(text) or _HALF_WIDTH_KANA.search(text)
        ):
            continue
        plausible.append(codec)
    return plausible


def _codec_name(charset: str | None) -> str | None:
    """The Python codec for a charset label, widened to its superset; None if unknown."""
    if not charset:
        return None
    try:
        name = codecs.lookup(charset).name
        "".encode(name)  # refuses codecs that are not text encodings, such as base64
    except (LookupError, ValueError):  # ValueError: a NUL byte in the label
        return None
    return _SUPERSETS.get(name, name)
