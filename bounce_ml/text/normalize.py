"""Text normalisation shared by the rules, training and prediction.

``normalize_text`` makes two bounces that differ only in volatile details
(addresses, hosts, IPs, ids, numbers, dates, script) meet the same tokens, while
SMTP reply codes (``550``), enhanced status codes (``5.1.1``) and the provider
codes listed in ``data/normalize.toml`` (``[TSS04]``, ``MI:NHD``, ``no=1000722``)
survive as evidence.

Two properties matter as much as the result:

- **Linear time.** Every pattern here either starts only at the beginning of a
  run of its characters (a negative look-behind) or has bounded repetition, so a
  10 KB line of ``-`` or ``@-`` costs microseconds, not seconds; and every text
  is cut to :data:`MAX_TEXT_CHARS` before any of it runs.
- **Speed on streams.** None of the masks crosses white space, so a text is
  masked one white-space token at a time and each distinct token is masked once
  per process: a mail log repeats the same words with fresh addresses and ids.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from bounce_ml import config
from bounce_ml.errors import BounceMLError
from bounce_ml.tomlfile import read_toml

# Bounce wording is short; anything longer is a whole message or junk. Texts are
# cut to this many characters before normalising, so a 50 MB line cannot stall a
# run (training, evaluation and prediction alike).
MAX_TEXT_CHARS = 10_000
# Distinct white-space tokens whose masked form is remembered.
TOKEN_CACHE_SIZE = 200_000

CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAS_CJK = re.compile(f"[{CJK}]")
_URL = re.compile(r"\b(?:https?|ftp)://[^\s<>\"')\]]+|\bwww\.[^\s<>\"')\]]+")
# The local part starts where a run of its characters starts: no quadratic rescans.
_ADDRESS_CHARS = r"\w.!#$%&'*+/=?^`{|}~-"
_EMAIL = re.compile(
    rf"(?<![{_ADDRESS_CHARS}])<?[{_ADDRESS_CHARS}]+@[\w-]+(?:\.[\w-]+)*>?", re.ASCII
)
# "[email protected]" is how web pages that obfuscate addresses show them when copied;
# it holds a space, so it is masked before the text is split into tokens.
_OBFUSCATED_EMAIL = re.compile(r"<?\[email protected\]>?")
_IPV4 = re.compile(r"\d(?<![\d.]\d)\d{0,2}(?:\.\d{1,3}){3}(?![\d.]*\d)")
# Eight groups, or fewer with "::" (2001:db8::1, ::1, ::).
_IPV6 = re.compile(
    r"(?<![\w:])(?:(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}"
    r"|(?=[0-9a-f:]*::)(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4})(?![\w:])"
)
_HOST = re.compile(r"(?<![\w.-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}(?![\w-])")
_DIGIT = re.compile(r"\d")
_LETTER = re.compile(r"[a-z]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NOT_WORD = re.compile(r"[^\w<>]+")
# After addresses, IPs and hosts are masked, what is left with digits in it is a
# code to keep, a status or reply code, or a run of ASCII letters, digits, "_",
# joined by "." or "-": a number, a size, a date or an id. Runs are ASCII only, so
# words in other scripts are never taken for ids.
_STATUS_AND_RUNS = (
    r"(?<![a-z0-9_.])(?P<status>[245]\.\d{1,3}\.\d{1,3})(?![a-z0-9_]|\.\d)"  # 5.1.1
    r"|(?<![a-z0-9_.-])(?P<reply>[2-5]\d\d)(?![a-z0-9_]|\.\d)"  # 550
    r"|(?<![a-z0-9_.-])(?P<run>[a-z0-9_]+(?:[.-][a-z0-9_]+)*)"  # anything else
)
_DATE_PUNCTUATION = "()[].,"
_NUMBER_AND_UNIT = re.compile(r"(\d+(?:\.\d+)?)([a-z]+)")
# A unit of one letter follows a short number only ("10m", "8h"); longer numbers
# ending in one letter are hexadecimal ids.
_SHORT_UNIT_DIGITS = 4


@dataclass(frozen=True)
class NormalizeSettings:
    """Data-driven knowledge for normalisation, read from ``data/normalize.toml``."""

    keep_host_words: frozenset[str]
    keep_words: frozenset[str]
    keep_codes: tuple[str, ...]
    units: frozenset[str]
    date_words: frozenset[str]
    slips: dict[str, str]

    @property
    def codes_and_runs(self) -> re.Pattern[str]:
        """One pattern: provider codes to keep, status and reply codes, other runs."""
        keep = "|".join(f"(?:{code})" for code in self.keep_codes) or "(?!)"
        return re.compile(f"(?P<keep>{keep})|{_STATUS_AND_RUNS}")


def _strings(raw: dict[str, Any], key: str, path: Path) -> list[str]:
    values = raw.get(key, [])
    if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
        raise BounceMLError(f"{path}: {key!r} must be a list of non-empty strings")
    return values


def load_normalize_settings(path: Path | None = None) -> NormalizeSettings:
    """Read the words, codes and units to keep and the script-conversion slips to repair."""
    path = path or config.NORMALIZE_PATH
    raw = read_toml(path)
    codes = _strings(raw, "keep_codes", path)
    for code in codes:
        try:
            re.compile(code)
        except re.error as exc:
            raise BounceMLError(f"{path}: bad keep_codes pattern {code!r} ({exc})") from None
    return NormalizeSettings(
        keep_host_words=frozenset(w.lower() for w in _strings(raw, "keep_host_words", path)),
        keep_words=frozenset(w.lower() for w in _strings(raw, "keep_words", path)),
        keep_codes=tuple(codes),
        units=frozenset(u.lower() for u in _strings(raw, "units", path)),
        date_words=frozenset(w.lower() for w in _strings(raw, "date_words", path)),
        slips=dict(raw.get("slips", {})),
    )


@cache
def _settings() -> NormalizeSettings:
    return load_normalize_settings()


@cache
def _codes_and_runs() -> re.Pattern[str]:
    return _settings().codes_and_runs


@cache
def _t2s() -> Any:  # -> opencc.OpenCC
    # Imported and built on the first Chinese text only: building the converter
    # parses OpenCC's dictionaries, which English-only runs never need.
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Convert traditional Chinese to simplified (OpenCC ``t2s``) and repair known slips."""
    if not _HAS_CJK.search(text):
        return text
    text = _t2s().convert(text)
    for slip, intended in _settings().slips.items():
        text = text.replace(slip, intended)
    return text


