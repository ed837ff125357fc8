"""``bounce-ml evaluate``: cross-validate the corpus, or score a labeled file with a saved model.

The folds, the threshold choice and the scores come from
:mod:`bounce_ml.train.crossval`; the documents from :mod:`bounce_ml.train.report`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sklearn.metrics import confusion_matrix

from bounce_ml.corpus.files import Corpus, load_corpus, read_labeled_file
from bounce_ml.labels.rules import default_rules
from bounce_ml.labels.taxonomy import UNKNOWN
from bounce_ml.predict.artifacts import load_model
from bounce_ml.train.crossval import (
    Evaluation,
    cross_validate,
    macro_f1,
    model_alone,
    out_of_fold,
    score_with_model,
)
from bounce_ml.train.pipeline import load_params
from bounce_ml.train.report import render_report, save_heatmap, summary_table


def read_scored_file(path: Path) -> Corpus:
    """A labeled file to score, or a clear error naming its first bad row."""
    corpus = read_labeled_file(path)
    corpus.raise_problems()
    return corpus


def score_file(path: Path, model_dir: Path) -> Evaluation:
    """Score a labeled file with the saved model, the rules, and both."""
    corpus = read_scored_file(path)
    model = load_model(model_dir)
    return score_with_model(
        corpus.texts,
        corpus.labels,
        model.scorer,
        model.threshold,
        default_rules(),
        f"{path} scored with the saved model in {model_dir} (threshold {model.threshold})",
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
    params = load_params()
    folds = folds or params["cv"]["folds"]
    comparison = None
    if labeled_file is None:
        corpus = load_corpus()
        corpus.raise_problems()
        evaluation = cross_validate(corpus, params, folds, default_rules(), split_by)
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
    configured = params["policy"]["threshold"]
    document = {
        "how": evaluation.how,
        "thresholds": evaluation.thresholds,
        "chosen_threshold": evaluation.chosen_threshold,
        "configured_threshold": configured,
        "rows": len(evaluation.y_true),
        "metrics": metrics,
        "classifier_comparison_macro_f1": comparison,
    }
    (out_dir / "metrics.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    (out_dir / "report.md").write_text(
        render_report(evaluation, metrics, matrix, matrix_labels, comparison), encoding="utf-8"
    )
    lines = [summary_table(metrics), ""]
    if evaluation.chosen_threshold is not None:
        lines.append(threshold_advice(evaluation.chosen_threshold, configured))
    lines.append(f"wrote {out_dir / 'report.md'}, metrics.json, confusion.png")
    return "\n".join(lines)


def threshold_advice(chosen: float, configured: float) -> str:
    """Whether ``[policy] threshold`` in data/model.toml matches what cross-validation chose."""
    if abs(chosen - configured) < 1e-9:
        return f"model threshold: cross-validation chooses {chosen:.2f}, as data/model.toml says"
    return (
        f"model threshold: cross-validation chooses {chosen:.2f} but data/model.toml says "
        f"{configured:.2f}; set [policy] threshold = {chosen} there and retrain"
    )
