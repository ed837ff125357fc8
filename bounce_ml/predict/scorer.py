"""A numpy-only copy of the trained linear model, for fast start-up and prediction.

scikit-learn takes about a second to import, more than the whole budget for one
``bounce-ml predict`` call. Training produces a scikit-learn ``Pipeline``
(``bounce_ml/train/pipeline.py``); :func:`bounce_ml.train.pipeline.compile_scorer` copies its
vocabularies, IDF weights and coefficients into a :class:`LinearScorer`, which
computes the same probabilities with numpy alone. ``tests/test_model.py`` checks
that the two agree on the whole corpus.
"""

from __future__ import annotations

import re
import zipfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, partial
from operator import is_not
from pathlib import Path
from typing import Any, BinaryIO, TypeGuard, cast

import numpy as np

from bounce_ml.text.segment import Segmenter
from bounce_ml.text.tokenize import Tokenizer

_WHITE_SPACES = re.compile(r"\s\s+")  # as scikit-learn's char_wb analyzer
# A vocabulary lookup that found a column (column 0 included, so not filter(None, ...)).
_is_known = cast("Callable[[int | None], TypeGuard[int]]", partial(is_not, None))
WORD_CACHE_SIZE = 200_000  # distinct words whose character n-gram columns are remembered
PROBA_CHUNK = 256  # rows scored together: bounds a (features x classes) temporary to ~10 MB


def word_ngrams(text: str, ngram_range: tuple[int, int], tokenize: Tokenizer) -> list[str]:
    """Token n-grams of normalised text, as TfidfVectorizer(tokenizer=tokenize) makes them."""
    tokens = tokenize(text)
    low, high = ngram_range
    grams = list(tokens) if low == 1 else []
    for n in range(max(low, 2), min(high, len(tokens)) + 1):
        grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return grams


def _word_char_ngrams(word: str, ngram_range: tuple[int, int]) -> list[str]:
    low, high = ngram_range
    padded = f" {word} "
    grams: list[str] = []
    for n in range(low, high + 1):
        if len(padded) <= n:
            grams.append(padded)  # a short word is counted once
            break
        grams += [padded[i : i + n] for i in range(len(padded) - n + 1)]
    return grams


@dataclass
class FeatureBlock:
    """One TF-IDF vectoriser: its analyzer, vocabulary and IDF weights."""

    name: str  # "words" or "chars"
    ngram_range: tuple[int, int]
    vocabulary: dict[str, int]
    idf: np.ndarray
    sublinear_tf: bool
    offset: int  # where this block's columns start in the joined feature space
    tokenizer: Tokenizer | None = None  # the words block's; the chars block splits on spaces
    _word_cache: dict[str, list[int]] = field(default_factory=dict, repr=False, compare=False)

    def known_columns(self, text: str) -> list[int]:
        """This block's vocabulary columns of the n-grams of one normalised text, repeated
        as often as the n-gram occurs."""
        # This is the hot path. Character n-grams depend only on the word they sit
        # in, and bounce wording reuses few words, so each word's columns are
        # looked up once and remembered.
        if self.tokenizer is not None:
            grams = word_ngrams(text, self.ngram_range, self.tokenizer)
            return list(filter(_is_known, map(self.vocabulary.get, grams)))
        if len(self._word_cache) > WORD_CACHE_SIZE:
            self._word_cache.clear()
        columns: list[int] = []
        for word in _WHITE_SPACES.sub(" ", text).split():
            known = self._word_cache.get(word)
            if known is None:
                grams = _word_char_ngrams(word, self.ngram_range)
                known = self._word_cache[word] = list(
                    filter(_is_known, map(self.vocabulary.get, grams))
                )
            columns += known
        return columns


Row = tuple[np.ndarray, np.ndarray]  # (columns, values) of one text's sparse feature vector


