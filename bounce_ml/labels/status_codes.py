"""What SMTP status information says about a failure, read from ``data/status_codes.toml``.

A record's enhanced status code (RFC 3463), SMTP reply code and refused SMTP command are
looked up here; the result (a `CodeHint`) is one input of the decision policy next to the
text (``bounce_ml/predict/policy.py``). The data file's header explains the tables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any, Literal

from bounce_ml import config
from bounce_ml.errors import BounceMLError
from bounce_ml.labels.taxonomy import UNKNOWN, Taxonomy, default_taxonomy
from bounce_ml.tomlfile import Key, check_table, read_toml

Trust = Literal["narrow", "fallback"]
TABLES = ("status", "reply", "command")
COMMANDS = ("CONNECT", "HELO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA")

_ENHANCED = re.compile(r"^([245])\.(\d{1,3}\.\d{1,3})$")
_STATUS_KEY = re.compile(r"^[45X]\.\d{1,3}\.\d{1,3}$")
_REPLY_KEY = re.compile(r"^[45]\d\d$")


@dataclass(frozen=True, slots=True)
class CodeEntry:
    """One row of the table: a code, the label it points to and how far it is trusted."""

    table: str  # "status", "reply" or "command"
    key: str
    label: str
    labels: frozenset[str]  # label and the other labels the code is consistent with
    trust: Trust
    strength: float
    meaning: str


@dataclass(frozen=True, slots=True)
class CodeHint:
    """What a record's codes say, for the decision policy.

    Attributes
    ----------
    entry : CodeEntry
        The most specific entry that applies (status, else reply code, else command).
    label : str
        The label when the text says nothing useful: the entry's label, or the refused
        command's label when a broad status code (5.7.1) allows it.
    code : str
        The record's code the entry was found for (``5.2.2``, ``552``, ``RCPT``).
    """

    entry: CodeEntry
    label: str
    code: str

    @property
    def evidence(self) -> str:
        """How the hint reads in a prediction's evidence: ``status 5.2.2 (Mailbox full)``."""
        return f"{self.entry.table} {self.code} ({self.entry.meaning})"


@dataclass(frozen=True)
class StatusTable:
    """The three tables of ``data/status_codes.toml`` and the transcript patterns."""

    status: dict[str, CodeEntry]
    reply: dict[str, CodeEntry]
    command: dict[str, CodeEntry]
    consequences: tuple[re.Pattern[str], ...]
    consequence_codes: tuple[str, ...] = ()

    def hint(
        self, status: str | None, reply_code: str | None, command: str | None
    ) -> CodeHint | None:
        """The hint for a record's codes, or None when no entry applies.

        ``status`` may be an enhanced code or, for records that have no enhanced code, a
        reply code; a success code (2.x.x) gives no hint.
        """
        enhanced = _ENHANCED.match(status or "")
        if status and _REPLY_KEY.match(status) and reply_code is None:
            reply_code = status
        command_entry = self.command.get(command or "")
        if enhanced:
            klass, rest = enhanced.groups()
            entry = self.status.get(status or "") or self.status.get(f"X.{rest}")
            if klass == "2":
                return None
            if entry is not None:
                label = entry.label
                if (
                    entry.trust == "fallback"
                    and command_entry is not None
                    and command_entry.label in entry.labels
                ):
                    label = command_entry.label
                return CodeHint(entry, label, status or "")
        if reply_code and reply_code in self.reply:
            return CodeHint(self.reply[reply_code], self.reply[reply_code].label, reply_code)
        if command_entry is not None:
            return CodeHint(command_entry, command_entry.label, command or "")
        return None

    @cached_property
    def _any_code(self) -> re.Pattern[str]:
        return re.compile("|".join(map(re.escape, self.consequence_codes)))

    def is_consequence(self, text: str) -> re.Match[str] | None:
        """The first reply in ``text`` that is a consequence of an earlier rejection
        (``503 need RCPT command``), if any; the patterns are matched in lower case.

        Every pattern starts with one of ``consequence_codes`` (the data file says so), so
        they are tried only where a code starts: anchored matches there, instead of three
        searches through every line of a log that holds a 554.
        """
        if not self.consequence_codes or not self._any_code.search(text):
            return None
        lower = text.lower()
        # Searched again one character on from each code found, so that overlapping codes
        # are all tried; a search lets `re` skip ahead to the next candidate in C, where a
        # look-ahead pattern would try every position in Python's matcher, ~10x slower.
        code = self._any_code.search(lower)
        while code is not None:
            for pattern in self.consequences:
                if match := pattern.match(lower, code.start()):
                    return match
            code = self._any_code.search(lower, code.start() + 1)
        return None


