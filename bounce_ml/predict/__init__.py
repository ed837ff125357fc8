"""Prediction: the numpy scorer, the decision policy, batches and output.

Nothing here imports scikit-learn: prediction starts fast and runs where it is not installed.
"""
