"""The keyword and status-code rule layer, read from ``data/rules.toml``.

Rules are data: each has an id, a label, a priority and regular-expression
patterns searched in normalised text. How conflicts are settled is written at the
top of the rules file and implemented in :meth:`RuleSet.best`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from bounce_ml import config
from bounce_ml.errors import BounceMLError
from bounce_ml.labels.taxonomy import UNKNOWN, Taxonomy, default_taxonomy
from bounce_ml.tomlfile import Key, check_table, check_tables, read_toml


@dataclass(frozen=True)
class Rule:
    """One rule: patterns that, when found, point to ``label``."""

    id: str
    label: str
    priority: int
    patterns: tuple[str, ...]

    @cached_property
    def regex(self) -> re.Pattern[str]:
        """One alternation of the patterns: a single scan of a text finds them all.

        Compiled on first use: compiling every rule costs more than a whole
        ``bounce-ml predict`` call, and a confident model needs only the overrides.
        """
        try:
            return re.compile("|".join(f"(?:{p})" for p in self.patterns))
        except re.error as exc:
            raise BounceMLError(f"rule {self.id!r}: bad pattern ({exc})") from None


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """A rule that fired on a text, with the words that made it fire."""

    rule_id: str
    label: str
    priority: int
    words: tuple[str, ...]
    position: int  # the rule's place in the file, for the final tie-break

    @property
    def specificity(self) -> int:
        """Length of the longest matched text: longer wording is more specific."""
        return max(len(word) for word in self.words)


@dataclass(frozen=True)
class RuleSet:
    """All rules of a file, in file order, and the priorities that make a match strong
    (may decide when the model is unsure) or an override (decides even over the model)."""

    rules: tuple[Rule, ...]
    strong_priority: int
    override_priority: int
    # One pattern per floor, of every rule at or above it (see `_gate`).
    _gates: dict[int, re.Pattern[str] | None] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def matches(self, text: str, min_priority: int = 0) -> list[RuleMatch]:
        """Every rule of at least ``min_priority`` that fires on normalised ``text``, best first."""
        if min_priority not in self._gates:
            self._gates[min_priority] = self._gate(min_priority)
        gate = self._gates[min_priority]
        if gate is not None and not gate.search(text):
            return []
        found = []
        for position, rule in enumerate(self.rules):
            if rule.priority < min_priority:
                continue
            words = tuple(dict.fromkeys(m.group(0).strip() for m in rule.regex.finditer(text)))
            words = tuple(word for word in words if word)
            if words:
                found.append(RuleMatch(rule.id, rule.label, rule.priority, words, position))
        found.sort(key=lambda m: (-m.priority, -m.specificity, m.position))
        return found

    def _gate(self, min_priority: int) -> re.Pattern[str] | None:
        """All patterns of the rules of at least ``min_priority`` as one alternation.

        Most texts fire no override and many fire few rules: one scan that finds none
        saves a scan per rule. A pattern that refers back to a group (``\\1``, ``(?P=name)``)
        would refer to another group inside the alternation, and names may repeat across
        rules, so such rule sets go without a gate.
        """
        rules = [rule for rule in self.rules if rule.priority >= min_priority]
        for rule in rules:
            rule.regex  # noqa: B018 -- compiled first, so a bad pattern is named by its rule
        patterns = [pattern for rule in rules for pattern in rule.patterns]
        if any(_REFERS_BACK.search(pattern) for pattern in patterns):
            return None
        try:
            return re.compile("|".join(f"(?:{pattern})" for pattern in patterns) or "(?!)")
        except re.error:  # a group name used by two rules
            return None

    def best(self, text: str, min_priority: int = 0) -> RuleMatch | None:
        """The winning match: highest priority, then longest matched text, then file order."""
        found = self.matches(text, min_priority)
        return found[0] if found else None

    def is_strong(self, match: RuleMatch | None) -> bool:
        """Whether a match is strong enough to decide when the model is unsure."""
        return match is not None and match.priority >= self.strong_priority

    def is_override(self, match: RuleMatch | None) -> bool:
        """Whether a match decides even when the model is confident."""
        return match is not None and match.priority >= self.override_priority


# A back-reference in a pattern: a backslash and a digit, or (?P=name). Also true of some
# patterns without one (an escaped backslash before a digit): those only lose the gate.
_REFERS_BACK = re.compile(r"\\[1-9]|\(\?P=")

_RULE_KEYS = {
    "id": Key(str),
    "label": Key(str),
    "priority": Key(int),
    "patterns": Key(list, items=str),
}
_SETTINGS = {"strong_priority": Key(int), "override_priority": Key(int), "rule": Key(list)}


def _compile_rule(
    entry: dict[str, Any], path: Path, taxonomy: Taxonomy, check_patterns: bool
) -> Rule:
    where = f"{path}: rule {entry['id']!r}"
    label = entry["label"]
    if label not in taxonomy or label == UNKNOWN:
        raise BounceMLError(f"{where}: label {label!r} is not a label of the taxonomy")
    patterns = entry["patterns"]
    if not patterns:
        raise BounceMLError(f"{where}: key 'patterns' must not be empty")
    for pattern in patterns if check_patterns else ():
        try:
            re.compile(pattern)
        except re.error as exc:
            raise BounceMLError(f"{where}: bad pattern {pattern!r} ({exc})") from None
    return Rule(entry["id"], label, entry["priority"], tuple(patterns))


def load_rules(
    path: Path | None = None, taxonomy: Taxonomy | None = None, *, check_patterns: bool = True
) -> RuleSet:
    """Read and validate a rules file (default: the project's ``data/rules.toml``).

    ``check_patterns=False`` leaves each pattern to be checked when its rule is
    first used (prediction start-up).

    Raises
    ------
    BounceMLError
        Naming the file and the rule when a field, label or pattern is wrong.
    """
    path = path or config.RULES_PATH
    taxonomy = taxonomy or default_taxonomy()
    raw = check_table(read_toml(path), _SETTINGS, str(path))
    entries = check_tables(raw, "rule", _RULE_KEYS, path)
    rules = [_compile_rule(entry, path, taxonomy, check_patterns) for entry in entries]
    return RuleSet(tuple(rules), raw["strong_priority"], raw["override_priority"])


@cache
def default_rules() -> RuleSet:
    """The project's rules, read once per process; patterns are compiled on first use."""
    return load_rules(check_patterns=False)
