"""The Python API: classify bounce texts or records with the saved model plus the rules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path
from typing import Any, overload

from bounce_ml import config
from bounce_ml.labels.rules import RuleSet, default_rules
from bounce_ml.labels.status_codes import CodeHint, StatusTable, default_status_table
from bounce_ml.labels.taxonomy import UNKNOWN, Taxonomy, default_taxonomy
from bounce_ml.mail.records import MAX_TEXT_CHARS, BounceRecord
from bounce_ml.mail.smtp import first_rejection, text_record
from bounce_ml.predict.artifacts import LoadedModel, has_any_model_file, load_model
from bounce_ml.predict.policy import DecidedBy, Decision, decide, with_codes
from bounce_ml.text.normalize import normalize_text

# Distinct normalised wordings remembered across batches (a mail log repeats a few
# hundred templates with different addresses; each is classified once).
CACHE_SIZE = 100_000
# How many of the model's most probable labels a Prediction carries (for review).
TOP_LABELS = 2


@dataclass(frozen=True, slots=True)
class Prediction:
    """What went wrong with one bounce, how sure we are and what to do.

    ``decided_by`` says which input decided: the ``model`` or a ``rule`` on the text, the
    record's ``status`` code (or reply code, or refused command), or ``none`` (``unknown``).
    ``truncated`` is True when the text was cut to `MAX_TEXT_CHARS` before classifying.
    """

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
    truncated: bool = False
    # The model's most probable labels with their probabilities, best first
    # (empty without a model). Not part of the output rows.
    top_labels: tuple[tuple[str, float], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON/CSV output (evidence joined by ``; ``)."""
        # A shallow copy: dataclasses.asdict deep-copies and costs more than classifying.
        row = {name: getattr(self, name) for name in _OUTPUT_FIELDS}
        row["evidence"] = "; ".join(self.evidence)
        row["confidence"] = round(self.confidence, 4)
        return row


_OUTPUT_FIELDS = tuple(f.name for f in fields(Prediction) if f.name != "top_labels")


# Not frozen, unlike the public types: one is made per new wording, and a frozen dataclass
# takes about five times as long to build.
@dataclass(slots=True)
class _TextVerdict:
    """What the text alone says, remembered per normalised wording."""

    decision: Decision
    evidence: tuple[str, ...]
    probabilities: dict[str, float] | None
    top_labels: tuple[tuple[str, float], ...]
    by_override: bool


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
        status_table: StatusTable | None = None,
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
        self.status_table = status_table or default_status_table()
        self._cache: dict[str, _TextVerdict] = {}
        # The answer per (normalised text, status, reply code, command), without the text.
        self._answers: dict[tuple[str, str | None, str | None, str | None], Prediction] = {}
        # The status table's hint per (status, reply code, command): a batch of new wordings
        # repeats a few hundred combinations, and a look-up costs a tenth of working one out.
        self._hints: dict[tuple[str | None, str | None, str | None], CodeHint | None] = {}

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        """Classify a batch of texts, in order; identical normalised wordings are scored once.

        Each text is read as `text_record` reads a line: the first rejection of a transcript
        is kept, and the codes it contains are used as its status, reply code and command.
        """
        causes = [first_rejection(text[:MAX_TEXT_CHARS]) for text in texts]
        records = [
            text_record(text, cause=cause) for text, cause in zip(texts, causes, strict=True)
        ]
        return self._predict(records, causes)  # each text's cause worked out once

    def predict_records(self, records: Sequence[BounceRecord]) -> list[Prediction]:
        """Classify a batch of records, in order.

        The text decides first; the record's ``status``, ``reply_code`` and ``smtp_command``
        fill in when the text says nothing useful and narrow the answer when a trusted code
        disagrees (see ``bounce_ml/predict/policy.py``). Records whose ``kind`` is not a
        failure (``auto_reply``, ``delivered``, ...) get ``unknown`` with a note.
        """
        causes = [
            first_rejection(record.text[:MAX_TEXT_CHARS]) if record.is_failure else ""
            for record in records
        ]
        return self._predict(records, causes)

    def _predict(self, records: Sequence[BounceRecord], causes: list[str]) -> list[Prediction]:
        """`predict_records`, given the cause of each failure record's text (`first_rejection`)."""
        keys = [
            normalize_text(cause) if record.is_failure else ""
            for record, cause in zip(records, causes, strict=True)
        ]
        failing = dict.fromkeys(k for k, r in zip(keys, records, strict=True) if r.is_failure)
        todo = [key for key in failing if key not in self._cache]
        if len(self._cache) + len(todo) > CACHE_SIZE:
            self._cache.clear()  # and this batch's wordings are all scored again
            todo = list(failing)
        if todo:
            self._cache.update(zip(todo, self._text_verdicts(todo), strict=True))
        if len(self._answers) >= CACHE_SIZE:
            self._answers.clear()
        return [
            self._prediction(record, key) if record.is_failure else self._not_a_failure(record)
            for record, key in zip(records, keys, strict=True)
        ]

    def _text_verdicts(self, keys: list[str]) -> list[_TextVerdict]:
        model = self.model
        threshold = model.threshold if model else 1.0
        scores = model.scorer.score(keys) if model else None
        classes = model.scorer.classes if model else []
        # as lists: reading numpy arrays an element at a time costs more than converting them
        probabilities = scores.probabilities.tolist() if scores is not None else []
        ranking = scores.ranking[:, :TOP_LABELS].tolist() if scores is not None else []
        results = []
        for i, key in enumerate(keys):
            model_label, model_confidence = None, 0.0
            top: tuple[tuple[str, float], ...] = ()
            by_label = None
            if scores is not None and key:
                row = probabilities[i]
                top = tuple([(classes[j], row[j]) for j in ranking[i]])
                model_label, model_confidence = top[0]
                by_label = dict(zip(classes, row, strict=True))
            # A confident model can only be overruled by an override rule, so only
            # those are searched then; all rules run when the model is unsure.
            unsure = scores is None or model_confidence < threshold
            floor = 0 if unsure else self.rules.override_priority
            match = self.rules.best(key, min_priority=floor)
            overrides = self.rules.is_override(match)
            decision = decide(
                model_label,
                model_confidence,
                match,
                threshold=threshold,
                rule_is_strong=self.rules.is_strong(match),
                rule_overrides=overrides,
            )
            if decision.decided_by == "model" and scores is not None:
                # the model decides only for its most probable label, whose evidence this is
                evidence = tuple(scores.evidence[i])
            else:
                evidence = decision.rule.words if decision.rule else ()
            results.append(_TextVerdict(decision, evidence, by_label, top, overrides))
        return results

    def _prediction(self, record: BounceRecord, key: str) -> Prediction:
        """The prediction for a failure record whose normalised text is ``key``."""
        codes = (key, record.status, record.reply_code, record.smtp_command)
        answer = self._answers.get(codes)
        if answer is None:  # a mail log repeats few (wording, codes) pairs: decide each once
            answer = self._answers[codes] = self._answer(self._cache[key], *codes[1:])
        text = record.text[:MAX_TEXT_CHARS]
        empty = not text or text.isspace()  # as `not text.strip()`, without the copy
        return _for_record(answer, record, "empty text" if empty else None)

    def _answer(
        self, verdict: _TextVerdict, status: str | None, reply_code: str | None, command: str | None
    ) -> Prediction:
        """The text's verdict with the record's codes applied, as a Prediction without text."""
        decision = with_codes(
            verdict.decision,
            self._hint(status, reply_code, command),
            verdict.probabilities,
            threshold=self.model.threshold if self.model else 1.0,
            by_override=verdict.by_override,
        )
        evidence = verdict.evidence
        if decision.codes is not None:
            words = decision.rule.words if decision.rule else ()
            evidence = (decision.codes.evidence, *words)
        return self._labelled(decision, evidence, verdict.top_labels)

    def _hint(
        self, status: str | None, reply_code: str | None, command: str | None
    ) -> CodeHint | None:
        codes = (status, reply_code, command)
        if codes not in self._hints:
            if len(self._hints) >= CACHE_SIZE:
                self._hints.clear()
            self._hints[codes] = self.status_table.hint(*codes)
        return self._hints[codes]

    def _not_a_failure(self, record: BounceRecord) -> Prediction:
        """``unknown`` for an auto-reply, a delivery report and the like, with a note."""
        unknown = self._labelled(Decision(UNKNOWN, 0.0, "none", None), (), ())
        return _for_record(unknown, record, f"not a failure: {record.kind}")

    def _labelled(
        self,
        decision: Decision,
        evidence: tuple[str, ...],
        top_labels: tuple[tuple[str, float], ...],
    ) -> Prediction:
        """The Prediction of ``decision``, with the label's names, severity and advice, for
        an empty text (the caller puts the text in)."""
        label = self.taxonomy[decision.label]
        return Prediction(
            text="",
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
            evidence=evidence,
            top_labels=top_labels,
        )


