"""The compact Chinese dictionary cuts as jieba does, on the corpus and on random text."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bounce_ml.corpus.files import load_corpus
from bounce_ml.text.normalize import normalize_text
from bounce_ml.text.segment import CJK_RUN, Segmenter, _jieba


@pytest.fixture(scope="module")
def corpus_runs() -> list[str]:
    return sorted({run for t in load_corpus().texts for run in CJK_RUN.findall(normalize_text(t))})


def test_compact_dictionary_cuts_every_training_run_as_jieba(corpus_runs: list[str]) -> None:
    compact = Segmenter.from_texts(corpus_runs)
    jieba = _jieba()
    assert len(compact.frequencies) < len(jieba.FREQ) / 50
    differing = [run for run in corpus_runs if compact.cut(run) != jieba.lcut(run, HMM=False)]
    assert differing == []


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="邮件被退回收件人不存在地址错误系统繁忙请稍后重试信箱已满", min_size=1))
def test_full_dictionary_cuts_random_chinese_as_jieba(run: str) -> None:
    jieba = _jieba()
    full = _full_segmenter()
    assert full.cut(run) == jieba.lcut(run, HMM=False)


_FULL: list[Segmenter] = []


def _full_segmenter() -> Segmenter:
    # jieba's whole dictionary in our segmenter: the same algorithm must give the same cut.
    if not _FULL:
        jieba = _jieba()
        _FULL.append(Segmenter({w: f for w, f in jieba.FREQ.items() if f}, jieba.total))
    return _FULL[0]


def test_unknown_words_fall_back_to_known_words_and_characters() -> None:
    segmenter = Segmenter({"邮件": 5000, "退回": 900}, 60_000_000)
    assert segmenter.cut("邮件已退回") == ["邮件", "已", "退回"]
    assert segmenter.cut("") == []


def test_segmenter_pickles_without_its_caches() -> None:
    segmenter = Segmenter({"邮件": 5000}, 60_000_000)
    segmenter.cut("邮件邮件")
    copy = pickle.loads(pickle.dumps(segmenter))
    assert copy.frequencies == segmenter.frequencies and copy.cut("邮件邮件") == ["邮件", "邮件"]
