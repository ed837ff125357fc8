"""Every example of the seed FAQ (kept verbatim in data/corpus/seed.csv) through the rules alone."""

import pytest

from bounce_ml import config
from bounce_ml.corpus.files import read_labeled_file
from bounce_ml.labels.rules import default_rules
from bounce_ml.text.normalize import normalize_text

SEED = read_labeled_file(config.CORPUS_DIR / "seed.csv")


def test_seed_file_is_clean_and_complete() -> None:
    assert SEED.problems == []
    assert len(SEED.rows) >= 35
    assert {row.source for row in SEED.rows} == {"seed"}


@pytest.mark.parametrize("row", SEED.rows, ids=lambda row: f"line{row.line}")
def test_rules_alone_give_the_faq_category(row) -> None:
    match = default_rules().best(normalize_text(row.text))
    assert match is not None, row.text
    assert match.label == row.label, (row.text, match)
