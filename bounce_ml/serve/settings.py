"""The service's settings, read from environment variables.

``bounce-ml serve`` turns its options into these variables before it starts
uvicorn, so every worker process builds the same settings (uvicorn starts
workers by importing the app factory; it cannot hand them Python objects).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bounce_ml.errors import BounceMLError
from bounce_ml.feedback.store import ENV_VARIABLE as FEEDBACK_VARIABLE
from bounce_ml.feedback.store import default_feedback_path

MODEL_VARIABLE = "BOUNCE_ML_MODEL"
API_KEY_VARIABLE = "BOUNCE_ML_API_KEY"
API_KEY_FILE_VARIABLE = "BOUNCE_ML_API_KEY_FILE"
MAX_BODY_VARIABLE = "BOUNCE_ML_MAX_BODY_BYTES"
MAX_BATCH_VARIABLE = "BOUNCE_ML_MAX_BATCH"
WORKERS_VARIABLE = "BOUNCE_ML_WORKERS"

DEFAULT_MAX_BODY_BYTES = 5 << 20  # a bounce with its returned original fits easily
DEFAULT_MAX_BATCH = 1_000


@dataclass(frozen=True, slots=True)
class Settings:
    """What one service process needs.

    Attributes
    ----------
    model_dir : the trained model to serve; None for the packaged one.
    api_key : the bearer token clients must send; None turns authentication off.
    max_body_bytes : larger request bodies get 413.
    max_batch : the most texts, records or messages in one request.
    feedback_path : the feedback store (labels people give, the review queue).
    workers : how many worker processes uvicorn runs (a reload must reach them all).
    """

    feedback_path: Path
    model_dir: Path | None = None
    api_key: str | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_batch: int = DEFAULT_MAX_BATCH
    workers: int = 1

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """Settings from the ``BOUNCE_ML_*`` variables; a bad value is a BounceMLError."""
        model = environ.get(MODEL_VARIABLE)
        feedback = environ.get(FEEDBACK_VARIABLE)
        return cls(
            feedback_path=Path(feedback).expanduser() if feedback else default_feedback_path(),
            model_dir=Path(model) if model else None,
            api_key=_api_key(environ),
            max_body_bytes=_positive_int(environ, MAX_BODY_VARIABLE, DEFAULT_MAX_BODY_BYTES),
            max_batch=_positive_int(environ, MAX_BATCH_VARIABLE, DEFAULT_MAX_BATCH),
            workers=_positive_int(environ, WORKERS_VARIABLE, 1),
        )


def read_api_key(path: Path) -> str:
    """The key in ``path`` (its first line, surrounding white space removed)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise BounceMLError(f"{path}: cannot read the API key file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise BounceMLError(f"{path}: the API key file is not UTF-8 text") from None
    key = lines[0].strip() if lines else ""
    if not key:
        raise BounceMLError(f"{path}: the API key file is empty")
    return key


def _api_key(environ: Mapping[str, str]) -> str | None:
    key_file = environ.get(API_KEY_FILE_VARIABLE)
    if key_file:
        return read_api_key(Path(key_file))
    key = environ.get(API_KEY_VARIABLE, "").strip()
    return key or None


def _positive_int(environ: Mapping[str, str], variable: str, default: int) -> int:
    value = environ.get(variable)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number <= 0:
        raise BounceMLError(f"{variable}={value!r}: expected a positive whole number")
    return number
