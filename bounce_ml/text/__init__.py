"""Text normalisation and tokenisation, shared by rules, training and prediction."""
