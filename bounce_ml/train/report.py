"""Rendering evaluation results: a markdown report, a summary table and a heat map."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from bounce_ml.train.crossval import SYSTEMS, Evaluation


def summary_table(metrics: dict[str, Any]) -> str:
    """Accuracy, macro-F1 and unknown rate of each system, as a markdown table."""
    lines = ["| system | accuracy | macro-F1 | unknown |", "|---|---|---|---|"]
    for system in SYSTEMS:
        m = metrics[system]
        lines.append(
            f"| {system} | {m['accuracy']:.3f} | {m['macro_f1']:.3f} | {m['unknown_rate']:.1%} |"
        )
    return "\n".join(lines)


def per_label_table(metrics: dict[str, Any]) -> str:
    """Precision / recall / F1 per label for each system side by side."""
    header = "| label | support | " + " | ".join(f"{s} P | {s} R | {s} F1" for s in SYSTEMS) + " |"
    lines = [header, "|---" * (2 + 3 * len(SYSTEMS)) + "|"]
    for label, row in metrics["combined"]["per_label"].items():
        cells = []
        for system in SYSTEMS:
            m = metrics[system]["per_label"][label]
            cells += [f"{m['precision']:.2f}", f"{m['recall']:.2f}", f"{m['f1']:.2f}"]
        lines.append(f"| {label} | {row['support']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def confusion_table(matrix: np.ndarray, labels: list[str]) -> str:
    """Rows: true label; columns: predicted label (by its position number)."""
    header = "| true \\ predicted | " + " | ".join(str(i) for i in range(len(labels))) + " |"
    lines = [header, "|---" * (len(labels) + 1) + "|"]
    for i, label in enumerate(labels):
        cells = " | ".join(str(v) if v else "." for v in matrix[i])
        lines.append(f"| {i} {label} | {cells} |")
    return "\n".join(lines)


def worst_mistakes(evaluation: Evaluation, k: int = 15) -> str:
    """The combined policy's most confident wrong answers."""
    wrong = [
        i
        for i, (t, p) in enumerate(
            zip(evaluation.y_true, evaluation.predictions["combined"], strict=True)
        )
        if t != p
    ]
    wrong.sort(key=lambda i: -evaluation.confidence[i])
    lines = ["| confidence | true | predicted | text |", "|---|---|---|---|"]
    for i in wrong[:k]:
        text = " ".join(evaluation.texts[i].split())[:140].replace("|", "\\|")
        lines.append(
            f"| {evaluation.confidence[i]:.2f} | {evaluation.y_true[i]} | "
            f"{evaluation.predictions['combined'][i]} | {text} |"
        )
    return "\n".join(lines)


def render_report(
    evaluation: Evaluation,
    metrics: dict[str, Any],
    matrix: np.ndarray,
    matrix_labels: list[str],
    comparison: dict[str, float] | None,
) -> str:
    parts = [
        "# bounce-ml evaluation",
        "",
        f"{len(evaluation.y_true)} labeled rows. {evaluation.how}.",
        f"Model thresholds used: {', '.join(f'{t:.2f}' for t in evaluation.thresholds)}.",
        *(
            [
                f"On all out-of-fold predictions the threshold chosen is "
                f"{evaluation.chosen_threshold:.2f}: `[policy] threshold` in data/model.toml "
                "should hold it, because `bounce-ml train` takes it from there."
            ]
            if evaluation.chosen_threshold is not None
            else []
        ),
        "",
        "## Summary",
        "",
        summary_table(metrics),
        "",
        "## Per label",
        "",
        per_label_table(metrics),
        "",
        "## Confusion matrix of the combined policy",
        "",
        "![confusion matrix](confusion.png)",
        "",
        confusion_table(matrix, matrix_labels),
        "",
        "## Most confident mistakes (combined policy)",
        "",
        worst_mistakes(evaluation),
    ]
    if comparison:
        parts += [
            "",
            "## Classifier comparison (model alone, same grouped folds)",
            "",
            "| classifier | macro-F1 |",
            "|---|---|",
            *[f"| {name} | {value:.3f} |" for name, value in comparison.items()],
        ]
    return "\n".join(parts) + "\n"


def save_heatmap(matrix: np.ndarray, labels: list[str], path: Path) -> None:
    """Row-normalised confusion matrix as a PNG heat map."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    share = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    figure, axes = plt.subplots(figsize=(10, 8.5))
    image = axes.imshow(share, cmap="Blues", vmin=0, vmax=1)
    axes.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=8)
    axes.set_yticks(range(len(labels)), labels, fontsize=8)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    for i in range(len(labels)):
        for j in range(len(labels)):
            if matrix[i, j]:
                colour = "white" if share[i, j] > 0.5 else "black"
                axes.text(j, i, matrix[i, j], ha="center", va="center", fontsize=7, color=colour)
    figure.colorbar(image, ax=axes, label="share of the true label")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
