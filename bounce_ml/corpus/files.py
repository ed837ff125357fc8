"""Reading, validating and measuring the labeled corpus in ``data/``.

Every row is read with its file and line number so a bad one can be reported
exactly; ``check_corpus`` collects all problems instead of stopping at the first.
"""

from __future__ import annotations

import csv
import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bounce_ml import config
from bounce_ml.errors import BounceMLError
from bounce_ml.labels.taxonomy import UNKNOWN, Taxonomy, default_taxonomy
from bounce_ml.text.normalize import normalize_text

COLUMNS = ("text", "label", "lang", "source", "group")
REQUIRED_COLUMNS = ("text", "label")
LANGS = ("en", "zh-Hans", "zh-Hant", "mixed", "ja", "ko", "ru", "de", "fr", "es", "pt", "it", "ar")
CHINESE_LANGS = ("zh-Hans", "zh-Hant", "mixed")
MIN_PER_LABEL = 60
# Data files that training never reads: changing them does not call for a new model.
_NOT_MODEL_INPUTS = frozenset({"status_codes.toml", "mail_text.toml"})


@dataclass(frozen=True, slots=True)
class LabeledText:
    """One labeled bounce wording and where it came from."""

    text: str
    label: str
    lang: str
    source: str
    group: str
    file: str
    line: int


@dataclass
class Corpus:
    """Rows of one or more labeled files, plus every problem found reading them."""

    rows: list[LabeledText] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def texts(self) -> list[str]:
        return [row.text for row in self.rows]

    @property
    def labels(self) -> list[str]:
        return [row.label for row in self.rows]

    @property
    def groups(self) -> list[str]:
        return [row.group for row in self.rows]

    def extend(self, other: Corpus) -> None:
        self.rows.extend(other.rows)
        self.problems.extend(other.problems)

    def raise_problems(self) -> None:
        """Refuse the corpus with its first problem (and a count of the rest)."""
        if self.problems:
            more = (
                f" (and {len(self.problems) - 1} more problems)" if len(self.problems) > 1 else ""
            )
            raise BounceMLError(self.problems[0] + more)


def read_labeled_file(path: Path, taxonomy: Taxonomy | None = None) -> Corpus:
    """Read one labeled CSV; ``text`` and ``label`` are required, other columns get defaults.

    Missing ``group`` defaults to ``file:line`` (each row its own template),
    missing ``lang`` to ``en``, missing ``source`` to ``user``.
    """
    taxonomy = taxonomy or default_taxonomy()
    corpus = Corpus()
    try:
        # utf-8-sig: spreadsheet programs save "CSV UTF-8" with a byte order mark.
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            missing = [c for c in REQUIRED_COLUMNS if c not in header]
            if missing:
                corpus.problems.append(
                    f"{path}: missing column {missing[0]!r} (found: {', '.join(header) or 'none'})"
                )
                return corpus
            for record in reader:
                line = reader.line_num
                problem = _row_problem(record, taxonomy)
                if problem:
                    corpus.problems.append(f"{path}:{line}: {problem}")
                    continue
                corpus.rows.append(
                    LabeledText(
                        text=record["text"],
                        label=record["label"].strip(),
                        lang=(record.get("lang") or "en").strip(),
                        source=(record.get("source") or "user").strip(),
                        group=(record.get("group") or f"{path.name}:{line}").strip(),
                        file=str(path),
                        line=line,
                    )
                )
            if not corpus.rows and not corpus.problems:
                corpus.problems.append(f"{path}: no rows after the header: nothing to learn from")
    except FileNotFoundError:
        corpus.problems.append(f"{path}: file not found")
    except UnicodeDecodeError as exc:
        corpus.problems.append(f"{path}: not UTF-8 (byte {exc.start}: {exc.reason})")
    except csv.Error as exc:
        corpus.problems.append(f"{path}: malformed CSV ({exc})")
    except OSError as exc:
        corpus.problems.append(f"{path}: cannot read ({exc.strerror})")
    return corpus


def _row_problem(record: dict[str, str | None], taxonomy: Taxonomy) -> str | None:
    if None in record or any(value is None for value in record.values()):
        return "wrong number of fields"
    if not (record["text"] or "").strip():
        return "empty text"
    label = (record["label"] or "").strip()
    if label not in taxonomy or label == UNKNOWN:
        return f"unknown label {label!r}"
    lang = record.get("lang")
    if lang is not None and lang.strip() and lang.strip() not in LANGS:
        return f"unknown lang {lang!r} (expected one of {', '.join(LANGS)})"
    return None


def corpus_files(data_dir: Path | None = None) -> list[Path]:
    """The project's labeled CSV files: hand-written rows, then generated variants."""
    data_dir = data_dir or config.DATA_DIR
    return sorted((data_dir / "corpus").glob("*.csv")) + sorted(
        (data_dir / "generated").glob("*.csv")
    )


def load_corpus(files: Iterable[Path] | None = None, taxonomy: Taxonomy | None = None) -> Corpus:
    """Read the given files (default: the project's corpus) and check for conflicting labels."""
    corpus = Corpus()
    for path in files if files is not None else corpus_files():
        corpus.extend(read_labeled_file(path, taxonomy))
    corpus.problems.extend(label_conflicts(corpus.rows))
    return corpus


def label_conflicts(rows: Iterable[LabeledText]) -> list[str]:
    """One problem per normalised text that carries two different labels."""
    first_seen: dict[str, LabeledText] = {}
    problems = []
    for row in rows:
        key = normalize_text(row.text)
        seen = first_seen.setdefault(key, row)
        if seen.label != row.label:
            problems.append(
                f"{row.file}:{row.line}: text labeled {row.label!r} is labeled {seen.label!r} "
                f"at {seen.file}:{seen.line} (same after normalisation)"
            )
    return problems


def data_hash(data_dir: Path | None = None) -> str:
    """SHA-256 over every data file that shapes the model (all of ``data/`` but READMEs and
    the status-code table and email wording, which only prediction reads)."""
    data_dir = data_dir or config.DATA_DIR
    digest = hashlib.sha256()
    files = sorted(
        path
        for path in data_dir.rglob("*")
        if path.is_file() and path.suffix != ".md" and path.name not in _NOT_MODEL_INPUTS
    )
    for path in files:
        digest.update(path.relative_to(data_dir).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass
class Coverage:
    """Distinct wordings (after normalisation) per label x language and per source."""

    by_label_lang: dict[str, Counter[str]]
    by_source: Counter[str]
    total: int
    chinese: int

    @property
    def chinese_share(self) -> float:
        return self.chinese / self.total if self.total else 0.0

    def label_totals(self) -> dict[str, int]:
        return {label: sum(langs.values()) for label, langs in self.by_label_lang.items()}


def coverage(rows: Iterable[LabeledText]) -> Coverage:
    """Count distinct wordings; a wording's language and source are those of its first row."""
    seen: set[str] = set()
    by_label_lang: dict[str, Counter[str]] = defaultdict(Counter)
    by_source: Counter[str] = Counter()
    chinese = 0
    for row in rows:
        key = normalize_text(row.text)
        if key in seen:
            continue
        seen.add(key)
        by_label_lang[row.label][row.lang] += 1
        by_source[row.source] += 1
        chinese += row.lang in CHINESE_LANGS
    return Coverage(dict(by_label_lang), by_source, len(seen), chinese)
