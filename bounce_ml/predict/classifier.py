"""The Python API: classify bounce texts with the saved model plus the rules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any, overload

from bounce_ml import config
from bounce_ml.labels.rules import RuleSet, default_rules
from bounce_ml.labels.taxonomy import Taxonomy, default_taxonomy
from bounce_ml.predict.artifacts import LoadedModel, has_any_model_file, load_model
from bounce_ml.predict.policy import DecidedBy, Decision, decide
from bounce_ml.text.normalize import normalize_text

# Bounce wording is short; anything longer is a whole message or junk. Texts are
# cut to this many characters before normalising, so a 50 MB line cannot stall a run.
MAX_TEXT_CHARS = 10_000
# Distinct normalised wordings remembered across batches (a mail log repeats a few
# hundred templates with different addresses; each is classified once).
CACHE_SIZE = 100_000
# How many of the model's most probable labels a Prediction carries (for review).
TOP_LABELS = 2


@dataclass(frozen=True, slots=True)
class Prediction:
    """What went wrong with one bounce, how sure we are and what to do."""

    text: str
    label: str
    name_en: str
    name_zh: str
    confidence: float
    severity: str
    retry: bool
    action: str
    advice: str
    decided_by: DecidedBy
    rule_id: str | None
    evidence: tuple[str, ...]
    note: str | None = None
    # The model's most probable labels with their probabilities, best first
    # (empty without a model). Not part of the output rows.
    top_labels: tuple[tuple[str, float], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON/CSV output (evidence joined by ``; ``)."""
        row = asdict(self)
        del row["top_labels"]
        row["evidence"] = "; ".join(self.evidence)
        row["confidence"] = round(self.confidence, 4)
        return row


@dataclass(frozen=True, slots=True)
class _Scored:
    """What the classifier remembers per distinct normalised wording."""

    decision: Decision
    evidence: tuple[str, ...]
    top_labels: tuple[tuple[str, float], ...]


class Classifier:
    """Rules plus (when available) the trained model, applied in batches.

    Parameters
    ----------
    model_dir : directory of a trained model (``str`` or ``Path``); default the packaged
        ``models/``. When the default directory holds no model file at all (none was ever
        shipped), the rules decide alone and `rules_only_reason` says so. A missing,
        incomplete or damaged model is an error (`BounceMLError`), never a silent switch
        to the rules.
    use_model : set False for rules-only predictions.
    lang : ``en`` or ``zh``, the language of the action and advice.
    """

    def __init__(
        self,
        *,
        model_dir: str | Path | None = None,
        use_model: bool = True,
        lang: str = "en",
        rules: RuleSet | None = None,
        taxonomy: Taxonomy | None = None,
    ) -> None:
        self.taxonomy = taxonomy or default_taxonomy()
        self.rules = rules or default_rules()
        self.lang = lang
        self.model: LoadedModel | None = None
        self.rules_only_reason: str | None = None
        if use_model:
            directory = Path(model_dir) if model_dir is not None else config.MODELS_DIR
            if model_dir is None and not has_any_model_file(directory):
                self.rules_only_reason = f"no trained model in {directory}: the rules decide alone"
            else:
                self.model = load_model(directory, self.taxonomy)
        self._cache: dict[str, _Scored] = {}

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        """Classify a batch of texts, in order; identical normalised wordings are scored once."""
        clipped = [text[:MAX_TEXT_CHARS] for text in texts]
        keys = [normalize_text(text) for text in clipped]
        todo = list(dict.fromkeys(key for key in keys if key not in self._cache))
        if todo:
            if len(self._cache) + len(todo) > CACHE_SIZE:
                self._cache.clear()
            self._cache.update(zip(todo, self._decide(todo), strict=True))
        return [
            self._prediction(text, self._cache[key], truncated=len(text) > MAX_TEXT_CHARS)
            for text, key in zip(texts, keys, strict=True)
        ]

    def _decide(self, keys: list[str]) -> list[_Scored]:
        model = self.model
        rows = [model.scorer.row(key) for key in keys] if model else []
        probabilities = model.scorer.proba_of_rows(rows) if model else None
        results = []
        for i, key in enumerate(keys):
            model_label, model_confidence = None, 0.0
            top: tuple[tuple[str, float], ...] = ()
            if model is not None and probabilities is not None:
                order = probabilities[i].argsort()[::-1][:TOP_LABELS]
                top = tuple((model.scorer.classes[j], float(probabilities[i, j])) for j in order)
                model_label, model_confidence = top[0]
            # A confident model can only be overruled by an override rule, so only
            # those are searched then; all rules run when the model is unsure.
            unsure = model is None or model_confidence < model.threshold
            floor = 0 if unsure else self.rules.override_priority
            match = self.rules.best(key, min_priority=floor)
            decision = decide(
                model_label,
                model_confidence,
                match,
                threshold=model.threshold if model else 1.0,
                rule_is_strong=self.rules.is_strong(match),
                rule_overrides=self.rules.is_override(match),
            )
            if decision.decided_by == "model" and model is not None:
                evidence = tuple(model.scorer.top_features(rows[i], decision.label))
            else:
                evidence = decision.rule.words if decision.rule else ()
            results.append(_Scored(decision, evidence, top))
        return results

    def _prediction(self, text: str, scored: _Scored, *, truncated: bool) -> Prediction:
        decision = scored.decision
        label = self.taxonomy[decision.label]
        return Prediction(
            text=text[:MAX_TEXT_CHARS],
            label=label.id,
            name_en=label.name_en,
            name_zh=label.name_zh,
            confidence=decision.confidence,
            severity=label.severity,
            retry=label.retry,
            action=label.action_in(self.lang),
            advice=label.advice(self.lang),
            decided_by=decision.decided_by,
            rule_id=decision.rule.rule_id if decision.rule else None,
            evidence=scored.evidence,
            note=_note(text, truncated),
            top_labels=scored.top_labels,
        )


def _note(text: str, truncated: bool) -> str | None:
    if truncated:
        return f"text truncated to {MAX_TEXT_CHARS} characters"
    if not text.strip():
        return "empty text"
    return None


@cache
def _classifier(model_dir: Path | None, lang: str) -> Classifier:
    # classify() is a convenience: build each configuration's Classifier once.
    return Classifier(model_dir=model_dir, lang=lang)


# A str is itself a Sequence[str], so the batch overload names the concrete batch
# types: with Sequence[str] both overloads would match a str.
@overload
def classify(texts: str, *, model_dir: str | Path | None = ..., lang: str = ...) -> Prediction: ...
@overload
def classify(
    texts: list[str] | tuple[str, ...], *, model_dir: str | Path | None = ..., lang: str = ...
) -> list[Prediction]: ...
def classify(
    texts: str | Sequence[str], *, model_dir: str | Path | None = None, lang: str = "en"
) -> Prediction | list[Prediction]:
    """Classify one bounce text (returns a Prediction) or a list (returns a list, in order).

    >>> classify("550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown").label
    'user_unknown'
    """
    classifier = _classifier(Path(model_dir) if model_dir is not None else None, lang)
    if isinstance(texts, str):
        return classifier.predict([texts])[0]
    return classifier.predict(list(texts))
