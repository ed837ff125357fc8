"""``bounce-ml evaluate --model NEW --baseline OLD --data FILE``: what a retrain changed.

Both models score the same labeled file with the combined policy (model, rules and
each model's own threshold). The comparison shows, per label, precision, recall
and F1 before and after; the rows the new model fixed and the rows it broke.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bounce_ml.labels.rules import default_rules
from bounce_ml.predict.artifacts import load_model
from bounce_ml.train.crossval import Evaluation, score_with_model
from bounce_ml.train.evaluate import read_scored_file

LISTED_ROWS = 20  # fixed or broken rows printed (all are counted)
SYSTEM = "combined"


@dataclass(frozen=True, slots=True)
class RowChange:
    text: str
    true: str
    before: str
    after: str


@dataclass
class Comparison:
    data: Path
    baseline: Evaluation
    new: Evaluation

    def _metrics(self) -> tuple[dict[str, Any], dict[str, Any]]:
        return self.baseline.metrics()[SYSTEM], self.new.metrics()[SYSTEM]

    def changed_rows(self) -> tuple[list[RowChange], list[RowChange]]:
        """(rows the new model fixed, rows it broke)."""
        fixed, broken = [], []
        for text, true, before, after in zip(
            self.new.texts,
            self.new.y_true,
            self.baseline.predictions[SYSTEM],
            self.new.predictions[SYSTEM],
            strict=True,
        ):
            change = RowChange(text, true, before, after)
            if before != true and after == true:
                fixed.append(change)
            elif before == true and after != true:
                broken.append(change)
        return fixed, broken

    def worse_labels(self) -> list[str]:
        """Labels whose F1 dropped."""
        old, new = self._metrics()
        return [
            label
            for label, row in new["per_label"].items()
            if row["f1"] < old["per_label"][label]["f1"] - 1e-9
        ]

    def render(self) -> str:
        old, new = self._metrics()
        fixed, broken = self.changed_rows()
        worse = self.worse_labels()
        lines = [
            f"{len(self.new.y_true)} labeled rows of {self.data}, combined policy",
            f"baseline: {self.baseline.how}",
            f"new:      {self.new.how}",
            "",
            "| label | support | baseline P / R / F1 | new P / R / F1 | F1 change |",
            "|---|---|---|---|---|",
        ]
        for label, after in new["per_label"].items():
            before = old["per_label"][label]
            change = after["f1"] - before["f1"]
            lines.append(
                f"| {label} | {after['support']} | {_prf(before)} | {_prf(after)} | "
                f"{'=' if abs(change) < 1e-9 else f'{change:+.3f}'} |"
            )
        lines += [
            f"| **all** | {len(self.new.y_true)} | accuracy {old['accuracy']:.3f}, "
            f"macro-F1 {old['macro_f1']:.3f} | accuracy {new['accuracy']:.3f}, "
            f"macro-F1 {new['macro_f1']:.3f} | {new['macro_f1'] - old['macro_f1']:+.3f} |",
            "",
            f"fixed {len(fixed)} rows, broke {len(broken)} rows; "
            f"labels worse: {', '.join(worse) if worse else 'none'}",
        ]
        for title, rows in (("fixed", fixed), ("broken", broken)):
            if rows:
                lines += ["", f"{title} (true: baseline -> new):"]
                lines += [
                    f"  {row.true}: {row.before} -> {row.after}  {_short(row.text)}"
                    for row in rows[:LISTED_ROWS]
                ]
                if len(rows) > LISTED_ROWS:
                    lines.append(f"  ... and {len(rows) - LISTED_ROWS} more")
        return "\n".join(lines)


def _prf(row: dict[str, Any]) -> str:
    return f"{row['precision']:.2f} / {row['recall']:.2f} / {row['f1']:.2f}"


def _short(text: str) -> str:
    return textwrap.shorten(text, 90, placeholder="…")


def compare_models(data: Path, new_dir: Path, baseline_dir: Path) -> Comparison:
    """Score ``data`` with both models."""
    corpus = read_scored_file(data)
    rules = default_rules()

    def score(model_dir: Path) -> Evaluation:
        model = load_model(model_dir)
        how = f"{model_dir} (threshold {model.threshold}, trained {model.metadata.get('created')})"
        return score_with_model(
            corpus.texts, corpus.labels, model.scorer, model.threshold, rules, how
        )

    return Comparison(data, score(baseline_dir), score(new_dir))
