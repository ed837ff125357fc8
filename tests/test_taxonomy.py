from pathlib import Path

import pytest

from bounce_ml import config
from bounce_ml.errors import BounceMLError
from bounce_ml.labels.taxonomy import default_taxonomy, load_taxonomy

SPEC_LABELS = {
    "user_unknown",
    "mailbox_full",
    "content_rejected",
    "sender_blocked",
    "relay_denied",
    "ip_blacklisted",
    "host_unknown",
    "network_error",
    "syntax_error",
    "message_too_large",
    "rate_limited",
    "helo_rejected",
    "auth_failure",
    "mailbox_disabled",
    "temporary_failure",
    "virus_detected",
    "unknown",
}


def test_taxonomy_has_every_spec_label() -> None:
    assert set(default_taxonomy().labels) == SPEC_LABELS


def test_soft_labels_are_the_retryable_ones() -> None:
    taxonomy = default_taxonomy()
    soft = {label.id for label in taxonomy.labels.values() if label.severity == "soft"}
    assert soft == {"mailbox_full", "network_error", "rate_limited", "temporary_failure"}
    assert all(taxonomy[label].retry for label in soft)


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    text = config.TAXONOMY_PATH.read_text(encoding="utf-8").replace(old, new, 1)
    path = tmp_path / "taxonomy.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('name_zh = "收件人不存在"', 'nmae_zh = "收件人不存在"', "unknown key 'nmae_zh'"),
        (
            'severity = "hard"',
            'severity = "permanent"',
            "key 'severity' must be one of hard, soft, unknown",
        ),
        ("retry = false", 'retry = "no"', "key 'retry' must be true or false"),
        ('code = "UU"\n', "", "missing key 'code'"),
    ],
)
def test_typo_or_missing_field_is_a_clear_error(tmp_path, old, new, message) -> None:
    with pytest.raises(BounceMLError, match=message) as error:
        load_taxonomy(_broken(tmp_path, old, new))
    assert "label 'user_unknown'" in str(error.value)


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "taxonomy.toml"
    path.write_text("[[label]\n", encoding="utf-8")
    with pytest.raises(BounceMLError, match=r"taxonomy\.toml: invalid TOML"):
        load_taxonomy(path)
