"""Where bounce-ml finds its data files and models.

Paths are anchored on this file, as in cookiecutter-data-science. In a checkout
the top-level ``data/`` and ``models/`` are used; an installed wheel carries copies
of the taxonomy, the rules and the trained model under ``bounce_ml/_packaged/``.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJ_ROOT = PACKAGE_DIR.parent
_PACKAGED = PACKAGE_DIR / "_packaged"


def _first_existing(*candidates: Path) -> Path:
    """Return the first candidate that exists, else the first (for a clear error later)."""
    for candidate in candidates:
        if candidate.exists():
            return candidate
    return candidates[0]


DATA_DIR = PROJ_ROOT / "data"
CORPUS_DIR = DATA_DIR / "corpus"
GENERATED_DIR = DATA_DIR / "generated"
TAXONOMY_PATH = _first_existing(DATA_DIR / "taxonomy.toml", _PACKAGED / "data" / "taxonomy.toml")
NORMALIZE_PATH = _first_existing(DATA_DIR / "normalize.toml", _PACKAGED / "data" / "normalize.toml")
PARAMS_PATH = DATA_DIR / "model.toml"
RULES_PATH = _first_existing(DATA_DIR / "rules.toml", _PACKAGED / "data" / "rules.toml")
MAIL_TEXT_PATH = _first_existing(DATA_DIR / "mail_text.toml", _PACKAGED / "data" / "mail_text.toml")
STATUS_CODES_PATH = _first_existing(
    DATA_DIR / "status_codes.toml", _PACKAGED / "data" / "status_codes.toml"
)
MODELS_DIR = _first_existing(PROJ_ROOT / "models", _PACKAGED / "models")
# Generated on purpose by `make evaluate` and `make bench`, and tracked: see the README.
REPORTS_DIR = PROJ_ROOT / "reports"
# A source checkout has the corpus beside the package; an installed wheel has not, and
# the commands that write (train, evaluate, data generate) must then be told where.
IN_CHECKOUT = (PROJ_ROOT / "pyproject.toml").is_file() and CORPUS_DIR.is_dir()
