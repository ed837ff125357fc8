from pathlib import Path

import pytest

from bounce_ml.errors import BounceMLError
from bounce_ml.labels.rules import default_rules, load_rules
from bounce_ml.text.normalize import normalize_text

# One canonical positive per label (Sisimai-style table test).
CANONICAL = {
    "user_unknown": "550 5.1.1 <x@example.com>: Recipient address rejected: User unknown",
    "mailbox_full": "552 5.2.2 Mailbox full: quota exceeded",
    "content_rejected": "554 5.7.1 Message rejected as spam by Content Filtering",
    "sender_blocked": "550 Mail originating from that domain is not welcome here",
    "relay_denied": "554 5.7.1 <x@example.org>: Relay access denied",
    "ip_blacklisted": "554 Service unavailable; Client host [192.0.2.1] blocked using bl.spamcop",
    "host_unknown": "Host or domain name not found. Name service error for name=example.invalid",
    "network_error": "connect to mx.example.net[192.0.2.7]:25: Connection timed out",
    "syntax_error": "501 5.5.4 Syntax error in parameters or arguments",
    "message_too_large": "552 5.3.4 Message size exceeds fixed limit",
    "rate_limited": "421 4.7.0 Too many connections from your IP, slow down",
    "helo_rejected": "504 5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname",
    "auth_failure": "550 5.7.26 This message does not pass DMARC authentication checks",
    "mailbox_disabled": "550 5.2.1 The email account that you tried to reach is disabled",
    "temporary_failure": "451 4.7.1 Greylisted, please try again in 5 minutes",
    "virus_detected": "554 5.7.0 Message rejected: virus found (Eicar-Test-Signature)",
}


@pytest.mark.parametrize(("label", "text"), CANONICAL.items())
def test_canonical_text_of_each_label(label: str, text: str) -> None:
    match = default_rules().best(normalize_text(text))
    assert match is not None and match.label == label


def test_every_trainable_label_has_a_canonical_case() -> None:
    from bounce_ml.labels.taxonomy import default_taxonomy

    assert set(CANONICAL) == set(default_taxonomy().trainable)


@pytest.mark.parametrize(
    "text",
    [
        "Your order has shipped",
        "Meeting moved to 3pm",
        "352 mailbox is stuffed with joy",
        "谢谢您的来信",
    ],
)
def test_near_misses_stay_unmatched(text: str) -> None:
    assert default_rules().best(normalize_text(text)) is None


def test_match_reports_rule_and_words() -> None:
    match = default_rules().best(normalize_text("550 5.1.1 user unknown"))
    assert match.rule_id == "uu.phrases"
    assert match.words == ("user unknown",)


def test_coremail_system_busy_is_content_not_load() -> None:
    # priority 90 override beats the generic "system is busy" (temporary_failure, 50)
    matches = default_rules().matches(normalize_text("550 CoremailSys:System is busy."))
    assert [m.label for m in matches[:2]] == ["content_rejected", "temporary_failure"]


def _rules_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text("strong_priority = 50\noverride_priority = 90\n" + body, encoding="utf-8")
    return path


def test_conflicts_priority_then_longest_then_file_order(tmp_path: Path) -> None:
    rules = load_rules(
        _rules_file(
            tmp_path,
            """
[[rule]]
id = "a"
label = "user_unknown"
priority = 50
patterns = ["user"]
[[rule]]
id = "b"
label = "mailbox_full"
priority = 50
patterns = ["user is full"]
[[rule]]
id = "c"
label = "mailbox_disabled"
priority = 50
patterns = ["is full"]
[[rule]]
id = "d"
label = "host_unknown"
priority = 10
patterns = ["user is full now"]
""",
        )
    )
    text = "user is full now"
    assert [m.rule_id for m in rules.matches(text)] == ["b", "c", "a", "d"]
    # equal priority and equal length: the earlier rule wins
    assert rules.best("user xx").rule_id == "a"
    assert rules.is_strong(rules.best(text)) and not rules.is_strong(rules.matches(text)[-1])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[[rule]]\nid = "x"\nlabel = "nope"\npriority = 1\npatterns = ["a"]\n', "label 'nope'"),
        (
            '[[rule]]\nid = "x"\nlabel = "user_unknown"\npriority = 1\npatterns = ["(a"]\n',
            "bad pattern",
        ),
        ('[[rule]]\nid = "x"\nlabel = "user_unknown"\npatterns = ["a"]\n', "'priority'"),
        (
            '[[rule]]\nid = "x"\nlabel = "user_unknown"\npriority = 1\npatterns = ["a"]\nprio = 2\n',  # noqa: E501
            "'prio'",
        ),
    ],
)
def test_bad_rules_file_names_the_rule(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(BounceMLError, match=message) as error:
        load_rules(_rules_file(tmp_path, body))
    assert "rule 'x'" in str(error.value)


def test_the_one_scan_gate_changes_no_match_on_the_corpus() -> None:
    from bounce_ml.corpus.files import load_corpus

    gated = default_rules()
    ungated = load_rules()  # the same rules, told that no floor has a gate
    ungated._gates.update({0: None, gated.override_priority: None})
    for text in load_corpus().texts[::3]:
        key = normalize_text(text)
        for floor in (0, gated.override_priority):
            assert gated.matches(key, floor) == ungated.matches(key, floor), key


def _rule(rule_id: str, label: str, pattern: str) -> str:
    """One [[rule]] table of priority 50, its pattern a TOML literal string (no escapes)."""
    return (
        f"[[rule]]\nid = '{rule_id}'\nlabel = '{label}'\npriority = 50\npatterns = ['{pattern}']\n"
    )


_REFERRING_BACK = _rule("grouped", "user_unknown", "(nobody) here") + _rule(
    "doubled", "syntax_error", r"(bad) (\w+) \2"
)
_SHARING_A_NAME = _rule("named-1", "user_unknown", "(?P<w>nobody) here") + _rule(
    "named-2", "mailbox_full", "(?P<w>full) box"
)


def test_rules_whose_patterns_refer_back_still_fire(tmp_path: Path) -> None:
    # Joined into one alternation, \2 would name the group "(bad)", not "(\w+)".
    rules = load_rules(_rules_file(tmp_path, _REFERRING_BACK))
    assert rules.best("bad the the command").rule_id == "doubled"
    assert rules.best("bad the cat") is None
    assert rules.best("nobody here").rule_id == "grouped"


def test_rules_that_share_a_group_name_still_fire(tmp_path: Path) -> None:
    # One alternation of these would not compile: the name "w" twice.
    rules = load_rules(_rules_file(tmp_path, _SHARING_A_NAME))
    assert rules.best("nobody here").rule_id == "named-1"
    assert rules.best("a full box").rule_id == "named-2"
