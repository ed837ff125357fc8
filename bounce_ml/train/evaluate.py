"""Grouped cross-validation and the accuracy report of rules, model and the combined policy.

The split: ``StratifiedGroupKFold`` over the corpus ``group`` column, so every
variant of one wording template (the same sentence with other addresses, codes,
scripts or wrappers) sits in one fold, and label proportions stay close across
folds. Each fold's model is fitted on the other folds only. The combined policy's
threshold for a fold is chosen on the out-of-fold predictions of the *other*
folds, so the fold being scored never helps pick it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support
from sklearn.model_selection import StratifiedGroupKFold

from bounce_ml.corpus.files import Corpus, load_corpus, read_labeled_file
from bounce_ml.labels.rules import RuleMatch, RuleSet, default_rules
from bounce_ml.labels.taxonomy import UNKNOWN
from bounce_ml.predict.policy import decide
from bounce_ml.text.normalize import normalize_text
from bounce_ml.train.pipeline import build_pipeline, load_params

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
    thresholds: list[float]
    how: str  # one sentence on how the rows were split or scored

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
    )


def score_file(path: Path, model_dir: Path) -> Evaluation:
    """Score a labeled file with the saved model, the rules, and both."""
    from bounce_ml.predict.artifacts import load_model

    corpus = read_labeled_file(path)
    corpus.raise_problems()
    model = load_model(model_dir)
    rules = default_rules()
    proba = model.scorer.predict_proba([normalize_text(text) for text in corpus.texts])
    matches = rule_matches(corpus.texts, rules)
    classes = model.scorer.classes
    return Evaluation(
        texts=corpus.texts,
        y_true=corpus.labels,
        predictions={
            "rules": rules_alone(matches),
            "model": model_alone(proba, classes),
            "combined": combined(proba, classes, matches, rules, model.threshold),
        },
        confidence=proba.max(axis=1),
        thresholds=[model.threshold],
        how=f"{path} scored with the saved model in {model_dir} (threshold {model.threshold})",
    )


def svm_macro_f1(corpus: Corpus, params: dict[str, Any], folds: int, split_by: str) -> float:
    """Grouped-CV macro-F1 of the model alone with a calibrated linear SVM instead."""
    oof = out_of_fold(corpus, params, folds, "svm", split_by)
    return macro_f1(corpus.labels, model_alone(oof.proba, oof.classes), sorted(set(corpus.labels)))


def run_evaluation(
    *,
    labeled_file: Path | None,
    out_dir: Path,
    model_dir: Path,
    folds: int | None,
    compare: bool,
    split_by: str = "group",
) -> str:
    """Evaluate, write ``report.md``, ``metrics.json`` and ``confusion.png``; return a summary."""
    from bounce_ml.train.report import render_report, save_heatmap, summary_table

    params = load_params()
    rules = default_rules()
    folds = folds or params["cv"]["folds"]
    comparison = None
    if labeled_file is None:
        corpus = load_corpus()
        corpus.raise_problems()
        evaluation = cross_validate(corpus, params, folds, rules, split_by)
    else:
        evaluation = score_file(labeled_file, model_dir)
    metrics = evaluation.metrics()
    if compare and labeled_file is None:
        comparison = {
            "logreg": metrics["model"]["macro_f1"],
            "svm (calibrated LinearSVC)": svm_macro_f1(corpus, params, folds, split_by),
        }
    out_dir.mkdir(parents=True, exist_ok=True)
    matrix_labels = [*evaluation.labels, UNKNOWN]
    matrix = confusion_matrix(
        evaluation.y_true, evaluation.predictions["combined"], labels=matrix_labels
    )
    save_heatmap(matrix, matrix_labels, out_dir / "confusion.png")
    document = {
        "how": evaluation.how,
        "thresholds": evaluation.thresholds,
        "rows": len(evaluation.y_true),
        "metrics": metrics,
        "classifier_comparison_macro_f1": comparison,
    }
    (out_dir / "metrics.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    (out_dir / "report.md").write_text(
        render_report(evaluation, metrics, matrix, matrix_labels, comparison), encoding="utf-8"
    )
    return f"{summary_table(metrics)}\n\nwrote {out_dir / 'report.md'}, metrics.json, confusion.png"
