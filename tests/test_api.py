"""The documented Python API: what users script against."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import bounce_ml
from bounce_ml import Classifier, classify, config


def test_model_dir_may_be_a_str_or_a_path() -> None:
    text = "552 5.2.2 Mailbox full"
    from_str = classify(text, model_dir=str(config.MODELS_DIR))
    from_path = Classifier(model_dir=Path(config.MODELS_DIR)).predict([text])[0]
    assert from_str == from_path
    assert (from_str.label, from_str.decided_by) == ("mailbox_full", "model")


def test_version_is_the_installed_distribution_version() -> None:
    assert bounce_ml.__version__ == version("bounce-ml")


def test_package_declares_its_type_hints() -> None:
    assert (Path(bounce_ml.__file__).parent / "py.typed").is_file()