@dataclass
class LinearScorer:
    """Multinomial logistic regression over joined TF-IDF blocks, in numpy."""

    blocks: list[FeatureBlock]
    coef_t: np.ndarray  # (n_features, n_classes)
    intercept: np.ndarray  # (n_classes,)
    classes: list[str]
    segmenter: Segmenter  # the Chinese dictionary of the words block

    def row(self, text: str) -> Row:
        """The joined feature vector of one normalised text, as (columns, values)."""
        return self.rows([text])[0]

    def rows(self, texts: Sequence[str]) -> list[Row]:
        """The joined, l2-normalised TF-IDF vectors of normalised texts.

        Finding and counting each text's n-grams is Python; the arithmetic runs once
        for the whole batch, so its numpy calls cost per batch, not per text.
        """
        columns: list[int] = []
        counts: list[int] = []
        sizes: list[int] = []  # distinct features of each (text, block), text after text
        for text in texts:
            for block in self.blocks:
                found = Counter(block.known_columns(text))
                columns += found.keys()
                counts += found.values()
                sizes.append(len(found))
        segment = np.repeat(np.arange(len(sizes)), sizes)
        block_of = segment % len(self.blocks)
        cols = np.array(columns, dtype=np.int64) + self._offsets[block_of]
        tf = np.array(counts, dtype=np.float64)
        sublinear = self._sublinear[block_of]
        tf[sublinear] = np.log(tf[sublinear]) + 1.0
        values = tf * self._idf[cols]
        norms = np.sqrt(np.bincount(segment, weights=values * values, minlength=len(sizes)))
        values /= norms[segment]
        per_text = np.array(sizes, dtype=np.int64).reshape(-1, len(self.blocks)).sum(axis=1)
        ends = np.cumsum(per_text)
        starts = ends - per_text
        return [
            (cols[a:b], values[a:b]) for a, b in zip(starts.tolist(), ends.tolist(), strict=True)
        ]

    def proba_of_rows(self, rows: Sequence[Row]) -> np.ndarray:
        """Class probabilities of feature rows, shape (n_rows, n_classes).

        Rows are scored :data:`PROBA_CHUNK` at a time with one gather and one segment
        sum each, which bounds the temporary (features x classes) array.
        """
        scores = np.tile(self.intercept.astype(np.float64), (len(rows), 1))
        for first in range(0, len(rows), PROBA_CHUNK):
            chunk = rows[first : first + PROBA_CHUNK]
            sizes = np.array([len(columns) for columns, _ in chunk], dtype=np.int64)
            filled = np.flatnonzero(sizes)
            if not filled.size:
                continue
            columns = np.concatenate([columns for columns, _ in chunk])
            values = np.concatenate([values for _, values in chunk])
            weighted = self.coef_t[columns] * values[:, None]
            starts = (np.cumsum(sizes) - sizes)[filled]
            scores[first + filled] += np.add.reduceat(weighted, starts, axis=0)
        scores -= scores.max(axis=1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=1, keepdims=True)
        return scores

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """Class probabilities for normalised texts, shape (n_texts, n_classes)."""
        return self.proba_of_rows(self.rows(texts))

    @cached_property
    def _offsets(self) -> np.ndarray:
        return np.array([block.offset for block in self.blocks], dtype=np.int64)

    @cached_property
    def _sublinear(self) -> np.ndarray:
        return np.array([block.sublinear_tf for block in self.blocks], dtype=bool)

    @cached_property
    def _idf(self) -> np.ndarray:
        """IDF weight of every column of the joined feature space."""
        idf = np.ones(self.coef_t.shape[0])
        for block in self.blocks:
            idf[block.offset : block.offset + len(block.idf)] = block.idf
        return idf

    def top_features(self, row: Row, label: str, k: int = 5) -> list[str]:
        """The features of a row that push hardest towards ``label``."""
        columns, values = row
        contributions = values * self.coef_t[columns, self.classes.index(label)]
        order = np.argsort(-contributions)[:k]
        return [self.feature_names[columns[i]] for i in order if contributions[i] > 0]

    @cached_property
    def feature_names(self) -> list[str]:
        """Readable name of every column: the word n-gram, or the quoted character n-gram."""
        names = [""] * self.coef_t.shape[0]
        for block in self.blocks:
            for gram, column in block.vocabulary.items():
                names[column + block.offset] = gram if block.name == "words" else repr(gram)
        return names

    def save(self, path: Path) -> None:
        """Write the scorer as an uncompressed numpy ``.npz`` archive (no pickled objects).

        Uncompressed, and word lists stored as one UTF-8 text each, because loading
        speed counts more than a few MB on disk.
        """
        # Any, not ndarray: numpy's stub for savez(**kwds) would take them for its flags.
        arrays: dict[str, Any] = {
            "classes": np.array(self.classes),
            "coef_t": self.coef_t,
            "intercept": self.intercept,
            "block_names": np.array([b.name for b in self.blocks]),
            "block_meta": np.array(
                [[*b.ngram_range, int(b.sublinear_tf), b.offset] for b in self.blocks]
            ),
        }
        for block in self.blocks:
            grams = sorted(block.vocabulary, key=block.vocabulary.__getitem__)
            arrays[f"{block.name}_vocabulary"] = _text_array(grams)
            arrays[f"{block.name}_idf"] = block.idf
        chinese = self.segmenter.frequencies
        arrays["zh_words"] = _text_array(list(chinese))
        arrays["zh_frequencies"] = np.array(list(chinese.values()), dtype=np.int64)
        arrays["zh_total"] = np.array(self.segmenter.total, dtype=np.int64)
        with open(path, "wb") as handle:
            np.savez(handle, **arrays)

    @classmethod
    def load(cls, source: Path | BinaryIO) -> LinearScorer:
        """Read a scorer written by :meth:`save`.

        Raises
        ------
        ValueError
            When the archive is damaged, or an array is missing or has the wrong dtype,
            shape or non-finite values; the message names the array.
        """
        try:
            with np.load(source, allow_pickle=False) as archive:
                arrays = {name: archive[name] for name in archive.files}
        except (OSError, EOFError, ValueError, zipfile.BadZipFile) as exc:
            raise ValueError(f"not a readable .npz archive: {exc}") from None
        classes = _array(arrays, "classes", "U", 1)
        coef_t = _array(arrays, "coef_t", "f", 2)
        n_features = coef_t.shape[0]
        if coef_t.shape[1] != len(classes):
            raise ValueError(f"coef_t has {coef_t.shape[1]} columns for {len(classes)} classes")
        intercept = _array(arrays, "intercept", "f", 1, length=len(classes))
        names = _array(arrays, "block_names", "U", 1).tolist()
        meta = _array(arrays, "block_meta", "i", 2)
        if meta.shape != (len(names), 4) or set(names) - {"words", "chars"}:
            raise ValueError("block_names and block_meta do not describe the feature blocks")
        chinese = _words(arrays, "zh_words")
        frequencies = _array(arrays, "zh_frequencies", "i", 1, length=len(chinese)).tolist()
        total = _array(arrays, "zh_total", "i", 0)
        segmenter = Segmenter(dict(zip(chinese, frequencies, strict=True)), max(int(total), 1))
        blocks = []
        for name, (low, high, sublinear, offset) in zip(names, meta.tolist(), strict=True):
            grams = _words(arrays, f"{name}_vocabulary")
            if not (1 <= low <= high and 0 <= offset <= offset + len(grams) <= n_features):
                raise ValueError(f"block_meta of {name} does not fit coef_t")
            blocks.append(
                FeatureBlock(
                    name=name,
                    ngram_range=(low, high),
                    vocabulary=dict(zip(grams, range(len(grams)), strict=True)),
                    idf=_array(arrays, f"{name}_idf", "f", 1, length=len(grams)),
                    sublinear_tf=bool(sublinear),
                    offset=offset,
                    tokenizer=Tokenizer(segmenter) if name == "words" else None,
                )
            )
        return cls(blocks, coef_t, intercept, classes.tolist(), segmenter)


