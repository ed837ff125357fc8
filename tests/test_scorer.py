"""The batch scorer computes exactly what a Counter per text and feature block gives.

The reference below is the per-text computation the scorer replaced: it lists each text's
n-grams as the vectorisers make them, counts them with a Counter per (text, block), and
applies sublinear TF, IDF and the l2 norm per block. The scorer must give the same columns
in the same order and bit-identical values, since the order of the terms decides the
rounding of the sums and which of two equal contributions is named first as evidence.
"""

from __future__ import annotations

import dataclasses
import random
import re
from collections import Counter
from itertools import product
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bounce_ml import config
from bounce_ml.corpus.files import load_corpus
from bounce_ml.predict.artifacts import load_model
from bounce_ml.predict.scorer import TABLE_MIN_TEXTS, FeatureBlock, LinearScorer, _stable_order
from bounce_ml.text.normalize import CJK, normalize_text
from bounce_ml.text.tokenize import _TOKEN

CORPUS = [normalize_text(text) for text in load_corpus().texts]
SAMPLE = CORPUS[::5]


def _scorer() -> LinearScorer:
    return load_model(config.MODELS_DIR).scorer  # a fresh one: its word caches start empty


def _grams(block: FeatureBlock, text: str) -> list[str]:
    low, high = block.ngram_range
    if block.tokenizer is not None:  # TfidfVectorizer(tokenizer=...) word n-grams
        tokens = block.tokenizer(text)
        grams = list(tokens) if low == 1 else []
        for n in range(max(low, 2), min(high, len(tokens)) + 1):
            grams += [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
        return grams
    grams = []  # analyzer="char_wb"
    for word in text.split():
        padded = f" {word} "
        for n in range(low, high + 1):
            if len(padded) <= n:
                grams.append(padded)
                break
            grams += [padded[i : i + n] for i in range(len(padded) - n + 1)]
    return grams


def _reference_row(scorer: LinearScorer, text: str) -> tuple[list[int], list[float]]:
    columns: list[int] = []
    values: list[float] = []
    for block in scorer.blocks:
        known = [block.vocabulary[g] for g in _grams(block, text) if g in block.vocabulary]
        found = Counter(known)
        tf = np.array(list(found.values()), dtype=np.float64)
        if block.sublinear_tf:
            tf = np.log(tf) + 1.0
        weights = tf * block.idf[list(found)]
        weights /= np.sqrt(np.bincount(np.zeros(len(weights), int), weights=weights * weights))
        columns += [column + block.offset for column in found]
        values += weights.tolist()
    return columns, values


def test_features_are_a_counter_per_text_and_block() -> None:
    scorer = _scorer()
    features = scorer.features(SAMPLE)
    for i, text in enumerate(SAMPLE):
        start, end = features.bounds[i], features.bounds[i + 1]
        columns, values = _reference_row(scorer, text)
        assert features.columns[start:end].tolist() == columns, text
        assert features.values[start:end].tolist() == values, text


def test_batches_and_caches_do_not_change_scores() -> None:
    scorer = _scorer()
    texts = SAMPLE[:300]
    whole = scorer.score(texts)  # cold caches, many new words: the n-gram table
    one_by_one = [scorer.score([text]) for text in texts]  # warm caches
    fresh = [_scorer().score([text]) for text in texts[:20]]  # cold, few words: no table
    assert np.array_equal(whole.probabilities, np.vstack([s.probabilities for s in one_by_one]))
    assert whole.evidence == [s.evidence[0] for s in one_by_one]
    assert [s.evidence[0] for s in fresh] == whole.evidence[:20]


def test_probabilities_are_the_float64_softmax_of_the_linear_scores() -> None:
    # Written out row by row in float64; a scorer that summed float32 terms would be off
    # by about 1e-8 and fail here.
    scorer = _scorer()
    features = scorer.features(SAMPLE)
    probabilities = scorer.score(SAMPLE).probabilities
    coef = scorer.coef_t.astype(np.float64)
    for i in range(len(SAMPLE)):
        start, end = features.bounds[i], features.bounds[i + 1]
        linear = features.values[start:end] @ coef[features.columns[start:end]]
        linear = linear + scorer.intercept
        expected = np.exp(linear - linear.max())
        np.testing.assert_allclose(probabilities[i], expected / expected.sum(), rtol=1e-12)


def test_evidence_is_each_rows_argsort_of_its_contributions() -> None:
    scorer = _scorer()
    scores = scorer.score(SAMPLE)
    features = scorer.features(SAMPLE)
    for i in range(len(SAMPLE)):
        start, end = features.bounds[i], features.bounds[i + 1]
        columns = features.columns[start:end]
        label = scores.ranking[i, 0]
        contributions = features.values[start:end] * scorer.coef_t[columns, label]
        order = np.argsort(-contributions)[:5]
        expected = [scorer.feature_names[columns[j]] for j in order if contributions[j] > 0]
        assert scores.evidence[i] == expected


def _same(ours: object, theirs: object) -> bool:
    """Equal, arrays element by element, in dicts, tuples and dataclasses alike."""
    if isinstance(ours, np.ndarray):
        return isinstance(theirs, np.ndarray) and np.array_equal(ours, theirs)
    if isinstance(ours, dict):
        return (
            isinstance(theirs, dict)
            and ours.keys() == theirs.keys()
            and all(_same(ours[key], theirs[key]) for key in ours)
        )
    if isinstance(ours, tuple):
        return isinstance(theirs, tuple) and all(map(_same, ours, theirs))
    if dataclasses.is_dataclass(ours):
        return type(ours) is type(theirs) and _same(vars(ours), vars(theirs))
    return ours == theirs


def test_stored_ngram_tables_are_the_tables_built_from_the_vocabulary(tmp_path: Path) -> None:
    stored = _scorer()  # the committed model file stores its tables
    stored.save(tmp_path / "scorer.npz")
    with np.load(tmp_path / "scorer.npz") as archive:  # as model files were before they did
        np.savez(tmp_path / "old.npz", **{k: archive[k] for k in archive if "_table_" not in k})
    built = LinearScorer.load(tmp_path / "old.npz")
    for stored_block, built_block in zip(stored.blocks, built.blocks, strict=True):
        assert stored_block.stored_table is not None and built_block.stored_table is None
        assert built_block.table is not None and _same(stored_block.table, built_block.table)
    texts = SAMPLE[:400]
    ours, theirs = stored.score(texts), built.score(texts)
    assert np.array_equal(ours.probabilities, theirs.probabilities)
    assert ours.evidence == theirs.evidence


def test_empty_texts_and_batches() -> None:
    scorer = _scorer()
    scores = scorer.score(["", "550 user unknown", ""])
    assert scores.evidence[0] == [] and scores.evidence[2] == []
    assert np.allclose(scores.probabilities.sum(axis=1), 1.0)
    assert scorer.score([]).probabilities.shape == (0, len(scorer.classes))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 2**62), max_size=60), st.integers(0, 62))
