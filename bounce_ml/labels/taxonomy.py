"""The label set, loaded from ``data/taxonomy.toml`` and validated once."""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path

from bounce_ml import config
from bounce_ml.errors import BounceMLError
from bounce_ml.tomlfile import read_toml

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


_FIELD_TYPES = {f.name: (bool if f.type == "bool" else str) for f in fields(Label)}


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


def _parse_label(entry: object, position: int, path: Path) -> Label:
    where = f"{path}: [[label]] #{position}"
    if not isinstance(entry, dict):
        raise BounceMLError(f"{where}: expected a table")
    if "id" in entry:
        where = f"{path}: label {entry['id']!r}"
    unknown = sorted(set(entry) - set(_FIELD_TYPES))
    if unknown:
        raise BounceMLError(f"{where}: unknown field {unknown[0]!r}")
    for name, kind in _FIELD_TYPES.items():
        if name not in entry:
            raise BounceMLError(f"{where}: missing field {name!r}")
        value = entry[name]
        if not isinstance(value, kind) or (kind is str and not value.strip()):
            raise BounceMLError(f"{where}: field {name!r} must be a non-empty {kind.__name__}")
    if entry["severity"] not in SEVERITIES:
        raise BounceMLError(f"{where}: severity must be one of {', '.join(SEVERITIES)}")
    return Label(**entry)


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """Read and validate a taxonomy file (default: the project's ``data/taxonomy.toml``).

    Raises
    ------
    BounceMLError
        Naming the file, the label and the field when anything is missing or wrong.
    """
    path = path or config.TAXONOMY_PATH
    entries = read_toml(path).get("label")
    if not isinstance(entries, list) or not entries:
        raise BounceMLError(f"{path}: no [[label]] tables")
    labels: dict[str, Label] = {}
    for position, entry in enumerate(entries, start=1):
        label = _parse_label(entry, position, path)
        if label.id in labels:
            raise BounceMLError(f"{path}: label {label.id!r} defined twice")
        labels[label.id] = label
    if UNKNOWN not in labels:
        raise BounceMLError(f"{path}: the label {UNKNOWN!r} is required")
    return Taxonomy(labels)


@cache
def default_taxonomy() -> Taxonomy:
    """The project's taxonomy, read once per process."""
    return load_taxonomy()
