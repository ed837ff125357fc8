from bounce_ml.labels.rules import RuleMatch
from bounce_ml.predict.policy import decide

STRONG = RuleMatch("uu.phrases", "user_unknown", 50, ("user unknown",), 4)
WEAK = RuleMatch("uu.code", "user_unknown", 10, ("5.1.1",), 5)


def test_confident_model_decides_even_against_a_rule() -> None:
    d = decide("mailbox_full", 0.9, STRONG, threshold=0.5, rule_is_strong=True)
    assert (d.label, d.decided_by, d.confidence) == ("mailbox_full", "model", 0.9)


def test_unsure_model_gives_way_to_a_strong_rule() -> None:
    d = decide("mailbox_full", 0.3, STRONG, threshold=0.5, rule_is_strong=True)
    assert (d.label, d.decided_by, d.confidence) == ("user_unknown", "rule", 0.5)


def test_unsure_model_and_weak_rule_is_unknown() -> None:
    d = decide("mailbox_full", 0.3, WEAK, threshold=0.5, rule_is_strong=False)
    assert (d.label, d.decided_by) == ("unknown", "none")
    assert d.rule is WEAK  # still shown as evidence


def test_without_a_model_any_rule_decides() -> None:
    assert decide(None, 0.0, WEAK, threshold=1.0, rule_is_strong=False).label == "user_unknown"
    assert decide(None, 0.0, None, threshold=1.0, rule_is_strong=False).label == "unknown"


OVERRIDE = RuleMatch("cr.coremail-system-busy", "content_rejected", 90, ("550 system is busy",), 0)


def test_override_rule_beats_even_a_confident_model() -> None:
    d = decide(
        "temporary_failure", 0.97, OVERRIDE, threshold=0.5, rule_is_strong=True, rule_overrides=True
    )
    assert (d.label, d.decided_by) == ("content_rejected", "rule")
