"""The decision policy between the model and the rules, in one place.

0. An override rule (priority >= ``override_priority``: a provider's known
   misuse of wording, such as Coremail's "550 System is busy" for a content
   filter) decides first; a model trained on generic wording gets these wrong.
1. The model decides when its top probability reaches the threshold (chosen on
   cross-validated predictions at training time and stored with the model).
2. Otherwise a strong rule match decides (priority >= ``strong_priority`` of the
   rules file).
3. Otherwise the answer is ``unknown``.

Without a model (rules-only mode) any rule match decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bounce_ml.labels.rules import RuleMatch
from bounce_ml.labels.taxonomy import UNKNOWN

DecidedBy = Literal["model", "rule", "none"]


@dataclass(frozen=True, slots=True)
class Decision:
    """The label chosen for one text, how sure, and which side chose it."""

    label: str
    confidence: float
    decided_by: DecidedBy
    rule: RuleMatch | None


def rule_strength(match: RuleMatch) -> float:
    """A rule's confidence: its priority on a 0-1 scale (a strength, not a probability)."""
    return min(match.priority, 100) / 100


def decide(
    model_label: str | None,
    model_confidence: float,
    rule: RuleMatch | None,
    *,
    threshold: float,
    rule_is_strong: bool,
    rule_overrides: bool = False,
) -> Decision:
    """Apply the policy to one text's model output and best rule match.

    Parameters
    ----------
    model_label, model_confidence : the model's top label and its probability;
        ``model_label`` is None in rules-only mode.
    rule : the winning rule match, if any.
    threshold : the model's probability at or above which it decides.
    rule_is_strong : whether ``rule`` may overrule an unsure model.
    rule_overrides : whether ``rule`` overrules even a confident model.
    """
    if rule is not None and rule_overrides:
        return Decision(rule.label, rule_strength(rule), "rule", rule)
    if model_label is not None and model_confidence >= threshold:
        return Decision(model_label, model_confidence, "model", rule)
    if rule is not None and (model_label is None or rule_is_strong):
        return Decision(rule.label, rule_strength(rule), "rule", rule)
    return Decision(UNKNOWN, model_confidence, "none", rule)
