"""Text normalisation shared by the rules, training and prediction.

``normalize_text`` makes two bounces that differ only in volatile details
(addresses, hosts, IPs, ids, sizes, script) meet the same tokens, while SMTP
reply codes (``550``) and enhanced status codes (``5.1.1``) survive as evidence.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import opencc

from bounce_ml import config
from bounce_ml.tomlfile import read_toml

CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAS_CJK = re.compile(f"[{CJK}]")
_URL = re.compile(r"\b(?:https?|ftp)://[^\s<>\"')\]]+|\bwww\.[^\s<>\"')\]]+")
# "[email protected]" is how web pages that obfuscate addresses show them when copied.
_EMAIL = re.compile(
    r"<?(?:\[email protected\]|[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)*)>?", re.ASCII
)
_IPV4 = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.]*\d)")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9a-f]{0,4}:){3,7}[0-9a-f]{1,4}(?![\w:])")
_HOST = re.compile(r"(?<![\w.-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}(?![\w-])")
# An id mixes letters and digits in one run of 6 or more (queue ids, message ids).
_QUEUE_ID = re.compile(r"(?<![\w<])(?=[a-z0-9_-]*\d)(?=[a-z0-9_-]*[a-z])[a-z0-9_-]{6,}(?![\w>])")
# SMTP reply codes 2xx-5xx are kept; every other run of 3+ digits is volatile.
_LONG_NUMBER = re.compile(r"(?<![\d.])(?![2-5]\d\d(?!\d))\d{3,}(?:\.\d+)?")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class NormalizeSettings:
    """Data-driven knowledge for normalisation, read from ``data/normalize.toml``."""

    keep_host_words: frozenset[str]
    slips: dict[str, str]


def load_normalize_settings(path: Path | None = None) -> NormalizeSettings:
    """Read the host words to keep and the script-conversion slips to repair."""
    raw = read_toml(path or config.NORMALIZE_PATH)
    return NormalizeSettings(
        keep_host_words=frozenset(word.lower() for word in raw.get("keep_host_words", [])),
        slips=dict(raw.get("slips", {})),
    )


@cache
def _settings() -> NormalizeSettings:
    return load_normalize_settings()


@cache
def _t2s() -> opencc.OpenCC:
    # One converter per process: building it parses OpenCC's dictionaries.
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
    path_words = re.sub(r"[^\w<>]+", " ", _mask_parts(path.lower()))
    return " ".join(["<url>", *host_words, path_words]).strip()


def mask_volatile(text: str) -> str:
    """Replace URLs, addresses, IPs, host names, ids and long numbers by placeholders.

    Expects lower-cased text. Status codes (``550``, ``5.1.1``) are left alone.
    """
    if "://" in text or "www." in text:
        text = _URL.sub(_mask_url, text)
    return _mask_parts(text)


def _mask_parts(text: str) -> str:
    # The `in` tests skip a regex scan when its anchor character is absent:
    # normalisation of every input text is the hot path of a large batch.
    if "@" in text or "[email" in text:
        text = _EMAIL.sub(" <email> ", text)
    if "." in text:
        text = _IPV4.sub(" <ip> ", text)
        text = _HOST.sub(_mask_host, text)
    if text.count(":") >= 3:
        text = _IPV6.sub(" <ip> ", text)
    text = _QUEUE_ID.sub(" <id> ", text)
    return _LONG_NUMBER.sub(" <num> ", text)


def normalize_text(text: str) -> str:
    """Return the canonical form of one bounce text.

    Steps: Unicode NFKC, control characters to spaces, traditional to
    simplified Chinese, lower-casing, masking of volatile parts, whitespace
    collapsed to single spaces.

    Examples
    --------
    >>> normalize_text("550 5.1.1 <Bob@Example.com>: User unknown")
    '550 5.1.1 <email> : user unknown'
    >>> normalize_text("郵件地阯不存在")
    '邮件地址不存在'
    """
    text = unicodedata.normalize("NFKC", text)
    text = _CONTROL.sub(" ", text)
    text = to_simplified(text).lower()
    return " ".join(mask_volatile(text).split())


def normalize_texts(texts: Iterable[str]) -> list[str]:
    """``normalize_text`` over a batch; the form a scikit-learn FunctionTransformer calls."""
    return [normalize_text(text) for text in texts]