def _mask_host(match: re.Match[str]) -> str:
    labels = match.group(0).split(".")
    kept = [label for label in labels if label in _settings().keep_host_words]
    return " ".join(["<host>", *kept])


def _mask_url(match: re.Match[str]) -> str:
    # The path of a provider's help link ("?p=NoSuchUser") is evidence; the host is not,
    # unless it names a block list.
    host, _, path = match.group(0).split("://", 1)[-1].partition("/")
    host_words = [w for w in host.split(".") if w in _settings().keep_host_words]
    path_words = _NOT_WORD.sub(" ", _mask_parts(path))
    return " ".join(["<url>", *host_words, path_words]).strip()


def _mask_run(match: re.Match[str]) -> str:
    run = match.group("run")
    if run is None or not _DIGIT.search(run):
        return match.group(0)  # a code to keep, a status or reply code, or a plain word
    settings = _settings()
    if run in settings.keep_words:
        return run
    if not _LETTER.search(run):
        return " <num> "  # 7372800, 2024-05-01, 10.5
    size = _NUMBER_AND_UNIT.fullmatch(run)
    if size and size.group(2) in settings.units:
        unit = size.group(2)
        if len(unit) > 1 or len(size.group(1)) <= _SHORT_UNIT_DIGITS:
            return f" <num> {unit} "  # 10mb, 30s
    return " <id> "  # queue ids, message ids, id51, 4f2a31c0123


def _mask_parts(text: str) -> str:
    # The `in` tests skip a regex scan when its anchor character is absent.
    if "@" in text:
        text = _EMAIL.sub(" <email> ", text)
    if "." in text:
        text = _IPV4.sub(" <ip> ", text)
    if "." in text:  # again: often the dots were an IP's
        text = _HOST.sub(_mask_host, text)
    if "::" in text or text.count(":") >= 7:  # what either form of an IPv6 address needs
        text = _IPV6.sub(" <ip> ", text)
    if _DIGIT.search(text):
        text = _codes_and_runs().sub(_mask_run, text)
    return text