def _array(
    arrays: dict[str, np.ndarray], name: str, kind: str, ndim: int, length: int | None = None
) -> np.ndarray:
    """Array ``name`` of a scorer archive, checked for dtype kind, dimensions and values."""
    if name not in arrays:
        raise ValueError(f"array {name} is missing")
    array = arrays[name]
    if array.dtype.kind != kind or array.ndim != ndim:
        raise ValueError(f"array {name} is {array.dtype} with {array.ndim} dimensions")
    if length is not None and array.shape[0] != length:
        raise ValueError(f"array {name} has {array.shape[0]} entries where {length} belong")
    if kind == "f" and not np.isfinite(array).all():
        raise ValueError(f"array {name} holds NaN or infinite values")
    return array


def _text_array(words: list[str]) -> np.ndarray:
    """A word list as the bytes of one UTF-8 text, a word a line (reads ~50x faster)."""
    if any("\n" in word for word in words):
        raise ValueError("a vocabulary entry contains a line break")
    return np.frombuffer("\n".join(words).encode("utf-8"), dtype=np.uint8)


def _words(arrays: dict[str, np.ndarray], name: str) -> list[str]:
    """The word list stored by :func:`_text_array` as array ``name``."""
    array = _array(arrays, name, "u", 1)
    try:
        return array.tobytes().decode("utf-8").split("\n") if array.size else []
    except UnicodeDecodeError:
        raise ValueError(f"array {name} is not UTF-8 text") from None
