"""Reading the project's TOML data files with errors that name the file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from bounce_ml.errors import BounceMLError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on Python 3.10
    import tomli as tomllib


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file, turning a missing file or a syntax error into a BounceMLError."""
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise BounceMLError(f"{path}: file not found") from None
    except OSError as exc:
        raise BounceMLError(f"{path}: cannot read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise BounceMLError(f"{path}: invalid TOML ({exc})") from None
