"""Chinese word segmentation with a compact dictionary learned at training time.

jieba's full dictionary has 349,000 words and takes about a second to load, more
than a whole ``bounce-ml predict`` call may take. The model only knows the words
of its training texts, so training keeps just those words, with jieba's
frequencies (:meth:`Segmenter.from_texts`), and ships them inside the model's
``scorer.npz``. :meth:`Segmenter.cut` is jieba's own algorithm without its HMM
(``jieba.lcut(run, HMM=False)``): the most probable path through the graph of
dictionary words, scored by ``log(frequency / total)``. Kept with jieba's total,
the compact dictionary cuts every training text exactly as jieba does
(``tests/test_segment.py`` checks it on the whole corpus); a word it does not
know is cut into the known words and characters it contains.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from math import log
from typing import Any

from bounce_ml.text.normalize import CJK

CJK_RUN = re.compile(f"[{CJK}]+")
RUN_CACHE_SIZE = 100_000  # distinct Chinese runs whose cut is remembered


class Segmenter:
    """jieba's maximum-probability segmentation over a given word-frequency dictionary."""

    def __init__(self, frequencies: dict[str, int], total: int) -> None:
        self.frequencies = frequencies
        self.total = total
        self._prepare()

    def _prepare(self) -> None:
        log_total = log(self.total)
        # jieba scores a word by log(frequency / total), an unknown character by log(1 / total).
        self._scores = {w: log(f) - log_total for w, f in self.frequencies.items() if f > 0}
        self._unknown = -log_total
        self._prefixes = {w[:end] for w in self._scores for end in range(1, len(w) + 1)}
        self._cache: dict[str, list[str]] = {}

    def __getstate__(self) -> dict[str, Any]:
        # Pickled inside the scikit-learn pipeline: the dictionary, not the caches.
        return {"frequencies": self.frequencies, "total": self.total}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.frequencies, self.total = state["frequencies"], state["total"]
        self._prepare()

    def cut(self, run: str) -> list[str]:
        """The words of a run of Chinese characters, as ``jieba.lcut(run, HMM=False)``.

        >>> Segmenter({"邮件": 5000, "退回": 900, "被": 80000}, 60_000_000).cut("邮件被退回")
        ['邮件', '被', '退回']
        """
        words = self._cache.get(run)
        if words is None:
            if len(self._cache) >= RUN_CACHE_SIZE:
                self._cache.clear()
            words = self._cache[run] = self._cut(run)
        return words

    def _cut(self, run: str) -> list[str]:
        # Dynamic programming from the end of the run: the best cut of run[start:]
        # is a dictionary word run[start:end] (or one character) plus the best cut
        # of run[end:]. Ties go to the longer word, as in jieba.
        size, scores, prefixes = len(run), self._scores, self._prefixes
        best = [0.0] * (size + 1)
        next_start = list(range(1, size + 2))
        for start in range(size - 1, -1, -1):
            top, top_end = best[start + 1] + self._unknown, start + 1
            found = False
            end = start + 1
            while end <= size and (word := run[start:end]) in prefixes:
                score = scores.get(word)
                if score is not None and (not found or score + best[end] >= top):
                    top, top_end, found = score + best[end], end, True
                end += 1
            best[start], next_start[start] = top, top_end
        words, start = [], 0
        while start < size:
            words.append(run[start : next_start[start]])
            start = next_start[start]
        return words

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> Segmenter:
        """The compact dictionary of the words jieba finds in ``texts`` (normalised)."""
        jieba = _jieba()
        used: set[str] = set()
        for text in texts:
            for run in CJK_RUN.findall(text):
                used.update(jieba.lcut(run, HMM=False))
        frequencies = {word: jieba.FREQ[word] for word in sorted(used) if jieba.FREQ.get(word)}
        return cls(frequencies, jieba.total)


@cache
def _jieba() -> Any:  # -> jieba.Tokenizer
    # Only training needs jieba and its full dictionary (~1 s to load, and it logs
    # to stderr while doing so): load it once per process, quietly. logging too is
    # imported here, not at the top: a prediction never needs it.
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer
