"""Precedence on the real data/rules.toml: when several rules fire, which one wins.

Each row is a text on which rules of different priority (or equal priority and
different matched length) fire; the expected list is every firing rule, best
first. The file header of data/rules.toml states the order: priority, then the
longest matched text, then file order (KumoMTA's `test_rule_order`, on our file).
"""

from __future__ import annotations

import pytest

from bounce_ml.labels.rules import default_rules
from bounce_ml.text.normalize import normalize_text

PRECEDENCE = [
    # an override (90) beats the generic reading of its words
    (
        "550 CoremailSys:System is busy, try again later",
        ["cr.coremail-system-busy", "tf.phrases", "tf.code"],
    ),
    # a block list's name (70) beats weak and ordinary phrases
    (
        "554 5.7.1 Service unavailable; Client host [192.0.2.9] blocked using zen.spamhaus.org",
        ["ib.lists", "tf.phrases"],
    ),
    # words (60) beat a status code that says otherwise (10)
    ("552 5.2.2 Message size exceeds fixed maximum message size", ["tl.phrases", "mf.code"]),
    ("550 5.2.1 No such user here", ["uu.phrases", "md.code"]),
    # a specific phrase (70) beats an ordinary one (50)
    (
        "421 4.7.0 Too many connections from your IP, please try again later",
        ["rl.phrases", "tf.phrases", "tf.code"],
    ),
    ("550 5.7.1 Relaying denied: user unknown", ["rd.phrases", "uu.phrases"]),
    (
        "554 5.7.1 Message rejected: virus found in attachment, message blocked",
        ["vd.phrases", "cr.phrases", "cr.blocked"],
    ),
    # equal priority (50): the longer matched text wins
    (
        "452 4.2.2 Mailbox full; greylisted, try again later",
        ["tf.phrases", "mf.phrases", "mf.code", "tf.code"],
    ),
]


@pytest.mark.parametrize(("text", "expected"), PRECEDENCE)
def test_rules_fire_in_the_documented_order(text: str, expected: list[str]) -> None:
    assert [match.rule_id for match in default_rules().matches(normalize_text(text))] == expected