def test_the_radix_sort_is_numpys_stable_sort(keys: list[int], shift: int) -> None:
    # keys of every width, with repeats (the shift sends many of them to the same value)
    array = np.array(keys, dtype=np.int64) >> shift
    assert _stable_order(array).tolist() == np.argsort(array, kind="stable").tolist()


@pytest.fixture(scope="module")
def chars() -> FeatureBlock:
    block = next(b for b in _scorer().blocks if b.tokenizer is None)
    assert block._char_table is not None
    return block


def test_the_char_ngram_table_finds_what_the_vocabulary_does(chars: FeatureBlock) -> None:
    words = list(dict.fromkeys(word for text in CORPUS for word in text.split()))
    assert chars._char_table is not None
    table = chars._char_table.columns(words, chars.ngram_range)
    assert table == [chars._char_columns(word) for word in words]


# Characters of the vocabulary and others (emoji, a lone surrogate, a private-use and a last
# code point), so that unknown characters sit next to known ones.
_CHARACTERS = st.sampled_from([*"abz019.:-<>@_'用户邮件不存在退回，。é", "😀", "\ud800", "\ue000"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(_CHARACTERS, min_size=1, max_size=12), min_size=1, max_size=8))
def test_the_char_ngram_table_on_any_words(chars: FeatureBlock, words: list[str]) -> None:
    assert chars._char_table is not None
    table = chars._char_table.columns(words, chars.ngram_range)
    assert table == [chars._char_columns(word) for word in words]


def test_the_char_ngram_table_of_a_vocabulary_without_some_lengths() -> None:
    vocabulary = {" a": 0, "ab": 1, "b ": 2, "x": 3, "用户": 4}  # no 3- or 4-grams
    block = FeatureBlock("chars", (2, 4), vocabulary, np.ones(5), True, offset=7)
    assert block._char_table is not None
    words = ["ab", "ba", "用户", "xx", "zzz", "a"]
    expected = [block._char_columns(word) for word in words]
    assert block._char_table.columns(words, block.ngram_range) == expected
    assert expected[0] == np.array([7, 8, 9], dtype=np.int32).tobytes()


def _token_reference(block: FeatureBlock, texts: list[list[str]]) -> list[bytes]:
    """Per text (its white-space words), its known n-grams' joined columns, as the words
    block found them text by text before its table: a vocabulary look-up per n-gram."""
    found = []
    for words in texts:
        grams = _grams(block, " ".join(words))
        known = [block.vocabulary[g] + block.offset for g in grams if g in block.vocabulary]
        found.append(np.array(known, dtype=np.int32).tobytes())
    return found


def _table_columns(block: FeatureBlock, texts: list[list[str]]) -> list[bytes]:
    """The block's columns of texts, taken in a batch big enough for its token table."""
    batch = texts * TABLE_MIN_TEXTS
    block.remember(batch)
    found = block.columns(batch)
    assert found[len(texts) :] == found[: -len(texts)]  # the same texts give the same columns
    return found[: len(texts)]


@pytest.fixture(scope="module")
def words_block() -> FeatureBlock:
    block = next(b for b in _scorer().blocks if b.tokenizer is not None)
    assert block._token_table is not None
    return block


