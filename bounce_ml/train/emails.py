"""Accuracy on a folder of bounce emails with known answers, per mail system.

The folder holds ``.eml`` files and an ``expected.toml`` that gives, per file, the mail
``system`` it follows and the ``records`` it should give (recipient, kind, status, words of
the error sentence, label); ``tests/fixtures/emails/expected.toml`` documents the format.
Each email is parsed and its records classified as ``bounce-ml predict --input`` does; the
report counts, per system and overall:

- records: the email gave the expected recipients, in order;
- kind and status: every record's kind and status are right;
- extraction: every record's text contains the expected words;
- label: every record's label is right (the whole email is labelled right);
- and the share of single records whose label is right.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bounce_ml.errors import BounceMLError
from bounce_ml.mail.emails import BrokenMessageError, parse_bounce
from bounce_ml.mail.records import BounceRecord
from bounce_ml.predict.classifier import Classifier, Prediction
from bounce_ml.tomlfile import read_toml

CHECKS = ("records", "kind", "status", "extraction", "label")


@dataclass
class EmailResult:
    """How one email fared on each check, and what went wrong."""

    name: str
    system: str
    passed: dict[str, bool]
    labels_right: int
    labels_total: int
    problems: list[str] = field(default_factory=list)


def check_email(
    name: str, want: dict[str, Any], records: list[BounceRecord], predictions: list[Prediction]
) -> EmailResult:
    """Compare one email's records and predictions with its expected entry."""
    expected = want["records"]
    result = EmailResult(name, want.get("system", "?"), dict.fromkeys(CHECKS, True), 0, 0)
    got = [r.recipient for r in records]
    wanted = [w.get("recipient") for w in expected]
    if got != wanted:
        result.passed["records"] = False
        result.problems.append(f"recipients {got} != {wanted}")
    for record, prediction, w in zip(records, predictions, expected, strict=False):
        who = record.recipient or "-"
        kind = w.get("kind", want.get("kind"))
        if kind is not None and record.kind != kind:
            result.passed["kind"] = False
            result.problems.append(f"{who}: kind {record.kind} != {kind}")
        if record.status != w.get("status"):
            result.passed["status"] = False
            result.problems.append(f"{who}: status {record.status} != {w.get('status')}")
        missing = [word for word in w.get("words", []) if word not in record.text]
        if missing:
            result.passed["extraction"] = False
            result.problems.append(f"{who}: text {record.text[:160]!r} lacks {missing}")
        result.labels_total += 1
        if prediction.label == w.get("label", "unknown"):
            result.labels_right += 1
        else:
            result.passed["label"] = False
            result.problems.append(f"{who}: label {prediction.label} != {w.get('label')}")
    if len(records) != len(expected):
        result.passed["label"] = False
        result.labels_total += max(0, len(expected) - len(records))
    return result


def evaluate_emails(folder: Path, classifier: Classifier | None = None) -> list[EmailResult]:
    """Parse and classify every email of ``folder`` listed in its ``expected.toml``.

    Raises
    ------
    BounceMLError
        When the folder has no ``expected.toml`` or an entry names a missing file.
    """
    expected = read_toml(folder / "expected.toml")
    classifier = classifier or Classifier()
    results = []
    for name, want in expected.items():
        if "records" not in want:
            continue  # a file that is not an email at all
        path = folder / name
        if not path.is_file():
            raise BounceMLError(f"{folder / 'expected.toml'}: [{name!r}]: no such file")
        try:
            records = parse_bounce(path.read_bytes(), source=name)
        except BrokenMessageError as error:
            result = EmailResult(name, want.get("system", "?"), dict.fromkeys(CHECKS, False), 0, 0)
            result.labels_total = len(want["records"])
            result.problems.append(f"refused: {error}")
            results.append(result)
            continue
        results.append(check_email(name, want, records, classifier.predict_records(records)))
    return results


def report(results: list[EmailResult], *, details: bool = False) -> str:
    """A table of the share of emails passing each check, per system and overall."""
    by_system: dict[str, list[EmailResult]] = defaultdict(list)
    for result in results:
        by_system[result.system].append(result)
    header = f"{'system':<18} {'emails':>6} " + " ".join(f"{c:>10}" for c in CHECKS)
    lines = [header + f" {'records ok':>10}", "-" * (len(header) + 11)]

    def row(name: str, group: list[EmailResult]) -> str:
        shares = " ".join(f"{sum(r.passed[c] for r in group) / len(group):>10.2f}" for c in CHECKS)
        right = sum(r.labels_right for r in group)
        total = sum(r.labels_total for r in group)
        return f"{name:<18} {len(group):>6} {shares} {right / max(total, 1):>10.2f}"

    for system in sorted(by_system, key=lambda s: (-len(by_system[s]), s)):
        lines.append(row(system, by_system[system]))
    lines.append("-" * (len(header) + 11))
    lines.append(row("all", results))
    if details:
        for result in results:
            if result.problems:
                lines.append(f"\n{result.name} ({result.system}):")
                lines.extend(f"  {problem}" for problem in result.problems)
    return "\n".join(lines)
