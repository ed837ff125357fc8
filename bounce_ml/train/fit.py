"""``bounce-ml train``: fit the pipeline once on the corpus (plus your rows) and save it.

No cross-validation runs here: that is ``bounce-ml evaluate``'s job
(:mod:`bounce_ml.train.crossval`). The model threshold is ``[policy] threshold``
of ``data/model.toml``, the value ``evaluate`` chooses on grouped out-of-fold
predictions of the corpus, so a retrain takes seconds and its threshold was
never tuned on the rows it is fitted on.
"""

from __future__ import annotations

import platform
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timezone
from importlib import metadata as package_metadata
from pathlib import Path
from typing import Any

from bounce_ml.corpus.files import Corpus, LabeledText, corpus_files, data_hash, load_corpus
from bounce_ml.errors import BounceMLError
from bounce_ml.labels.rules import load_rules
from bounce_ml.labels.taxonomy import load_taxonomy
from bounce_ml.text.normalize import normalize_text
from bounce_ml.train.artifacts import save_model
from bounce_ml.train.pipeline import build_pipeline, compile_scorer, load_params

LIBRARIES = ("scikit-learn", "numpy", "scipy", "jieba", "opencc", "joblib", "pandas")
# The largest training set measured on the reference machine (2 cores, 24 GiB): 106,457
# rows in 164,746 lines, 1.26 GB peak memory (README, "Speed, memory and safety"). Lines
# are counted before anything is read, so a larger corpus is refused before it fills memory.
MAX_TRAIN_LINES = 165_000


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = package_metadata.version(name)
        except package_metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def configured_threshold(params: dict[str, Any], path: Path) -> float:
    """``[policy] threshold`` of the params file (a number, by its schema), between 0 and 1."""
    value = float(params["policy"]["threshold"])
    if not 0 < value < 1:
        raise BounceMLError(f"{path}: [policy]: key 'threshold' must be between 0 and 1")
    return value


def with_feedback(
    corpus: Corpus, feedback: list[LabeledText], weight: float
) -> tuple[Corpus, list[float], int]:
    """The corpus plus your labeled rows, each of yours counting ``weight`` times.

    Your label wins where a corpus row of the same wording says otherwise. Returns
    the merged corpus, the sample weight of each row, and how many corpus rows
    your labels replaced.
    """
    yours = {normalize_text(row.text): row.label for row in feedback}
    kept = [
        row for row in corpus.rows if yours.get(normalize_text(row.text), row.label) == row.label
    ]
    weights = [1.0] * len(kept) + [weight] * len(feedback)
    return Corpus(rows=kept + feedback), weights, len(corpus.rows) - len(kept)


def train_model(
    *,
    data_dir: Path,
    extra_files: list[Path],
    model_dir: Path,
    feedback: list[LabeledText] | None = None,
    feedback_path: Path | None = None,
    progress: Callable[[str], None] = lambda step: None,
) -> str:
    """Train, save the model with its metadata, and return a short report.

    ``progress`` is told each step as it starts (reading, fitting, saving).
    """
    started = time.perf_counter()
    taxonomy = load_taxonomy(data_dir / "taxonomy.toml")
    rules = load_rules(data_dir / "rules.toml", taxonomy)
    params = load_params(data_dir / "model.toml")
    threshold = configured_threshold(params, data_dir / "model.toml")
    files = corpus_files(data_dir) + list(extra_files)
    lines = _count_lines(files) + len(feedback or [])
    if lines > MAX_TRAIN_LINES:
        raise BounceMLError(
            f"the training files hold {lines} lines, more than the {MAX_TRAIN_LINES} rows "
            "`train` is measured to handle on this machine (README, 'Speed, memory and "
            "safety'); train on a sample of your rows"
        )
    progress(f"reading {len(files)} files ({lines} lines)")
    corpus = load_corpus(files, taxonomy)
    corpus.raise_problems()
    weight = float(params["feedback"]["weight"])
    corpus, weights, replaced = with_feedback(corpus, feedback or [], weight)

    progress(f"fitting on {len(corpus.rows)} rows")
    pipeline = build_pipeline(params).fit(
        corpus.texts, corpus.labels, classify__sample_weight=weights
    )
    scorer = compile_scorer(pipeline)
    progress(f"saving to {model_dir}")
    per_file = Counter(row.file for row in corpus.rows)
    metadata = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "labels": scorer.classes,
        "data_hash": data_hash(data_dir),
        "extra_files": {str(p): per_file[str(p)] for p in extra_files},
        "feedback": {
            "path": str(feedback_path) if feedback_path else None,
            "rows": len(feedback or []),
            "weight": weight,
            "corpus_rows_replaced": replaced,
        },
        "rows": len(corpus.rows),
        "rows_per_label": dict(sorted(Counter(corpus.labels).items())),
        "threshold": threshold,
        "threshold_from": "[policy] threshold of data/model.toml, chosen by `bounce-ml evaluate`",
        "strong_rule_priority": rules.strong_priority,
        "params": params,
        "features": scorer.coef_t.shape[0],
        "libraries": library_versions(),
    }
    fitted = time.perf_counter() - started
    archived = save_model(
        model_dir, scorer, pipeline, {**metadata, "fit_seconds": round(fitted, 1)}
    )
    seconds = time.perf_counter() - started
    report = [
        f"trained on {len(corpus.rows)} rows ({len(scorer.classes)} labels, "
        f"{metadata['features']} features) in {seconds:.1f} s",
    ]
    if feedback is not None:
        report.append(
            f"{len(feedback)} rows from the feedback store {feedback_path} (weight {weight:g}); "
            f"they replaced {replaced} corpus rows of the same wording"
        )
    report.append(f"model threshold {threshold:.2f} (data/model.toml); saved to {model_dir}")
    if archived:
        report.append(f"the previous model is kept as {archived} (`bounce-ml model rollback`)")
    return "\n".join(report)


def _count_lines(files: list[Path]) -> int:
    """Lines in ``files``, read a block at a time (at least their number of rows)."""
    total = 0
    for path in files:
        try:
            with open(path, "rb") as handle:
                while block := handle.read(1 << 20):
                    total += block.count(b"\n")
        except OSError:
            continue  # load_corpus reports the file, naming it
    return total
