"""Tokenisation of normalised bounce text: dictionary words for Chinese, a pattern for the rest.

A :class:`Tokenizer` is the ``tokenizer`` of the word-level TF-IDF at training time
and of the numpy scorer at prediction time; both use the same compact Chinese
dictionary (:mod:`bounce_ml.text.segment`), learned with the model.
"""

from __future__ import annotations

import re

from bounce_ml.text.normalize import CJK
from bounce_ml.text.segment import Segmenter

# One alternative per token kind; order matters: placeholders and status codes
# must be taken whole before the generic word pattern splits them. Each
# alternative starts at most once per run of its characters: linear time.
_TOKEN = re.compile(
    rf"""
    [{CJK}]+                                # a run of Chinese characters, segmented
    | <[a-z]+>                              # placeholders from normalize_text
    | (?<![\d.])[2-5]\.\d{{1,3}}\.\d{{1,3}}(?![\d.]*\d)  # enhanced status code 5.1.1
    | [a-z0-9]+(?:['_][a-z0-9]+)*           # latin words, numbers, reply codes
    """,
    re.VERBOSE,
)


class Tokenizer:
    """Split normalised text into tokens.

    Chinese runs are cut into words by ``segmenter``; placeholders (``<email>``),
    enhanced status codes (``5.1.1``) and reply codes (``550``) stay whole.

    Examples
    --------
    >>> tokenize = Tokenizer(Segmenter({"用户": 9000, "存在": 9000, "不": 9000}, 60_000_000))
    >>> tokenize("550 5.1.1 <email> 用户不存在 user not found")
    ['550', '5.1.1', '<email>', '用户', '不', '存在', 'user', 'not', 'found']
    """

    def __init__(self, segmenter: Segmenter) -> None:
        self.segmenter = segmenter

    def __call__(self, text: str) -> list[str]:
        found = _TOKEN.findall(text)
        if text.isascii():  # no Chinese to segment
            return found
        tokens: list[str] = []
        cut = self.segmenter.cut
        for token in found:
            # Chinese runs are the only tokens that start with a non-ASCII character.
            if not token[0].isascii():
                tokens += cut(token)
            else:
                tokens.append(token)
        return tokens
