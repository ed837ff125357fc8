"""``bounce-ml train``: fit the pipeline on the corpus (plus extra files) and save it."""

from __future__ import annotations

import platform
import time
from collections import Counter
from datetime import datetime, timezone
from importlib import metadata as package_metadata
from pathlib import Path
from typing import Any

from bounce_ml.corpus.files import Corpus, corpus_files, data_hash, load_corpus
from bounce_ml.labels.rules import load_rules
from bounce_ml.labels.taxonomy import load_taxonomy
from bounce_ml.train.artifacts import save_model
from bounce_ml.train.evaluate import (
    choose_threshold,
    combined,
    model_alone,
    out_of_fold,
    rule_matches,
    rules_alone,
    scores,
)
from bounce_ml.train.pipeline import build_pipeline, compile_scorer, load_params

LIBRARIES = ("scikit-learn", "numpy", "scipy", "jieba", "opencc", "joblib", "pandas")


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = package_metadata.version(name)
        except package_metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _cv_metrics(corpus: Corpus, params: dict[str, Any], rules: Any) -> tuple[float, dict[str, Any]]:
    """Pick the model threshold on grouped out-of-fold predictions; score the three systems."""
    folds = min(params["cv"]["folds"], len(set(corpus.groups)))
    oof = out_of_fold(corpus, params, folds)
    matches = rule_matches(corpus.texts, rules)
    threshold = choose_threshold(
        oof.proba,
        oof.classes,
        matches,
        rules,
        corpus.labels,
        params["policy"]["threshold_candidates"],
    )
    labels = sorted(set(corpus.labels))
    predictions = {
        "rules": rules_alone(matches),
        "model": model_alone(oof.proba, oof.classes),
        "combined": combined(oof.proba, oof.classes, matches, rules, threshold),
    }
    metrics = {name: scores(corpus.labels, pred, labels) for name, pred in predictions.items()}
    return threshold, {"folds": folds, **metrics}


def train_model(*, data_dir: Path, extra_files: list[Path], model_dir: Path) -> str:
    """Train, save the model with its metadata, and return a short report."""
    started = time.perf_counter()
    taxonomy = load_taxonomy(data_dir / "taxonomy.toml")
    rules = load_rules(data_dir / "rules.toml", taxonomy)
    params = load_params(data_dir / "model.toml")
    files = corpus_files(data_dir) + list(extra_files)
    corpus = load_corpus(files, taxonomy)
    corpus.raise_problems()

    threshold, metrics = _cv_metrics(corpus, params, rules)
    pipeline = build_pipeline(params).fit(corpus.texts, corpus.labels)
    scorer = compile_scorer(pipeline)
    seconds = time.perf_counter() - started
    per_file = Counter(row.file for row in corpus.rows)
    metadata = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "labels": scorer.classes,
        "data_hash": data_hash(data_dir),
        "extra_files": {str(p): per_file[str(p)] for p in extra_files},
        "rows": len(corpus.rows),
        "rows_per_label": dict(sorted(Counter(corpus.labels).items())),
        "threshold": threshold,
        "strong_rule_priority": rules.strong_priority,
        "params": params,
        "metrics_cv": metrics,
        "features": scorer.coef_t.shape[0],
        "train_seconds": round(seconds, 1),
        "libraries": library_versions(),
    }
    save_model(model_dir, scorer, pipeline, metadata)
    summary = ", ".join(
        f"{name} macro-F1 {metrics[name]['macro_f1']:.3f}"
        for name in ("rules", "model", "combined")
    )
    return (
        f"trained on {len(corpus.rows)} rows ({len(scorer.classes)} labels, "
        f"{metadata['features']} features) in {seconds:.1f} s\n"
        f"grouped {metrics['folds']}-fold CV: {summary}\n"
        f"model threshold {threshold:.2f}; saved to {model_dir}"
    )
