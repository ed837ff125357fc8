"""The label set, loaded from ``data/taxonomy.toml`` and validated once."""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path

from bounce_ml import config
from bounce_ml.errors import BounceMLError
from bounce_ml.tomlfile import Key, check_tables, read_toml

UNKNOWN = "unknown"
SEVERITIES = ("hard", "soft", "unknown")


@dataclass(frozen=True, slots=True)
class Label:
    """One bounce category with the advice shown to the user."""

    id: str
    code: str
    name_en: str
    name_zh: str
    severity: str
    retry: bool
    action: str
    action_zh: str
    cause_en: str
    cause_zh: str
    fix_en: str
    fix_zh: str

    def advice(self, lang: str) -> str:
        """Cause and fix in English (``en``) or Chinese (``zh``)."""
        if lang == "zh":
            return f"{self.cause_zh} {self.fix_zh}"
        return f"{self.cause_en} {self.fix_en}"

    def action_in(self, lang: str) -> str:
        """The recommended action in English (``en``) or Chinese (``zh``)."""
        return self.action_zh if lang == "zh" else self.action


# The schema of one [[label]] table: every field of `Label`, all required.
_LABEL_KEYS = {
    f.name: Key(bool)
    if f.type == "bool"
    else Key(str, choices=SEVERITIES if f.name == "severity" else ())
    for f in fields(Label)
}


@dataclass(frozen=True)
class Taxonomy:
    """All labels by id, in file order; ``unknown`` is always present."""

    labels: dict[str, Label]

    @property
    def trainable(self) -> list[str]:
        """Label ids a model or rule may predict (all but ``unknown``)."""
        return [label for label in self.labels if label != UNKNOWN]

    def __getitem__(self, label_id: str) -> Label:
        return self.labels[label_id]

    def __contains__(self, label_id: object) -> bool:
        return label_id in self.labels


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """Read and validate a taxonomy file (default: the project's ``data/taxonomy.toml``).

    Raises
    ------
    BounceMLError
        Naming the file, the label and the field when anything is missing or wrong.
    """
    path = path or config.TAXONOMY_PATH
    entries = check_tables(read_toml(path), "label", _LABEL_KEYS, path)
    labels = {entry["id"]: Label(**entry) for entry in entries}
    if UNKNOWN not in labels:
        raise BounceMLError(f"{path}: the label {UNKNOWN!r} is required")
    return Taxonomy(labels)


@cache
def default_taxonomy() -> Taxonomy:
    """The project's taxonomy, read once per process."""
    return load_taxonomy()