def _for_record(answer: Prediction, record: BounceRecord, note: str | None) -> Prediction:
    """``answer`` (a Prediction made for no text in particular) for one record: its text,
    cut to `MAX_TEXT_CHARS`, and ``note``. Field by field: `dataclasses.replace` costs about
    1.7 times as much (3.7 against 2.2 µs), and this runs once per line of a log."""
    return Prediction(
        text=record.text[:MAX_TEXT_CHARS],
        label=answer.label,
        name_en=answer.name_en,
        name_zh=answer.name_zh,
        confidence=answer.confidence,
        severity=answer.severity,
        retry=answer.retry,
        action=answer.action,
        advice=answer.advice,
        decided_by=answer.decided_by,
        rule_id=answer.rule_id,
        evidence=answer.evidence,
        note=note,
        truncated=len(record.text) > MAX_TEXT_CHARS,
        top_labels=answer.top_labels,
    )


@cache
def _classifier(model_dir: Path | None, lang: str) -> Classifier:
    # classify() is a convenience: build each configuration's Classifier once.
    return Classifier(model_dir=model_dir, lang=lang)


# A str is itself a Sequence[str], so the batch overload names the concrete batch
# types: with Sequence[str] both overloads would match a str.
@overload
def classify(
    texts: str | BounceRecord, *, model_dir: str | Path | None = ..., lang: str = ...
) -> Prediction: ...
@overload
def classify(
    texts: list[str | BounceRecord] | tuple[str | BounceRecord, ...],
    *,
    model_dir: str | Path | None = ...,
    lang: str = ...,
) -> list[Prediction]: ...
def classify(
    texts: str | BounceRecord | Sequence[str | BounceRecord],
    *,
    model_dir: str | Path | None = None,
    lang: str = "en",
) -> Prediction | list[Prediction]:
    """Classify one bounce text or record (returns a Prediction) or a list of them (returns a
    list, in order). A record carries the codes the text may lack:

    >>> classify("550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown").label
    'user_unknown'
    >>> classify(BounceRecord(text="", status="5.2.2")).label
    'mailbox_full'
    """
    classifier = _classifier(Path(model_dir) if model_dir is not None else None, lang)
    if isinstance(texts, str | BounceRecord):
        return classifier.predict_records([_as_record(texts)])[0]
    return classifier.predict_records([_as_record(item) for item in texts])


def _as_record(item: str | BounceRecord) -> BounceRecord:
    return item if isinstance(item, BounceRecord) else text_record(item)