def mask_volatile(text: str) -> str:
    """Replace URLs, addresses, IPs, host names, ids and numbers by placeholders.

    Expects lower-cased text. Status and reply codes (``550``, ``5.1.1``) and the
    codes of ``keep_codes`` are left alone.

    Examples
    --------
    >>> mask_volatile("421 4.7.0 try again later id51 (queue 4f2a31c0123, 10mb)")
    '421 4.7.0 try again later <id> (queue <id> , <num> mb )'
    """
    if "://" not in text and "www." not in text:
        return " ".join(_mask_parts(text).split())
    parts, start = [], 0
    for url in _URL.finditer(text):  # a URL's path is masked on its own, by _mask_url
        parts += [_mask_parts(text[start : url.start()]), _mask_url(url)]
        start = url.end()
    parts.append(_mask_parts(text[start:]))
    return " ".join(" ".join(parts).split())


class _TokenCache(dict[str, str]):
    """Normalised form of each white-space token seen, computed on first sight."""

    def __missing__(self, token: str) -> str:
        if len(self) >= TOKEN_CACHE_SIZE:
            self.clear()
        if token.isascii() and token.isdigit():  # the commonest fresh token: a number
            value = token if len(token) == 3 and token[0] in "2345" else "<num>"
        else:
            text = token if token.isprintable() else _CONTROL.sub(" ", token)
            value = mask_volatile(to_simplified(text))
        self[token] = value
        return value


_TOKENS = _TokenCache()


def _mask_dates(tokens: list[str]) -> list[str]:
    """Month and weekday names next to a number become ``<date>`` ("nov 28", "28 nov 2026").

    Dates span tokens, so this is the one step that looks at a token's neighbours.
    """
    date_words = _settings().date_words
    masked = list(tokens)
    for i, token in enumerate(tokens):
        word = token.strip(_DATE_PUNCTUATION)
        if word in date_words and any(
            0 <= j < len(tokens) and tokens[j].lstrip(_DATE_PUNCTUATION)[:1].isdigit()
            for j in (i - 1, i + 1)
        ):
            masked[i] = token.replace(word, "<date>", 1)
    return masked


@cache
def _date_gate() -> frozenset[str]:
    """Tokens that may start a date: a date word, bare or after an opening bracket."""
    words = _settings().date_words
    return words | {f"{bracket}{word}" for word in words for bracket in "(["}


def normalize_text(text: str) -> str:
    """Return the canonical form of one bounce text.

    Steps: cut to :data:`MAX_TEXT_CHARS`, Unicode NFKC, lower-casing, control
    characters to spaces, traditional to simplified Chinese, masking of volatile
    parts (dates, then each white-space token), white space collapsed to single spaces.

    Examples
    --------
    >>> normalize_text("550 5.1.1 <Bob@Example.com>: User unknown")
    '550 5.1.1 <email> : user unknown'
    >>> normalize_text("郵件地阯不存在")
    '邮件地址不存在'
    >>> normalize_text("Nov 28 18:04:12 mx1 postfix/smtp[4711]: 4F2A31C0123: bounced")
    '<date> <num> <num> : <num> : <num> <id> postfix/smtp[ <num> ]: <id> : bounced'
    """
    text = text[:MAX_TEXT_CHARS]
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)[:MAX_TEXT_CHARS]
    text = text.lower()
    if "protected]" in text:
        text = _OBFUSCATED_EMAIL.sub(" <email> ", text)
    tokens = text.split()
    if not _date_gate().isdisjoint(tokens):
        tokens = _mask_dates(tokens)
    normalized = " ".join(map(_TOKENS.__getitem__, tokens))
    if "  " in normalized or normalized[:1] == " " or normalized[-1:] == " ":
        normalized = " ".join(normalized.split())  # a token that masked to nothing
    return normalized[:MAX_TEXT_CHARS]


def normalize_texts(texts: Iterable[str]) -> list[str]:
    """``normalize_text`` over a batch; the form a scikit-learn FunctionTransformer calls."""
    return [normalize_text(text) for text in texts]
