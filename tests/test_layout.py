"""The package layout is a design rule: prediction never needs scikit-learn or training code."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "bounce_ml"
# Folders on the prediction path, and what none of their modules may import.
PREDICTION_FOLDERS = ("text", "labels", "mail", "predict")
FORBIDDEN = ("sklearn", "bounce_ml.train", "bounce_ml.corpus", "joblib", "matplotlib", "pandas")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_prediction_folders_do_not_import_training_code() -> None:
    offending = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for folder in PREDICTION_FOLDERS
        for path in sorted((PACKAGE / folder).rglob("*.py"))
        for name in sorted(_imports(path))
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN)
    ]
    assert offending == []


def test_classifying_english_and_chinese_loads_no_scikit_learn() -> None:
    script = (
        "import sys\n"
        "from bounce_ml import classify\n"
        "labels = [p.label for p in classify(['552 5.2.2 Mailbox full', '收件人不存在'])]\n"
        "assert labels == ['mailbox_full', 'user_unknown'], labels\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'sklearn', 'joblib', 'scipy', 'pandas', 'matplotlib'}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