# Words of the corpus, and words whose tokens no n-gram holds or that hold no token at all.
_CORPUS_WORDS = [text.split() for text in CORPUS[::40]]
_UNKNOWN_WORDS = ["qqzx", "9.9.9", "<nothing>", "--", "，", "x_y'z"]


@st.composite
def _token_texts(draw: st.DrawFn) -> list[str]:
    """A piece of a corpus text with unknown words put in, or any corpus and unknown words."""
    if draw(st.booleans()):
        any_word = st.sampled_from([*_CORPUS_WORDS[0], *_CORPUS_WORDS[-1], *_UNKNOWN_WORDS])
        return draw(st.lists(any_word, max_size=4))
    words = draw(st.sampled_from(_CORPUS_WORDS))
    start = draw(st.integers(0, len(words)))
    words = words[start : draw(st.integers(start, len(words)))]
    for _ in range(draw(st.integers(0, 2))):
        words.insert(draw(st.integers(0, len(words))), draw(st.sampled_from(_UNKNOWN_WORDS)))
    return words


@settings(max_examples=200, deadline=None)
@given(st.lists(_token_texts(), min_size=1, max_size=6))
def test_the_token_ngram_table_finds_what_the_vocabulary_does(
    words_block: FeatureBlock, texts: list[list[str]]
) -> None:
    assert _table_columns(words_block, texts) == _token_reference(words_block, texts)
    assert words_block.columns(texts) == _token_reference(words_block, texts)  # no table


_TOKENS = ["a", "b", "550", "<email>", "用户"]  # each a word of one token


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from([(1, 1), (1, 2), (1, 3), (2, 2), (2, 4), (3, 3)]),
    st.randoms(use_true_random=False),
    st.lists(st.lists(st.sampled_from([*_TOKENS, "zz", "--"]), max_size=7), min_size=1, max_size=5),
)
def test_the_token_ngram_table_of_any_ngram_range(
    words_block: FeatureBlock,
    ngram_range: tuple[int, int],
    draw: random.Random,
    texts: list[list[str]],
) -> None:
    # Half of all n-grams of up to 4 tokens (some longer than the range), columns shuffled.
    grams = [" ".join(g) for n in range(1, 5) for g in product(_TOKENS, repeat=n)]
    grams = draw.sample(grams, len(grams) // 2)
    vocabulary = dict(zip(grams, range(len(grams)), strict=True))
    tokenizer = words_block.tokenizer
    block = FeatureBlock("words", ngram_range, vocabulary, np.ones(len(grams)), True, 9, tokenizer)
    assert _table_columns(block, texts) == _token_reference(block, texts)
    assert block._token_table is not None


def test_a_token_vocabulary_too_wide_for_the_table_is_looked_up_by_ngram(
    words_block: FeatureBlock,
) -> None:
    # 2,000 tokens: keys of 6 tokens would need 66 bits.
    grams = [f"t{i}" for i in range(2000)] + ["t1 t2", "t1 t2 t3 t4 t5 t6"]
    vocabulary = dict(zip(grams, range(len(grams)), strict=True))
    tokenizer = words_block.tokenizer
    block = FeatureBlock("words", (1, 6), vocabulary, np.ones(len(grams)), True, 0, tokenizer)
    texts = [["t1", "t2", "t3", "t4", "t5", "t6"], ["t9", "x"], []]
    assert _table_columns(block, texts) == _token_reference(block, texts)
    assert block._token_table is None


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from([*"ab1.5 \t<>x用户不存在'_-", "\u3000", "\x1c"]), max_size=40))
def test_a_texts_tokens_are_its_words_tokens(text: str) -> None:
    # The words block tokenises each white-space word alone and caches it.
    words = next(b for b in _scorer().blocks if b.tokenizer is not None)
    assert words.tokenizer is not None
    assert words.tokenizer(text) == [t for word in text.split() for t in words.tokenizer(word)]


# The tokenizer's pattern with its Chinese alternative as a group, to tell the kinds apart.
_TOKEN_KINDS = re.compile(_TOKEN.pattern.replace(f"[{CJK}]+", f"(?P<cjk>[{CJK}]+)", 1), re.VERBOSE)
# Arabic-Indic and full-width digits: the status code pattern takes any Unicode digit.
_TOKEN_TEXT = st.sampled_from([*"ab5.1 <>x用户不存在'_-", "\u0663", "\uff15", "\u3000"])


@settings(max_examples=300, deadline=None)
@given(st.text(_TOKEN_TEXT, max_size=40))
@example("550 5.\u0663.1 用户不存在")  # a status code that is not ASCII
def test_tokens_are_the_patterns_matches_with_chinese_runs_cut(text: str) -> None:
    # Written out match by match, as the tokenizer did before it used findall.
    words = next(b for b in _scorer().blocks if b.tokenizer is not None)
    assert words.tokenizer is not None
    cut = words.tokenizer.segmenter.cut
    expected: list[str] = []
    for match in _TOKEN_KINDS.finditer(text):
        expected += cut(match["cjk"]) if match["cjk"] else [match[0]]
    assert words.tokenizer(text) == expected
