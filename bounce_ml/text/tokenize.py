"""Tokenisation of normalised bounce text: jieba for Chinese, a word pattern for the rest.

Used as the ``tokenizer=`` of the word-level TF-IDF, so it is a plain module-level
function (picklable, ``clone``-safe).
"""

from __future__ import annotations

import logging
import re
from functools import cache, lru_cache

from bounce_ml.text.normalize import CJK

# One alternative per token kind; order matters: placeholders and status codes
# must be taken whole before the generic word pattern splits them.
_TOKEN = re.compile(
    rf"""
    (?P<cjk>[{CJK}]+)                       # a run of Chinese characters, for jieba
    | <[a-z]+>                              # placeholders from normalize_text
    | (?<![\d.])[2-5]\.\d{{1,3}}\.\d{{1,3}}(?![\d.]*\d)  # enhanced status code 5.1.1
    | [a-z0-9]+(?:['_][a-z0-9]+)*           # latin words, numbers, reply codes
    """,
    re.VERBOSE,
)


@cache
def _jieba():  # -> jieba.Tokenizer
    # jieba costs ~0.4 s to import and ~0.5 s to load its dictionary, and logs to
    # stderr while doing so: pay that once per process, quietly, and only when a
    # text has Chinese in it.
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


@lru_cache(maxsize=100_000)
def _segment(run: str) -> tuple[str, ...]:
    # Chinese runs repeat across bounces ("邮件被退回"); segment each once.
    return tuple(_jieba().lcut(run, HMM=False))


def tokenize(text: str) -> list[str]:
    """Split normalised text into tokens.

    Chinese runs are segmented with jieba; placeholders (``<email>``), enhanced
    status codes (``5.1.1``) and reply codes (``550``) stay whole.

    Examples
    --------
    >>> tokenize("550 5.1.1 <email> user not found")
    ['550', '5.1.1', '<email>', 'user', 'not', 'found']
    """
    tokens: list[str] = []
    for match in _TOKEN.finditer(text):
        cjk = match.group("cjk")
        if cjk:
            tokens.extend(_segment(cjk))
        else:
            tokens.append(match.group(0))
    return tokens
