"""``bounce-ml data check``: validate the corpus and print its coverage."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from bounce_ml.corpus.files import LANGS, MIN_PER_LABEL, corpus_files, coverage, load_corpus
from bounce_ml.labels.taxonomy import load_taxonomy

# Coverage targets of the corpus issue, counted on distinct normalised wordings.
MIN_TOTAL = 2_000
MIN_CHINESE_SHARE = 0.35
MIN_SOURCES = 30
REQUIRED_SOURCES = (
    "postfix",
    "exim",
    "sendmail",
    "qmail",
    "exchange",
    "gmail",
    "yahoo",
    "icloud",
    "aol",
    "zoho",
    "qq",
    "netease",
    "coremail",
    "sina",
    "sohu",
    "aliyun",
    "spamhaus",
    "spamcop",
    "barracuda",
)


def check_report(data_dir: Path) -> tuple[str, bool]:
    """The validation problems and coverage tables as text, and whether every target is met."""
    taxonomy = load_taxonomy(data_dir / "taxonomy.toml")
    corpus = load_corpus(corpus_files(data_dir), taxonomy)
    cover = coverage(corpus.rows)
    hand = coverage(row for row in corpus.rows if "generated" not in Path(row.file).parts)
    totals = cover.label_totals()
    lines = [f"{len(corpus.rows)} rows in {len(corpus_files(data_dir))} files", ""]
    lines += [f"problem: {problem}" for problem in corpus.problems]

    header = f"{'label':<18}" + "".join(f"{lang:>9}" for lang in LANGS) + f"{'total':>8}"
    lines += ["distinct wordings per label x language", header, "-" * len(header)]
    failures = []
    for label in taxonomy.trainable:
        langs = cover.by_label_lang.get(label, Counter())
        total = totals.get(label, 0)
        mark = "" if total >= MIN_PER_LABEL else f"  < {MIN_PER_LABEL}"
        if mark:
            failures.append(f"label {label} has {total} distinct wordings (< {MIN_PER_LABEL})")
        lines.append(
            f"{label:<18}"
            + "".join(f"{langs.get(lang, 0):>9}" for lang in LANGS)
            + f"{total:>8}{mark}"
        )
    lines.append(f"{'all':<18}" + " " * 9 * len(LANGS) + f"{cover.total:>8}")
    lines += [
        "",
        f"Chinese (zh-Hans, zh-Hant, mixed): {cover.chinese} of {cover.total} "
        f"= {cover.chinese_share:.1%}",
        f"hand-written rows alone (without data/generated/): {hand.total} distinct wordings, "
        f"{hand.chinese_share:.1%} Chinese",
        "",
        f"distinct wordings per source ({len(cover.by_source)} sources)",
    ]
    lines += [f"  {source:<22}{n:>6}" for source, n in sorted(cover.by_source.items())]

    if cover.total < MIN_TOTAL:
        failures.append(f"{cover.total} distinct wordings in all (< {MIN_TOTAL})")
    if cover.chinese_share < MIN_CHINESE_SHARE:
        failures.append(f"Chinese share {cover.chinese_share:.1%} (< {MIN_CHINESE_SHARE:.0%})")
    if len(cover.by_source) < MIN_SOURCES:
        failures.append(f"{len(cover.by_source)} sources (< {MIN_SOURCES})")
    missing = [s for s in REQUIRED_SOURCES if s not in cover.by_source]
    if missing:
        failures.append(f"no rows from: {', '.join(missing)}")
    failures += [f"{len(corpus.problems)} bad rows"] if corpus.problems else []
    lines += [""] + [f"FAIL: {failure}" for failure in failures]
    lines.append("OK: corpus is valid and meets every coverage target" if not failures else "")
    return "\n".join(lines).rstrip(), not failures
