"""The scikit-learn pipeline: normalise, TF-IDF over words and characters, linear classifier.

Only training and evaluation import this module (and so scikit-learn); prediction
uses the numpy copy made by :func:`compile_scorer`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.svm import LinearSVC

from bounce_ml import config
from bounce_ml.predict.scorer import FeatureBlock, LinearScorer
from bounce_ml.text.normalize import normalize_texts
from bounce_ml.text.segment import Segmenter
from bounce_ml.text.tokenize import Tokenizer
from bounce_ml.tomlfile import Key, check_table, read_toml

CLASSIFIERS = ("logreg", "svm")


# The schema of data/model.toml, one entry per table.
_VECTORIZER_KEYS = {
    "ngram_range": Key(list, items=int, length=2),
    "min_df": Key(int),
    "sublinear_tf": Key(bool),
}
_PARAM_TABLES = {
    "words": _VECTORIZER_KEYS,
    "chars": _VECTORIZER_KEYS,
    "classifier": {
        "C": Key(float),
        "solver": Key(str, choices=("lbfgs", "newton-cg", "sag", "saga")),
        "max_iter": Key(int),
    },
    "feedback": {"weight": Key(float)},
    "cv": {"folds": Key(int), "n_jobs": Key(int)},
    "policy": {"threshold": Key(float), "threshold_candidates": Key(list, items=float)},
}


def load_params(path: Path | None = None) -> dict[str, Any]:
    """Hyper-parameters from ``data/model.toml``, checked against the schema above."""
    path = path or config.PARAMS_PATH
    params = check_table(
        read_toml(path),
        {"random_state": Key(int), **{t: Key(dict) for t in _PARAM_TABLES}},
        str(path),
    )
    for table, keys in _PARAM_TABLES.items():
        check_table(params[table], keys, f"{path}: [{table}]")
    return params


class WordTfidf(TfidfVectorizer):
    """TF-IDF over :class:`Tokenizer` words, with a Chinese dictionary learned in ``fit``.

    The dictionary (``segmenter_``) keeps the words jieba finds in the training
    texts; it is fitted like the vocabulary, so each cross-validation fold learns
    its own and is scored on held-out wording as prediction will be.
    """

    def fit_transform(self, raw_documents: Any, y: Any = None) -> Any:
        self.segmenter_ = Segmenter.from_texts(raw_documents)
        return super().fit_transform(raw_documents, y)

    def fit(self, raw_documents: Any, y: Any = None) -> WordTfidf:
        self.fit_transform(raw_documents, y)
        return self

    def build_tokenizer(self) -> Tokenizer:
        return Tokenizer(self.segmenter_)


def _vectorizers(params: dict[str, Any]) -> FeatureUnion:
    words = WordTfidf(
        token_pattern=None,
        lowercase=False,
        ngram_range=tuple(params["words"]["ngram_range"]),
        min_df=params["words"]["min_df"],
        sublinear_tf=params["words"]["sublinear_tf"],
    )
    chars = TfidfVectorizer(
        analyzer="char_wb",
        lowercase=False,
        ngram_range=tuple(params["chars"]["ngram_range"]),
        min_df=params["chars"]["min_df"],
        sublinear_tf=params["chars"]["sublinear_tf"],
    )
    return FeatureUnion([("words", words), ("chars", chars)])


def build_pipeline(params: dict[str, Any], classifier: str = "logreg") -> Pipeline:
    """An unfitted pipeline; ``classifier`` is ``logreg`` (the default) or ``svm``.

    ``svm`` is a LinearSVC with sigmoid calibration, kept for the comparison in
    ``bounce-ml evaluate --compare``.
    """
    seed = params["random_state"]
    if classifier == "logreg":
        model = LogisticRegression(
            C=params["classifier"]["C"],
            solver=params["classifier"]["solver"],
            max_iter=params["classifier"]["max_iter"],
            random_state=seed,
        )
    elif classifier == "svm":
        model = CalibratedClassifierCV(LinearSVC(random_state=seed), method="sigmoid", cv=3)
    else:
        raise ValueError(f"classifier must be one of {CLASSIFIERS}, not {classifier!r}")
    return Pipeline(
        [
            ("normalize", FunctionTransformer(normalize_texts)),
            ("features", _vectorizers(params)),
            ("classify", model),
        ]
    )


def compile_scorer(pipeline: Pipeline) -> LinearScorer:
    """Copy a fitted logistic-regression pipeline into a numpy :class:`LinearScorer`."""
    classifier = pipeline.named_steps["classify"]
    if not isinstance(classifier, LogisticRegression):
        raise TypeError("only a logistic-regression pipeline can be compiled")
    blocks, offset = [], 0
    transformers = dict(pipeline.named_steps["features"].transformer_list)
    segmenter = transformers["words"].segmenter_
    for name, vectorizer in transformers.items():
        # in column order, as LinearScorer.load reads it: the n-gram tables built from it and
        # stored with the model are then the same whether built at training or at loading
        columns = sorted(vectorizer.vocabulary_.items(), key=lambda item: item[1])
        vocabulary = {gram: int(column) for gram, column in columns}
        blocks.append(
            FeatureBlock(
                name=name,
                ngram_range=tuple(vectorizer.ngram_range),
                vocabulary=vocabulary,
                idf=vectorizer.idf_.copy(),
                sublinear_tf=vectorizer.sublinear_tf,
                offset=offset,
                tokenizer=Tokenizer(segmenter) if name == "words" else None,
            )
        )
        offset += len(vocabulary)
    return LinearScorer(
        blocks=blocks,
        # float32: half the memory and load time; probabilities agree to 1e-6.
        coef_t=np.ascontiguousarray(classifier.coef_.T, dtype=np.float32),
        intercept=classifier.intercept_.copy(),
        classes=[str(c) for c in classifier.classes_],
        segmenter=segmenter,
    )
