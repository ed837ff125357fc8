"""Training and evaluation with scikit-learn."""
