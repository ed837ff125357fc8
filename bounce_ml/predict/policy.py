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

Then the record's codes (its enhanced status code, SMTP reply code and refused command, read
from ``data/status_codes.toml``) have their say, in `with_codes`:

4. When the text gave ``unknown``, the codes' label decides.
5. When a ``narrow`` code disagrees with the text's label, the code's label is taken, or
   another label the code allows if the model gives it at least the threshold. Override
   rules are never narrowed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from bounce_ml.labels.rules import RuleMatch
from bounce_ml.labels.status_codes import CodeHint
from bounce_ml.labels.taxonomy import UNKNOWN

DecidedBy = Literal["model", "rule", "status", "none"]


@dataclass(frozen=True, slots=True)
class Decision:
    """The label chosen for one text, how sure, and which side chose it."""

    label: str
    confidence: float
    decided_by: DecidedBy
    rule: RuleMatch | None
    codes: CodeHint | None = None  # set when the record's codes decided


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


def with_codes(
    decision: Decision,
    codes: CodeHint | None,
    probabilities: Mapping[str, float] | None,
    *,
    threshold: float,
    by_override: bool,
) -> Decision:
    """Apply steps 4 and 5 of the policy: let a record's codes fill in or narrow the text's
    decision.

    Parameters
    ----------
    decision : the decision from the text alone (`decide`).
    codes : what the record's status code, reply code and command say, if anything.
    probabilities : the model's probability per label, None in rules-only mode.
    threshold : the model's probability at or above which it decides.
    by_override : whether ``decision`` was made by an override rule (never narrowed).
    """
    if codes is None or by_override:
        return decision
    entry = codes.entry
    if decision.label == UNKNOWN:
        return Decision(codes.label, entry.strength, "status", decision.rule, codes)
    if decision.label in entry.labels or entry.trust == "fallback":
        return decision
    label = entry.label
    if probabilities:
        likely = [other for other in sorted(entry.labels) if probabilities[other] >= threshold]
        label = max(likely, key=probabilities.__getitem__, default=entry.label)
    return Decision(label, entry.strength, "status", decision.rule, codes)
