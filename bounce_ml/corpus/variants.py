"""Deterministic variants of corpus rows in the shapes real bounces wrap them in.

Reads ``data/corpus/<label>.csv`` (not the seed) and ``data/templates/shapes.toml``
and writes ``data/generated/variants.csv``. Half the rows (chosen by a hash of the
text, so the choice is stable) get one shape each, also chosen by hash; the
addresses and hosts filled in come from a generator seeded the same way.
``tests/test_corpus.py`` checks that the committed file matches a fresh run.
"""

from __future__ import annotations

import csv
import hashlib
import io
import random
from pathlib import Path

from bounce_ml.corpus.files import CHINESE_LANGS, COLUMNS, LabeledText, read_labeled_file
from bounce_ml.tomlfile import Key, check_tables, read_toml

OUTPUT_NAME = "variants.csv"
_DOMAINS = ("example.com", "example.net", "example.org", "mail.example.cn", "corp.example.com.cn")
_NAMES = ("alice", "bob", "chen.wei", "li_na", "zhang3", "m.garcia", "info", "sales", "wang.fang")


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def _fits(shape: dict[str, str], row: LabeledText) -> bool:
    chinese = row.lang in CHINESE_LANGS
    return shape["lang"] == "any" or (shape["lang"] == "zh") == chinese


def _wrapped_lang(shape: dict[str, str], row: LabeledText) -> str:
    return "mixed" if shape["lang"] == "zh" and row.lang == "en" else row.lang


def _fill(shape: dict[str, str], row: LabeledText) -> str:
    rng = random.Random(_digest(row.text))
    domain = rng.choice(_DOMAINS)
    values = {
        "text": row.text,
        "rcpt": f"{rng.choice(_NAMES)}@{domain}",
        "sender": f"{rng.choice(_NAMES)}@example.org",
        "host": f"mx{rng.randint(1, 9)}.{domain}",
        "ip": f"203.0.113.{rng.randint(1, 254)}",
    }
    return shape["template"].format(**values)


_SHAPE_KEYS = {"id": Key(str), "lang": Key(str, choices=("en", "zh", "any")), "template": Key(str)}


def load_shapes(path: Path) -> list[dict[str, str]]:
    """The ``[[shape]]`` tables of a template file, checked."""
    return check_tables(read_toml(path), "shape", _SHAPE_KEYS, path)


def generate_variants(data_dir: Path) -> list[dict[str, str]]:
    """The generated rows, in a stable order."""
    shapes = load_shapes(data_dir / "templates" / "shapes.toml")
    rows: list[dict[str, str]] = []
    for path in sorted((data_dir / "corpus").glob("*.csv")):
        if path.name == "seed.csv":
            continue
        corpus = read_labeled_file(path)
        corpus.raise_problems()
        for row in corpus.rows:
            digest = _digest(row.group + "\0" + row.text)
            fitting = [shape for shape in shapes if _fits(shape, row)]
            if digest % 2 or not fitting:
                continue
            shape = fitting[(digest >> 1) % len(fitting)]
            rows.append(
                {
                    "text": _fill(shape, row),
                    "label": row.label,
                    "lang": _wrapped_lang(shape, row),
                    "source": row.source,
                    "group": row.group,
                }
            )
    return rows


def render_variants(rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def write_variants(data_dir: Path) -> tuple[Path, int]:
    """Regenerate ``data/generated/variants.csv``; returns its path and row count."""
    rows = generate_variants(data_dir)
    path = data_dir / "generated" / OUTPUT_NAME
    path.parent.mkdir(exist_ok=True)
    path.write_text(render_variants(rows), encoding="utf-8")
    return path, len(rows)
