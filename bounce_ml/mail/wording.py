"""The wording of bounce emails the email reader looks for, read from ``data/mail_text.toml``.

Each key of the file is a list of regular expressions; they are joined into one pattern per
key, matched case-insensitively. The file's header says what each key is for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from bounce_ml import config
from bounce_ml.errors import BounceMLError
from bounce_ml.tomlfile import Key, check_table, read_toml

_KEYS = (
    "bounce_subject",
    "delay_subject",
    "delay_text",
    "auto_reply_subject",
    "boilerplate",
    "recipient_sentence",
    "recipient_label",
    "original_marker",
    "uninformative_diagnostic",
)


@dataclass(frozen=True)
class Wording:
    """One compiled pattern per key of ``data/mail_text.toml``.

    ``boilerplate``, ``original_marker`` and ``uninformative_diagnostic`` are meant for
    ``fullmatch`` on a stripped line; ``recipient_sentence`` and ``recipient_label`` are kept as
    pattern source, to be built into the recipient patterns.
    """

    bounce_subject: re.Pattern[str]
    delay_subject: re.Pattern[str]
    delay_text: re.Pattern[str]
    auto_reply_subject: re.Pattern[str]
    boilerplate: re.Pattern[str]
    recipient_sentence: str
    recipient_label: str
    original_marker: re.Pattern[str]
    uninformative_diagnostic: re.Pattern[str]


def _joined(patterns: list[str], key: str, path: Path) -> str:
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise BounceMLError(f"{path}: key {key!r}: bad pattern {pattern!r} ({exc})") from None
    return "|".join(f"(?:{pattern})" for pattern in patterns)


def load_wording(path: Path | None = None) -> Wording:
    """Read and validate a wording file (default: ``data/mail_text.toml``).

    Raises
    ------
    BounceMLError
        One line naming the file and the key when a key is missing or a pattern is bad.
    """
    path = path or config.MAIL_TEXT_PATH
    raw = check_table(read_toml(path), {key: Key(list, items=str) for key in _KEYS}, str(path))
    sources = {key: _joined(raw[key], key, path) for key in _KEYS}
    sources_only = ("recipient_sentence", "recipient_label")
    compiled = {
        key: re.compile(source, re.IGNORECASE)
        for key, source in sources.items()
        if key not in sources_only
    }
    return Wording(
        recipient_sentence=sources["recipient_sentence"],
        recipient_label=sources["recipient_label"],
        **compiled,
    )


@cache
def default_wording() -> Wording:
    """The project's wording file, read once per process."""
    return load_wording()
