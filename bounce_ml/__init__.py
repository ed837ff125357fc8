"""bounce-ml: say what went wrong with a bounced email, how sure, and what to do."""

from importlib.metadata import version

from bounce_ml.errors import BounceMLError
from bounce_ml.mail.records import BounceRecord
from bounce_ml.predict.classifier import Classifier, Prediction, classify

__all__ = ["BounceMLError", "BounceRecord", "Classifier", "Prediction", "classify"]
__version__ = version("bounce-ml")
