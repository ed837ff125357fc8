"""The one cross-validation path: folds, threshold choice and scoring of rules, model and both.

``bounce-ml evaluate`` and the notebook call it; ``bounce-ml train`` fits once and
takes its threshold from ``data/model.toml``, where the value this module chooses
on out-of-fold predictions is recorded.

The split: ``StratifiedGroupKFold`` over the corpus ``group`` column, so every
variant of one wording template (the same sentence with other addresses, codes,
scripts or wrappers) sits in one fold, and label proportions stay close across
folds. Each fold's model is fitted on the other folds only. The combined policy's
threshold for a fold is chosen on the out-of-fold predictions of the *other*
folds, so the fold being scored never helps pick it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedGroupKFold

from bounce_ml.corpus.files import Corpus
from bounce_ml.labels.rules import RuleMatch, RuleSet
from bounce_ml.labels.taxonomy import UNKNOWN
from bounce_ml.predict.policy import decide
from bounce_ml.predict.scorer import LinearScorer
from bounce_ml.text.normalize import normalize_text
from bounce_ml.train.pipeline import build_pipeline

SYSTEMS = ("rules", "model", "combined")


@dataclass
class OutOfFold:
    """Out-of-fold class probabilities for every corpus row."""

    proba: np.ndarray  # (n_rows, n_classes)
    classes: list[str]
    fold: np.ndarray  # fold number of each row


def split_keys(corpus: Corpus, split_by: str) -> list[str]:
    """What keeps rows together in one fold.

    ``group``: the wording template. ``source``: the server or provider, to estimate
    accuracy on providers never seen in training; a template whose rows name several
    sources goes with the source of its first row, so a template is never split.
    """
    if split_by == "group":
        return corpus.groups
    first_source: dict[str, str] = {}
    for row in corpus.rows:
        first_source.setdefault(row.group, row.source)
    return [first_source[row.group] for row in corpus.rows]


def grouped_splits(
    corpus: Corpus, folds: int, seed: int, split_by: str = "group"
) -> list[tuple[np.ndarray, np.ndarray]]:
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    keys = split_keys(corpus, split_by)
    return list(splitter.split(np.zeros(len(corpus.rows)), corpus.labels, keys))


def _fit_fold(
    texts: list[str],
    labels: list[str],
    test_texts: list[str],
    params: dict[str, Any],
    classifier: str,
) -> tuple[list[str], np.ndarray]:
    pipeline = build_pipeline(params, classifier).fit(texts, labels)
    return list(pipeline.classes_), pipeline.predict_proba(test_texts)


def out_of_fold(
    corpus: Corpus,
    params: dict[str, Any],
    folds: int,
    classifier: str = "logreg",
    split_by: str = "group",
) -> OutOfFold:
    """Fit one pipeline per fold on the other folds and predict the held-out rows.

    Folds are fitted in parallel (``[cv] n_jobs`` of data/model.toml).
    """
    from joblib import Parallel, delayed

    classes = sorted(set(corpus.labels))
    texts, labels = np.array(corpus.texts, dtype=object), np.array(corpus.labels)
    splits = grouped_splits(corpus, folds, params["random_state"], split_by)
    fitted = Parallel(n_jobs=params["cv"]["n_jobs"])(
        delayed(_fit_fold)(
            list(texts[train]), list(labels[train]), list(texts[test]), params, classifier
        )
        for train, test in splits
    )
    proba = np.zeros((len(texts), len(classes)))
    fold_of_row = np.zeros(len(texts), dtype=int)
    for number, ((_, test), (fold_classes, fold_proba)) in enumerate(
        zip(splits, fitted, strict=True)
    ):
        columns = np.array([classes.index(c) for c in fold_classes])
        proba[np.ix_(test, columns)] = fold_proba
        fold_of_row[test] = number
    return OutOfFold(proba, classes, fold_of_row)


def rule_matches(texts: list[str], rules: RuleSet) -> list[RuleMatch | None]:
    return [rules.best(normalize_text(text)) for text in texts]


def rules_alone(matches: list[RuleMatch | None]) -> list[str]:
    return [match.label if match else UNKNOWN for match in matches]


def model_alone(proba: np.ndarray, classes: list[str]) -> list[str]:
    return [classes[i] for i in proba.argmax(axis=1)]


def combined(
    proba: np.ndarray,
    classes: list[str],
    matches: list[RuleMatch | None],
    rules: RuleSet,
    threshold: float,
) -> list[str]:
    """Labels of the decision policy for every row."""
    best = proba.argmax(axis=1)
    return [
        decide(
            classes[b],
            float(p[b]),
            m,
            threshold=threshold,
            rule_is_strong=rules.is_strong(m),
            rule_overrides=rules.is_override(m),
        ).label
        for p, b, m in zip(proba, best, matches, strict=True)
    ]


def macro_f1(y_true: list[str], y_pred: list[str], labels: list[str]) -> float:
    return float(
        precision_recall_fscore_support(
            y_true, y_pred, labels=labels, average="macro", zero_division=0
        )[2]
    )


def choose_threshold(
    proba: np.ndarray,
    classes: list[str],
    matches: list[RuleMatch | None],
    rules: RuleSet,
    y_true: list[str],
    candidates: list[float],
) -> float:
    """The candidate threshold with the best combined macro-F1 (the lowest on a tie)."""
    labels = sorted(set(y_true))
    scored = [
        (macro_f1(y_true, combined(proba, classes, matches, rules, t), labels), -t)
        for t in candidates
    ]
    return -max(scored)[1]


def scores(y_true: list[str], y_pred: list[str], labels: list[str]) -> dict[str, Any]:
    """Accuracy, macro-F1, per-label precision/recall/F1/support; ``unknown`` counts as a miss."""
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(np.mean(f1)),
        "unknown_rate": float(np.mean([p == UNKNOWN for p in y_pred])),
        "per_label": {
            label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
        },
    }


@dataclass
class Evaluation:
    """Predictions of the three systems on labeled rows, with what is needed to report them."""

    texts: list[str]
    y_true: list[str]
    predictions: dict[str, list[str]]  # system -> labels
    confidence: np.ndarray  # combined policy's confidence per row
    thresholds: list[float]  # the model threshold of each fold (one when a saved model scored)
    how: str  # one sentence on how the rows were split or scored
    # Cross-validation only: the threshold chosen on all out-of-fold predictions,
    # which `[policy] threshold` of data/model.toml should hold.
    chosen_threshold: float | None = None

    @property
    def labels(self) -> list[str]:
        return sorted(set(self.y_true))

    def metrics(self) -> dict[str, Any]:
        return {
            system: scores(self.y_true, pred, self.labels)
            for system, pred in self.predictions.items()
        }


def cross_validate(
    corpus: Corpus, params: dict[str, Any], folds: int, rules: RuleSet, split_by: str = "group"
) -> Evaluation:
    """Grouped k-fold evaluation of rules alone, model alone and the combined policy."""
    oof = out_of_fold(corpus, params, folds, split_by=split_by)
    matches = rule_matches(corpus.texts, rules)
    y_true = corpus.labels
    candidates = params["policy"]["threshold_candidates"]
    combined_labels = [""] * len(y_true)
    thresholds = []
    for fold in range(folds):
        inside, outside = oof.fold == fold, oof.fold != fold
        threshold = choose_threshold(
            oof.proba[outside],
            oof.classes,
            [m for m, o in zip(matches, outside, strict=True) if o],
            rules,
            [y for y, o in zip(y_true, outside, strict=True) if o],
            candidates,
        )
        thresholds.append(threshold)
        fold_rows = np.flatnonzero(inside)
        fold_labels = combined(
            oof.proba[inside], oof.classes, [matches[i] for i in fold_rows], rules, threshold
        )
        for row, label in zip(fold_rows, fold_labels, strict=True):
            combined_labels[row] = label
    chosen = choose_threshold(oof.proba, oof.classes, matches, rules, y_true, candidates)
    return Evaluation(
        texts=corpus.texts,
        y_true=y_true,
        predictions={
            "rules": rules_alone(matches),
            "model": model_alone(oof.proba, oof.classes),
            "combined": combined_labels,
        },
        confidence=oof.proba.max(axis=1),
        thresholds=thresholds,
        how=(
            f"{folds}-fold StratifiedGroupKFold (random_state={params['random_state']}) "
            + (
                "over the corpus `group` column: variants of one template stay in one fold"
                if split_by == "group"
                else "by `source`: each server or provider is held out whole, templates unsplit"
            )
            + "; each fold's threshold is chosen on the other folds' out-of-fold predictions"
        ),
        chosen_threshold=chosen,
    )


def score_with_model(
    texts: list[str],
    y_true: list[str],
    scorer: LinearScorer,
    threshold: float,
    rules: RuleSet,
    how: str,
) -> Evaluation:
    """Score labeled texts with a trained model, the rules, and the combined policy."""
    proba = scorer.predict_proba([normalize_text(text) for text in texts])
    matches = rule_matches(texts, rules)
    return Evaluation(
        texts=texts,
        y_true=y_true,
        predictions={
            "rules": rules_alone(matches),
            "model": model_alone(proba, scorer.classes),
            "combined": combined(proba, scorer.classes, matches, rules, threshold),
        },
        confidence=proba.max(axis=1),
        thresholds=[threshold],
        how=how,
    )
