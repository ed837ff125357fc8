"""bounce-ml: say what went wrong with a bounced email, how sure, and what to do."""

from typing import Any

from bounce_ml.errors import BounceMLError
from bounce_ml.mail.records import BounceRecord
from bounce_ml.predict.classifier import Classifier, Prediction, classify

__all__ = ["BounceMLError", "BounceRecord", "Classifier", "Prediction", "classify"]


def __getattr__(name: str) -> Any:
    # __version__ is read from the installed metadata on first use: importing
    # importlib.metadata costs a third of `bounce-ml predict`'s start-up budget.
    if name == "__version__":
        from importlib.metadata import version

        return version("bounce-ml")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