_ENTRY_KEYS = {
    "label": Key(str),
    "also": Key(list, required=False, items=str),
    "trust": Key(str, choices=("narrow", "fallback")),
    "meaning": Key(str),
}
_DOCUMENT_KEYS = {
    "strength": Key(dict),
    "transcript": Key(dict, required=False),
    **{table: Key(dict, required=False) for table in TABLES},
}
_STRENGTH_KEYS = {table: Key(float) for table in TABLES}
_TRANSCRIPT_KEYS = {"codes": Key(list, items=str), "consequences": Key(list, items=str)}


def _entry(
    table: str, key: str, raw: Any, strength: float, path: Path, taxonomy: Taxonomy
) -> CodeEntry:
    where = f"{path}: [{table}.{key!r}]"
    if not _valid_key(table, key):
        raise BounceMLError(f"{where}: not a valid {table} key")
    entry = check_table(raw, _ENTRY_KEYS, where)
    labels = [entry["label"], *entry.get("also", [])]
    for label in labels:
        if label not in taxonomy or label == UNKNOWN:
            raise BounceMLError(f"{where}: {label!r} is not a label of the taxonomy")
    return CodeEntry(
        table, key, entry["label"], frozenset(labels), entry["trust"], strength, entry["meaning"]
    )


def _valid_key(table: str, key: str) -> bool:
    if table == "status":
        return _STATUS_KEY.match(key) is not None
    if table == "reply":
        return _REPLY_KEY.match(key) is not None
    return key in COMMANDS


def load_status_table(path: Path | None = None, taxonomy: Taxonomy | None = None) -> StatusTable:
    """Read and validate a status-code table (default: ``data/status_codes.toml``).

    Raises
    ------
    BounceMLError
        One line naming the file, the table and the key when anything is wrong.
    """
    path = path or config.STATUS_CODES_PATH
    taxonomy = taxonomy or default_taxonomy()
    raw = check_table(read_toml(path), _DOCUMENT_KEYS, str(path))
    strengths = check_table(raw["strength"], _STRENGTH_KEYS, f"{path}: [strength]")
    for table, value in strengths.items():
        if not 0 < value < 1:
            raise BounceMLError(f"{path}: [strength] key {table!r} must be between 0 and 1")
    transcript = check_table(
        raw.get("transcript", {"codes": [], "consequences": []}),
        _TRANSCRIPT_KEYS,
        f"{path}: [transcript]",
    )
    compiled = []
    starts_with_a_code = _code_start_check(transcript["codes"])
    for pattern in transcript["consequences"]:
        try:
            compiled.append(re.compile(pattern))
        except re.error as exc:
            raise BounceMLError(f"{path}: [transcript] bad pattern {pattern!r} ({exc})") from None
        if not starts_with_a_code.match(pattern):
            raise BounceMLError(
                f"{path}: [transcript] pattern {pattern!r} must start with one of the codes "
                f"({', '.join(transcript['codes']) or 'none given'}), after an optional \\b or "
                "as a group (?:a|b) of them: it is tried only where a code starts"
            )
    tables = {
        table: {
            key: _entry(table, key, value, strengths[table], path, taxonomy)
            for key, value in raw.get(table, {}).items()
        }
        for table in TABLES
    }
    return StatusTable(
        tables["status"],
        tables["reply"],
        tables["command"],
        tuple(compiled),
        tuple(transcript["codes"]),
    )


def _code_start_check(codes: list[str]) -> re.Pattern[str]:
    """What a consequence pattern's text must begin with: an optional ``\\b``, then one of
    ``codes`` or a group of alternatives that are all codes (`StatusTable.is_consequence`
    tries the patterns only where a code starts)."""
    code = "|".join(map(re.escape, codes)) or "(?!)"
    return re.compile(rf"(?:\\b)?(?:(?:{code})|\(\?:(?:{code})(?:\|(?:{code}))*\))")


@cache
def default_status_table() -> StatusTable:
    """The project's status-code table, read once per process."""
    return load_status_table()
