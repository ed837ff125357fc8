from collections import Counter
from pathlib import Path

from bounce_ml import config
from bounce_ml.corpus.files import (
    LANGS,
    MIN_PER_LABEL,
    coverage,
    label_conflicts,
    load_corpus,
    read_labeled_file,
)
from bounce_ml.corpus.variants import generate_variants, render_variants
from bounce_ml.labels.taxonomy import default_taxonomy

CORPUS = load_corpus()


def test_corpus_has_no_bad_rows_and_no_text_with_two_labels() -> None:
    assert CORPUS.problems == []


def test_every_label_has_enough_distinct_wordings() -> None:
    totals = coverage(CORPUS.rows).label_totals()
    thin = {
        label: totals.get(label, 0)
        for label in default_taxonomy().trainable
        if totals.get(label, 0) < MIN_PER_LABEL
    }
    assert thin == {}


def test_generated_variants_match_their_templates() -> None:
    committed = (config.GENERATED_DIR / "variants.csv").read_text(encoding="utf-8")
    assert committed == render_variants(generate_variants(config.DATA_DIR))


def test_variants_keep_the_group_of_their_source_row() -> None:
    originals = {(r.group, r.label) for r in CORPUS.rows if "generated" not in r.file}
    generated = [r for r in CORPUS.rows if "generated" in r.file]
    assert generated and all((r.group, r.label) in originals for r in generated)


def test_conflicting_labels_are_reported_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "two.csv"
    path.write_text(
        "text,label\n550 User unknown,user_unknown\n550 user UNKNOWN,mailbox_full\n",
        encoding="utf-8",
    )
    problems = label_conflicts(read_labeled_file(path).rows)
    assert problems == [
        f"{path}:3: text labeled 'mailbox_full' is labeled 'user_unknown' at {path}:2 "
        "(same after normalisation)"
    ]


def test_bad_rows_are_reported_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "text,label,lang\nok text,user_unknown,en\n,user_unknown,en\nx,no_such_label,en\n"
        "y,mailbox_full,klingon\nz,mailbox_full,en,extra\n",
        encoding="utf-8",
    )
    problems = read_labeled_file(path).problems
    assert problems == [
        f"{path}:3: empty text",
        f"{path}:4: unknown label 'no_such_label'",
        f"{path}:5: unknown lang 'klingon' (expected one of en, zh-Hans, zh-Hant, mixed, ja, ko, "
        "ru, de, fr, es, pt, it, ar)",
        f"{path}:6: wrong number of fields",
    ]


def test_missing_column_and_bad_encoding(tmp_path: Path) -> None:
    no_label = tmp_path / "nolabel.csv"
    no_label.write_text("text,lang\nx,en\n", encoding="utf-8")
    assert read_labeled_file(no_label).problems == [
        f"{no_label}: missing column 'label' (found: text, lang)"
    ]
    latin = tmp_path / "latin.csv"
    latin.write_bytes("text,label\n邮箱已满,mailbox_full\n".encode("gbk"))
    assert "not UTF-8" in read_labeled_file(latin).problems[0]


def test_every_row_has_a_known_language_and_source() -> None:
    langs = Counter(row.lang for row in CORPUS.rows)
    assert set(langs) == set(LANGS)  # every language has rows, and no other
    assert all(row.source and row.group for row in CORPUS.rows)
